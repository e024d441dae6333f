"""What the admins' live monitor shows, as pure functions of database rows and the clock.

A booth's summary (who waits, who is late, the call in progress and its quality) and its
alerts are computed here from rows loaded by rtc/monitor_store.py, so every process and
every restart computes the same thing. A school admin's summary is cut to that school's
students: another school's students are neither named nor counted.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import sqlalchemy as sa

from app.workflow import NotAllowed

from . import quality
from .queue import TicketState
from .tickets import Booth, queue_view

# Why these thresholds: a promise is an estimate from a median, so a wait is "far longer"
# only when it is half again as long and ten minutes over (a 4-minute promise kept at 8
# minutes is normal noise; one at 30 is not).
WAIT_OVER_FACTOR = 1.5
WAIT_OVER_MIN_SECONDS = 10 * 60
# A poor call recovers by itself within seconds more often than not; after a minute the
# people in it are struggling and support should look.
POOR_CALL_SECONDS = 60
# One or two missed calls happen in any booth; three or more that are a third of the calls
# mean students were not told, or the slots are wrong.
NO_SHOW_MIN = 3
NO_SHOW_RATE = 1 / 3
SIDES = ("student", "employer")
SESSION_LABELS = {"scheduled": "未开始", "open": "进行中", "ended": "已结束", "closed": "已关闭"}


@dataclass
class BoothFacts:
    """Everything the monitor needs about one booth, loaded in a few batched queries."""
    booth: Booth
    late: list[sa.Row] = field(default_factory=list)
    watchers: list[str] = field(default_factory=list)     # interviewers with the room open
    quality: dict[int, dict[str, sa.Row]] = field(default_factory=dict)  # ticket → side → row
    schools: set[int] = field(default_factory=set)        # schools with students invited here


# ---- call quality samples -------------------------------------------------------------

@dataclass(frozen=True)
class Sample:
    rtt_ms: float | None
    loss: float
    out_kbps: float
    in_kbps: float
    fps: float
    width: int
    height: int
    relay: bool

    @property
    def verdict(self) -> quality.Verdict:
        return quality.judge(self.rtt_ms, self.loss)


def _number(data: Mapping[str, Any], key: str, top: float, *, optional: bool = False) -> float | None:
    value = data.get(key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0 <= value <= top:
        raise NotAllowed("通话质量数据格式不正确")
    return float(value)


def parse_sample(data: Any) -> Sample:
    """A browser's getStats summary: validated, or refused as a whole."""
    if not isinstance(data, dict):
        raise NotAllowed("通话质量数据格式不正确")
    return Sample(rtt_ms=_number(data, "rtt_ms", 60_000, optional=True),
                  loss=_number(data, "loss", 1.0), out_kbps=_number(data, "out_kbps", 100_000),
                  in_kbps=_number(data, "in_kbps", 100_000), fps=_number(data, "fps", 240),
                  width=int(_number(data, "width", 8192)), height=int(_number(data, "height", 8192)),
                  relay=data.get("relay") is True)


# Samples closer together than this are dropped: a misbehaving page must not flood the
# database (the browser sends one every 5 s).
MIN_SAMPLE_GAP_SECONDS = 2.0
# A gap longer than this (a reload, a lost connection) does not count as poor time.
MAX_COUNTED_GAP_SECONDS = 30.0


