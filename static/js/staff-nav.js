// The staff navigation folds behind 工作菜单 on a phone (one tap away), open on a desktop.
(function () {
  const fold = document.getElementById("staff-nav-fold");
  if (fold && window.matchMedia("(max-width: 700px)").matches) fold.open = false;
})();
