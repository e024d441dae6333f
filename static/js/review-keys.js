// Review pages: A focuses 【通过】 (Enter then confirms), R the reason, N opens 【下一条】.
// Keys do nothing while typing in a field, or with a modifier held.
(function () {
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    const target = document.querySelector(`[data-key="${event.key.toLowerCase()}"]`);
    if (!target) return;
    event.preventDefault();
    if (target.tagName.toLowerCase() === "a") target.click(); else target.focus();
  });
})();
