// Judging and naming connection quality with the one table of rtc/quality.py, which the page
// gives as data-quality (thresholds and labels): the device check, the call and the
// monitor (whose verdicts the server makes) say 良好 / 可用 / 较差 for the same figures.
(function () {
  "use strict";

  function fromElement(el) {
    const table = JSON.parse(el.dataset.quality);
    return {
      labels: table.labels,
      // rttMs: a round trip in ms, null when none came back; loss: a fraction 0…1
      judge(rttMs, loss) {
        if (rttMs === null || rttMs === undefined) return "poor";
        if (rttMs < table.goodRttMs && loss < table.goodLoss) return "good";
        if (rttMs < table.usableRttMs && loss < table.usableLoss) return "usable";
        return "poor";
      },
    };
  }

  window.Quality = { fromElement: fromElement };
})();