def accumulate(prev: sa.Row | None, s: Sample, now: dt.datetime) -> dict[str, Any]:
    """The call_quality row after one more sample (its columns, ready to write)."""
    poor = s.verdict == quality.Verdict.POOR
    last = {"last_at": now, "rtt_ms": s.rtt_ms, "loss": s.loss, "out_kbps": s.out_kbps,
            "in_kbps": s.in_kbps, "fps": s.fps, "width": s.width, "height": s.height,
            "relay": s.relay, "verdict": s.verdict.value}
    rtt = s.rtt_ms if s.rtt_ms is not None else 0.0
    has_rtt = int(s.rtt_ms is not None)
    if prev is None:
        return {**last, "samples": 1, "first_at": now, "rtt_samples": has_rtt, "rtt_sum": rtt,
                "rtt_max": rtt, "loss_sum": s.loss, "loss_max": s.loss, "out_kbps_sum": s.out_kbps,
                "in_kbps_sum": s.in_kbps, "fps_sum": s.fps, "relay_samples": int(s.relay),
                "poor_samples": int(poor), "poor_since": now if poor else None,
                "poor_seconds": 0.0}
    gap = (now - prev.last_at).total_seconds()
    counted = gap if (poor and prev.poor_since is not None and gap <= MAX_COUNTED_GAP_SECONDS) else 0.0
    return {**last, "samples": prev.samples + 1, "rtt_samples": prev.rtt_samples + has_rtt,
            "rtt_sum": prev.rtt_sum + rtt, "rtt_max": max(prev.rtt_max, rtt),
            "loss_sum": prev.loss_sum + s.loss, "loss_max": max(prev.loss_max, s.loss),
            "out_kbps_sum": prev.out_kbps_sum + s.out_kbps,
            "in_kbps_sum": prev.in_kbps_sum + s.in_kbps, "fps_sum": prev.fps_sum + s.fps,
            "relay_samples": prev.relay_samples + int(s.relay),
            "poor_samples": prev.poor_samples + int(poor),
            "poor_since": (prev.poor_since or now) if poor else None,
            "poor_seconds": prev.poor_seconds + counted}


def too_soon(prev: sa.Row | None, now: dt.datetime) -> bool:
    return prev is not None and (now - prev.last_at).total_seconds() < MIN_SAMPLE_GAP_SECONDS


def quality_view(row: sa.Row) -> dict[str, Any]:
    """One side of a call as the monitor and the report show it: the last figures and the
    call's averages."""
    n = max(row.samples, 1)
    return {"verdict": row.verdict, "verdict_label": quality.Verdict(row.verdict).label,
            "rtt_ms": None if row.rtt_ms is None else round(row.rtt_ms),
            "loss_pct": round(row.loss * 100, 1), "out_kbps": round(row.out_kbps),
            "in_kbps": round(row.in_kbps), "fps": round(row.fps, 1),
            "resolution": f"{row.width}×{row.height}" if row.width else "",
            "path": "中继" if row.relay else "直连",
            "poor_since": row.poor_since.isoformat() if row.poor_since else None,
            "avg_rtt_ms": round(row.rtt_sum / row.rtt_samples) if row.rtt_samples else None,
            "max_rtt_ms": round(row.rtt_max), "avg_loss_pct": round(row.loss_sum / n * 100, 1),
            "avg_out_kbps": round(row.out_kbps_sum / n), "avg_in_kbps": round(row.in_kbps_sum / n),
            "avg_fps": round(row.fps_sum / n, 1), "samples": row.samples,
            "poor_seconds": round(row.poor_seconds)}


def poor_for(rows: Mapping[str, sa.Row], now: dt.datetime) -> float:
    """How long the worse side of a call has been poor without a break (0: not poor)."""
    return max([(now - r.poor_since).total_seconds() for r in rows.values() if r.poor_since] or [0.0])


# ---- booth summaries and alerts ---------------------------------------------------------

