// 【打印推荐表】: the print button opens the browser's print dialog.
(function () {
  const button = document.getElementById("print-button");
  if (button) button.addEventListener("click", () => window.print());
})();
