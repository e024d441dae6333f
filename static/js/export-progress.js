// Polls an export job: rows written / total and the time left; offers the file when done.
(function () {
  const box = document.getElementById("export-progress");
  const ENDED = ["done", "failed", "expired"];
  if (!box || ENDED.includes(box.dataset.status)) return;
  const bar = document.getElementById("export-bar");
  const text = document.getElementById("export-text");
  const link = document.getElementById("export-download");
  const n = (v) => Number(v || 0).toLocaleString("zh-CN");
  function left(seconds) {
    if (seconds === null || seconds === undefined) return "";
    return seconds < 60 ? `，预计还需 ${seconds} 秒` : `，预计还需 ${Math.ceil(seconds / 60)} 分钟`;
  }
  async function poll() {
    try {
      const res = await fetch(box.dataset.statusUrl, { credentials: "same-origin" });
      if (res.ok) {
        const s = await res.json();
        box.dataset.status = s.status;
        if (s.total !== null) bar.max = Math.max(s.total, 1);
        bar.value = s.processed;
        if (s.status === "done") {
          bar.value = bar.max;
          text.textContent = `导出完成：共 ${n(s.processed)} 行。`;
          link.href = s.download;
          link.hidden = false;
          return;
        }
        if (s.status === "failed") { text.textContent = `导出失败：${s.message || ""}`; return; }
        if (s.status === "queued") text.textContent = "排队中，马上开始…";
        else text.textContent = `正在导出：已写入 ${n(s.processed)}` +
          (s.total !== null ? ` / ${n(s.total)}` : "") + ` 行${left(s.eta_seconds)}…`;
      }
    } catch (e) {
      // network blip: keep polling
    }
    setTimeout(poll, 700);
  }
  poll();
})();
