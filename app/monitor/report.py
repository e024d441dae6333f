"""The hall report of one booth's day: wait times, interview lengths, no-shows and call
quality, as figures, charts (app/monitor/charts.py) and an .xlsx workbook.

A school admin's report holds only that school's students, like the live monitor.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from typing import Any, Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from rtc import monitor
from rtc.monitor_store import Scope, may_see
from rtc.queue import TICKET_LABELS, TicketState  # noqa: F401  (TICKET_LABELS: re-exported)

from ..lists.spec import Choice, Column, DateRange, ListSpec, Text
from ..clock import CHINA
from ..tables import (accounts, call_quality, employers, hall_tickets, interview_sessions,
                      interviews, schools)
from ..xlsx import Sheet

# Buckets in minutes, the upper bound excluded; None: open-ended.
WAIT_BUCKETS = ((0, 5), (5, 10), (10, 20), (20, 30), (30, 60), (60, None))
LENGTH_BUCKETS = ((0, 5), (5, 10), (10, 15), (15, 20), (20, 30), (30, None))


@dataclass
class Visit:
    """One student's ticket in the booth, with its times and call quality."""
    ticket_id: int
    name: str
    school: str
    slot_at: dt.datetime | None
    arrived_at: dt.datetime
    call_started_at: dt.datetime | None
    finished_at: dt.datetime | None
    status: str
    outcome: str | None
    reason: str | None
    quality: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def wait_seconds(self) -> float | None:
        return (self.call_started_at - self.arrived_at).total_seconds() if self.call_started_at else None

    @property
    def length_seconds(self) -> float | None:
        if self.status != TicketState.DONE or not (self.call_started_at and self.finished_at):
            return None
        return (self.finished_at - self.call_started_at).total_seconds()


@dataclass
class Report:
    session: sa.Row
    employer: str
    visits: list[Visit]
    invited: int

    def counts(self) -> list[tuple[str, int]]:
        return [(label, sum(1 for v in self.visits if v.status == state))
                for state, label in TICKET_LABELS.items()]

    @property
    def waits(self) -> list[float]:
        return [v.wait_seconds for v in self.visits if v.wait_seconds is not None]

    @property
    def lengths(self) -> list[float]:
        return [v.length_seconds for v in self.visits if v.length_seconds is not None]

    def figure_values(self) -> list[tuple[str, float | int | None, str]]:
        """The headline figures: label, value (a number, None when there is none), unit."""
        no_show = sum(1 for v in self.visits if v.status == TicketState.NO_SHOW)
        done = sum(1 for v in self.visits if v.status == TicketState.DONE)
        calls = [v.quality for v in self.visits if v.quality]
        poor = sum(1 for q in calls if any(side["poor_seconds"] >= monitor.POOR_CALL_SECONDS
                                           for side in q.values()))
        return [("邀请人数", self.invited, "人"), ("到场人数", len(self.visits), "人"),
                ("已面试", done, "人"), ("未到", no_show, "人"),
                ("未到率", round(100 * no_show / (no_show + done)) if no_show + done else None, "%"),
                ("等待时长中位数", _round_minutes(median(self.waits)), "分钟"),
                ("最长等待", _round_minutes(max(self.waits, default=None)), "分钟"),
                ("面试时长中位数", _round_minutes(median(self.lengths)), "分钟"),
                ("有质量数据的通话", len(calls), "次"), ("质量较差超过1分钟的通话", poor, "次")]

    def figures(self) -> list[tuple[str, str]]:
        """The headline figures, as label and text (the page)."""
        out = []
        for label, value, unit in self.figure_values():
            if value is None:
                out.append((label, "—"))
            elif unit == "%":
                out.append((label, f"{value}%"))
            elif unit == "分钟":
                out.append((label, f"{value:.1f} 分钟"))
            else:
                out.append((label, str(value)))
        return out

    def sheets(self) -> list[Sheet]:
        """概况, 面试明细 and 通话质量: what the page shows, for the office's own records, with
        figures as numbers and times as dates."""
        summary = [["单位", self.employer, ""], ["日期", self.session.day, ""],
                   *[[label, value, unit] for label, value, unit in self.figure_values()],
                   *[[f"状态：{label}", n, "人"] for label, n in self.counts()]]
        detail = [[v.name, v.school, _local(v.slot_at) or "随到随面", _local(v.arrived_at),
                   _local(v.call_started_at), _local(v.finished_at), _round_minutes(v.wait_seconds),
                   _round_minutes(v.length_seconds), TICKET_LABELS.get(v.status, v.status),
                   v.outcome or "", v.reason or ""] for v in self.visits]
        calls = [[v.name, "学生" if side == "student" else "单位", q["samples"], q["avg_rtt_ms"],
                  q["max_rtt_ms"], q["avg_loss_pct"], q["avg_out_kbps"], q["avg_in_kbps"],
                  q["avg_fps"], q["resolution"], q["path"], q["poor_seconds"], q["verdict_label"]]
                 for v in self.visits for side in monitor.SIDES
                 for q in [v.quality.get(side)] if q]
        return [Sheet("概况", ["项目", "数值", "单位"], summary),
                Sheet("面试明细", ["学生", "学校", "预约时间", "到达时间", "开始面试", "结束时间",
                                 "等待(分钟)", "面试时长(分钟)", "状态", "面试结果", "说明"], detail),
                Sheet("通话质量", ["学生", "端", "采样次数", "平均往返时延(ms)", "最大往返时延(ms)",
                                 "平均丢包(%)", "平均上行(kbps)", "平均下行(kbps)", "平均帧率", "分辨率",
                                 "路径", "较差时长(秒)", "评价"], calls)]


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def histogram(values: Sequence[float], buckets: Sequence[tuple[int, int | None]]) -> list[tuple[str, int]]:
    """Counts of values (seconds) per bucket of minutes."""
    out = []
    for low, high in buckets:
        label = f"{low}–{high} 分钟" if high is not None else f"{low} 分钟以上"
        out.append((label, sum(1 for v in values
                               if v / 60 >= low and (high is None or v / 60 < high))))
    return out


