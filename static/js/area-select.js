// An area by province → city → county (生源所在地, 单位所在地 …). Without this script the page
// shows one select of every county-level code (it still works); with it, two selects narrow
// that list. Each box is an element with class "area-cascade" (or the id "area-cascade")
// holding the county select; data-label names the area ("生源所在地" when absent).
(function () {
  const boxes = new Set(document.querySelectorAll(".area-cascade, #area-cascade"));
  for (const box of boxes) cascade(box);

  function cascade(box) {
    const county = box.querySelector("select");
    const tree = JSON.parse(box.dataset.areas);
    const name = box.dataset.label || "生源所在地";
    const base = county.id.replace(/_area$/, "");
    const original = county.value;
    const countyField = county.closest(".field");

    function makeSelect(id, label) {
      const wrap = document.createElement("div");
      wrap.className = "field";
      const lab = document.createElement("label");
      lab.htmlFor = id;
      lab.textContent = label;
      const sel = document.createElement("select");
      sel.id = id;
      wrap.append(lab, sel);
      box.insertBefore(wrap, countyField);
      return sel;
    }
    function fill(sel, items, placeholder) {
      sel.replaceChildren(new Option(placeholder, ""));
      for (const it of items) sel.add(new Option(it.name, it.code));
    }
    const province = makeSelect(base + "_province", name + "（省）");
    const city = makeSelect(base + "_city", name + "（市）");
    const countyLabel = box.querySelector("label[for='" + county.id + "']");
    if (countyLabel) countyLabel.textContent = name + "（区县）";

    function findProvince(code) { return tree.find((p) => p.code === code); }
    function findCity(p, code) { return p ? p.cities.find((c) => c.code === code) : undefined; }
    function showCities() {
      const p = findProvince(province.value);
      fill(city, p ? p.cities : [], "请选择市");
      showCounties();
    }
    function showCounties() {
      const c = findCity(findProvince(province.value), city.value);
      fill(county, c ? c.counties : [], "请选择区县");
    }
    fill(province, tree, "请选择省");
    province.addEventListener("change", showCities);
    city.addEventListener("change", showCounties);
    if (original) {
      province.value = original.slice(0, 2) + "0000";
      showCities();
      city.value = original.slice(0, 4) + "00";
      showCounties();
      county.value = original;
    } else {
      showCities();
    }
  }
})();
