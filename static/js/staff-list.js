// Staff lists: the filter bar folds behind 筛选 on a phone (unless it shows an error), and
// 全选本页 ticks every row of the page; "all N that match" is a plain form field.
(function () {
  const bar = document.querySelector("details.list-filters");
  if (bar && !bar.dataset.keepOpen && window.matchMedia("(max-width: 700px)").matches) {
    bar.open = false;
  }
  const all = document.querySelector("[data-pick-page]");
  if (!all) return;
  const rows = () => Array.from(document.querySelectorAll("input[name=id][type=checkbox]"));
  all.addEventListener("change", () => rows().forEach((box) => { box.checked = all.checked; }));
  const every = document.getElementById("pick-every");
  if (every) {
    every.addEventListener("change", () => {
      if (every.checked) { all.checked = true; rows().forEach((box) => { box.checked = true; }); }
    });
  }
})();