def summarize(facts: BoothFacts, now: dt.datetime, waiter_grace: dt.timedelta,
              school_id: int | None = None) -> dict[str, Any]:
    """One booth as the monitor shows it; school_id cuts it to that school's students."""
    booth = facts.booth

    def ours(row: sa.Row) -> bool:
        return school_id is None or row.school_id == school_id

    places = queue_view(booth, now, waiter_grace)
    rows = [r for r in booth.rows if ours(r)]
    waiting = sorted((r for r in rows if r.id in places), key=lambda r: places[r.id]["position"])
    late = [r for r in facts.late if ours(r)]
    count = lambda *states: sum(1 for r in rows if r.status in states)  # noqa: E731
    current = booth.current_call()
    oldest = min((r.arrived_at for r in waiting), default=None)
    session = booth.session
    summary: dict[str, Any] = {
        "session_id": session.id, "employer": booth.employer_name, "day": session.day.isoformat(),
        "starts_at": session.starts_at.isoformat(), "ends_at": session.ends_at.isoformat(),
        "status": session.status, "status_label": SESSION_LABELS.get(session.status, session.status),
        "closed_reason": session.closed_reason, "interviewers": sorted(set(facts.watchers)),
        "counts": {"present": len(waiting) + sum(1 for r in rows if r.status in (
                       TicketState.CALLED, TicketState.IN_CALL)),
                   "waiting": len(waiting), "late": len(late),
                   "no_show": count(TicketState.NO_SHOW), "done": count(TicketState.DONE)},
        # positions only: the waits' estimates change every second of a call, and the
        # monitor would resend every busy booth on every tick for nothing
        "waiting": [{"ticket_id": r.id, "name": r.student_name, "arrived_at": r.arrived_at.isoformat(),
                     "connected": r.connected, "position": places[r.id]["position"]}
                    for r in waiting],
        "late": [{"interview_id": r.id, "name": r.name, "slot_at": r.starts_at.isoformat()}
                 for r in late],
        "longest_wait_since": oldest.isoformat() if oldest else None,
        "call": None,
    }
    if current is not None:
        summary["call"] = _call_view(current, facts.quality.get(current.id, {}), now,
                                     shown=ours(current))
    summary["alerts"] = alerts(facts, summary, rows, waiting, now, school_id)
    return summary


def _call_view(row: sa.Row, sides: Mapping[str, sa.Row], now: dt.datetime, *,
               shown: bool) -> dict[str, Any]:
    started = row.call_started_at or row.called_at
    view: dict[str, Any] = {"status": row.status, "started_at": started.isoformat() if started else None}
    if not shown:  # another school's student: the booth is busy, nothing more
        return {**view, "other_school": True}
    verdicts = [quality.Verdict(r.verdict) for r in sides.values()]
    worst = min(verdicts, key=lambda v: v.rank) if verdicts else None
    return {**view, "ticket_id": row.id, "name": row.student_name,
            "quality": {side: quality_view(sides[side]) for side in SIDES if side in sides},
            "verdict": worst.value if worst else None, "verdict_label": worst.label if worst else "",
            "poor_seconds": round(poor_for(sides, now))}


def alerts(facts: BoothFacts, summary: Mapping[str, Any], rows: list[sa.Row],
           waiting: list[sa.Row], now: dt.datetime, school_id: int | None) -> list[dict[str, Any]]:
    session = facts.booth.session
    found: list[dict[str, Any]] = []
    if session.status in ("ended", "closed"):
        return found
    for r in waiting:
        if r.promised_eta_seconds is None:
            continue
        waited = (now - r.arrived_at).total_seconds()
        if waited > r.promised_eta_seconds + max(WAIT_OVER_MIN_SECONDS,
                                                 r.promised_eta_seconds * (WAIT_OVER_FACTOR - 1)):
            found.append({"kind": "wait_overdue", "ticket_id": r.id,
                          "text": f"{r.student_name} 已等待 {round(waited / 60)} 分钟，"
                                  f"远超预计的 {max(1, round(r.promised_eta_seconds / 60))} 分钟"})
    has_students = bool(rows) or bool(facts.late)
    if session.starts_at <= now and not facts.watchers and has_students:
        found.append({"kind": "employer_absent",
                      "text": f"首个面试时段已过 {max(0, round((now - session.starts_at).total_seconds() / 60))} 分钟，单位面试官不在面试间"})
    call = summary.get("call")
    if call and not call.get("other_school") and call.get("poor_seconds", 0) >= POOR_CALL_SECONDS:
        found.append({"kind": "poor_call", "ticket_id": call["ticket_id"],
                      "text": f"与 {call['name']} 的通话质量较差已超过 {call['poor_seconds'] // 60} 分钟"})
    no_show = summary["counts"]["no_show"]
    held = no_show + summary["counts"]["done"]
    if no_show >= NO_SHOW_MIN and no_show / held >= NO_SHOW_RATE:
        found.append({"kind": "no_show_rate",
                      "text": f"未到率偏高：{no_show}/{held}（{round(100 * no_show / held)}%）"})
    return found
