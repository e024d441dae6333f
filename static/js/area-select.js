// An area code by province → city → county (生源所在地, and 单位所在地 / 入伍地 in 就业信息登记).
// Without this script the page shows one select of every county-level code (it still works);
// with it, two selects narrow that list. The box's data-label names the field (default 生源所在地).
(function () {
  const box = document.getElementById("area-cascade");
  if (!box) return;
  const county = box.querySelector("select");
  const tree = JSON.parse(box.dataset.areas);
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
  const name = box.dataset.label || "生源所在地";
  const stem = county.id === "f-origin_area" ? "f-origin" : county.id;
  const province = makeSelect(stem + "_province", name + "（省）");
  const city = makeSelect(stem + "_city", name + "（市）");
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
})();