def sessions_spec(labels: dict[str, str]) -> ListSpec:
    """面试大厅报告's list: booths by day, state and employer, newest day first."""
    s = interview_sessions
    return ListSpec(
        route="hall_reports",
        filters=(Choice("status", "状态", lambda v: s.c.status == v, options=list(labels.items())),
                 DateRange("day", "日期", s.c.day, dates=True),
                 Text("q", "单位名称", (employers.c.name,))),
        columns=(Column("day", "日期", s.c.day), Column("employer", "单位", employers.c.name),
                 Column("status", "状态", s.c.status)),
        default_sort="-day", tiebreak=s.c.id)


def sessions_for(scope: Scope) -> sa.Select:
    """Booths the scope may report on (a school: those where its students were invited)."""
    s = interview_sessions
    stmt = (sa.select(s.c.id, s.c.day, s.c.status, s.c.starts_at, employers.c.name.label("employer"))
            .join(employers, employers.c.id == s.c.employer_id))
    if scope.school_id is not None:
        stmt = stmt.where(s.c.id.in_(
            sa.select(interviews.c.session_id).join(accounts, accounts.c.id == interviews.c.account_id)
            .where(accounts.c.school_id == scope.school_id)))
    return stmt


async def build(conn: AsyncConnection, session_id: int, scope: Scope) -> Report | None:
    if not await may_see(conn, session_id, scope):
        return None
    session = (await conn.execute(
        sa.select(interview_sessions, employers.c.name.label("employer"))
        .join(employers, employers.c.id == interview_sessions.c.employer_id)
        .where(interview_sessions.c.id == session_id))).one()
    t = hall_tickets
    stmt = (sa.select(t, accounts.c.display_name, schools.c.name.label("school"), interviews.c.outcome)
            .join(accounts, accounts.c.id == t.c.account_id)
            .outerjoin(schools, schools.c.id == accounts.c.school_id)
            .outerjoin(interviews, interviews.c.id == t.c.interview_id)
            .where(t.c.session_id == session_id).order_by(t.c.arrived_at, t.c.id))
    invited = (sa.select(sa.func.count()).select_from(interviews)
               .join(accounts, accounts.c.id == interviews.c.account_id)
               .where(interviews.c.session_id == session_id))
    if scope.school_id is not None:
        stmt = stmt.where(accounts.c.school_id == scope.school_id)
        invited = invited.where(accounts.c.school_id == scope.school_id)
    visits = [Visit(ticket_id=r.id, name=r.display_name, school=r.school or "", slot_at=r.slot_at,
                    arrived_at=r.arrived_at, call_started_at=r.call_started_at,
                    finished_at=r.finished_at, status=r.status, outcome=r.outcome,
                    reason=r.closed_reason) for r in await conn.execute(stmt)]
    by_id = {v.ticket_id: v for v in visits}
    if by_id:
        for q in await conn.execute(sa.select(call_quality).where(
                call_quality.c.ticket_id.in_(list(by_id)))):
            by_id[q.ticket_id].quality[q.side] = monitor.quality_view(q)
    return Report(session=session, employer=session.employer, visits=visits,
                  invited=(await conn.execute(invited)).scalar_one())


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    """China's wall-clock time, as the workbook's date cells show it."""
    return moment.astimezone(CHINA).replace(tzinfo=None) if moment else None


def _round_minutes(seconds: float | None) -> float | None:
    return round(seconds / 60, 1) if seconds is not None else None
