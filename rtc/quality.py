"""The verdict of a connectivity probe: 良好 / 可用 / 较差 from round-trip times and loss.

Pure: the browser (static/js/probe.js, thresholds passed in the page) and the aiortc bot
both report figures that this module, and only this module, turns into a verdict. The
browser's pages (the device check, the call, the monitor through the server) get the same
table of thresholds and labels from `browser_table()`, read by static/js/quality.js.
"""

from __future__ import annotations

import dataclasses
import enum
import statistics
from typing import Sequence

# Why these numbers: ITU-T G.114 puts one-way delay under 150 ms as unnoticeable in a
# conversation, so a round trip under 150 ms leaves headroom for jitter buffers and
# encoding; up to 400 ms round trip people talk over each other now and then but an
# interview still works. WebRTC's video codecs conceal a few percent of loss (NACK, FEC);
# beyond ~10 % the picture freezes and audio breaks up.
GOOD_RTT_MS = 150.0
GOOD_LOSS = 0.02
USABLE_RTT_MS = 400.0
USABLE_LOSS = 0.10


class Verdict(enum.StrEnum):
    GOOD = "good"
    USABLE = "usable"
    POOR = "poor"

    @property
    def label(self) -> str:
        return LABELS[self]

    @property
    def rank(self) -> int:
        """Higher is better."""
        return RANKS[self]


LABELS = {Verdict.GOOD: "良好", Verdict.USABLE: "可用", Verdict.POOR: "较差"}
RANKS = {Verdict.GOOD: 2, Verdict.USABLE: 1, Verdict.POOR: 0}


@dataclasses.dataclass(frozen=True)
class Figures:
    median_rtt_ms: float | None  # None: no ping came back
    loss: float                  # 0.0 … 1.0
    sent: int
    received: int


def verdict(rtt_ms_samples: Sequence[float], sent: int, received: int) -> tuple[Verdict, Figures]:
    if sent < 0 or not 0 <= received <= sent:
        raise ValueError(f"impossible counts: sent={sent}, received={received}")
    if any(s < 0 for s in rtt_ms_samples):
        raise ValueError("negative round-trip time")
    median = statistics.median(rtt_ms_samples) if rtt_ms_samples else None
    loss = (sent - received) / sent if sent else 1.0
    figures = Figures(median_rtt_ms=median, loss=loss, sent=sent, received=received)
    return judge(median, loss), figures


def judge(rtt_ms: float | None, loss: float) -> Verdict:
    """One round-trip time (None: nothing came back) and loss fraction → a verdict. The
    probe judges its median; a call judges each getStats summary its browsers send."""
    if rtt_ms is None:
        return Verdict.POOR
    if rtt_ms < GOOD_RTT_MS and loss < GOOD_LOSS:
        return Verdict.GOOD
    if rtt_ms < USABLE_RTT_MS and loss < USABLE_LOSS:
        return Verdict.USABLE
    return Verdict.POOR


def browser_table() -> dict[str, object]:
    """For the browser, so the pages judge and name quality with these numbers and words
    rather than copies of them (static/js/quality.js)."""
    return {"goodRttMs": GOOD_RTT_MS, "goodLoss": GOOD_LOSS,
            "usableRttMs": USABLE_RTT_MS, "usableLoss": USABLE_LOSS,
            "labels": {v.value: v.label for v in Verdict}}
