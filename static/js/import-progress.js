// Polls an import job's status and shows progress; reloads for the full report when done.
(function () {
  const box = document.getElementById("import-progress");
  const ENDED = ["done", "failed", "cancelled"];
  if (!box || ENDED.includes(box.dataset.status)) return;
  const bar = document.getElementById("import-bar");
  const text = document.getElementById("import-text");
  async function poll() {
    try {
      const res = await fetch(box.dataset.statusUrl, { credentials: "same-origin" });
      if (res.ok) {
        const s = await res.json();
        bar.max = Math.max(s.total, 1);
        bar.value = s.processed;
        text.textContent = `正在导入：已处理 ${s.processed} / ${s.total} 行…`;
        if (ENDED.includes(s.status)) {
          window.location.reload();
          return;
        }
      }
    } catch (e) {
      // network blip: keep polling
    }
    setTimeout(poll, 700);
  }
  poll();
})();
