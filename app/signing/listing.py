"""The 就业协议书 review queue as a staff list (app/lists): a counselor's college or a school
admin's school, filtered by state (待我审核 by default: 待学院审核 for a counselor, 待学校审核
and 盖章协议书待学校审核 for a school admin), 学院/专业/学历/毕业年份, 方式, 单位, text and the
date of the last change, sorted by any column (the longest waiting first by default), and
decided in batches.

The date is `updated_at`: every step of both flows writes it, so for an agreement waiting
for review it is the moment it was sent to that review (同意签约, the college's 通过, the
upload of the stamped copy), and for any other the moment it reached its state."""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Mapping

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..auth.sessions import Identity
from ..lists import batch
from ..lists.spec import Choice, Column, DateRange, ListSpec, Resolved, Text, resolve
from ..clock import china_time
from ..roster.filters import STUDENT_COLUMNS, options, scope_of, student_filters
from ..tables import colleges, employers, majors, student_records as sr
from .flows import STATE_LABELS
from .review import STAFF_VISIBLE, WAITING, decide as decide_one
from .service import item, scope
from .tables import agreements as ag

WAITING_VALUE = "waiting"   # ?status=waiting: what waits for this reviewer (the 待办 link)
CHANNELS = (("online", "线上应约"), ("offline", "线下签约"))
# the unit as the list shows it: a registered employer's name, else the one typed on the paper
UNIT = sa.func.coalesce(employers.c.name, ag.c.data["unit_name"].as_string())


def waiting(ident: Identity) -> list[str]:
    return [s.value for s in WAITING.get(ident.role, ())]


def status_options(ident: Identity) -> list[tuple[str, str]]:
    return [(WAITING_VALUE, "待我审核"), *((s, STATE_LABELS[s]) for s in STAFF_VISIBLE)]


def spec(ident: Identity) -> ListSpec:
    mine = waiting(ident)

    def status(v: str) -> Any:
        return ag.c.status.in_(mine) if v == WAITING_VALUE else ag.c.status == v
    return ListSpec(
        route="agreement_queue",
        filters=(
            Choice("status", "状态", status, options=status_options(ident), default=WAITING_VALUE),
            *student_filters(ag.c.college_id, text_label="学号、姓名或编号",
                             text=(sr.c.student_no, sr.c.name, ag.c.number)),
            Choice("channel", "方式", lambda v: ag.c.channel == v, options=CHANNELS),
            Text("unit", "用人单位", (UNIT,)),
            DateRange("updated", "更新日期", ag.c.updated_at),
        ),
        columns=(
            Column("student_no", "学号", sr.c.student_no), Column("name", "姓名", sr.c.name),
            Column("college", "学院", colleges.c.code), Column("major", "专业", majors.c.code),
            Column("unit", "用人单位", UNIT), Column("channel", "方式", ag.c.channel),
            Column("status", "状态", ag.c.status), Column("updated", "更新时间", ag.c.updated_at),
        ),
        default_sort="updated", tiebreak=ag.c.id)


def _joined(stmt: sa.Select, ident: Identity) -> sa.Select:
    return (stmt.select_from(ag).join(sr, sr.c.id == ag.c.student_record_id)
            .join(colleges, colleges.c.id == ag.c.college_id)
            .join(majors, majors.c.id == sr.c.major_id)
            .outerjoin(employers, employers.c.id == ag.c.employer_id)
            .where(scope(ident), ag.c.status.in_(STAFF_VISIBLE)))


def rows(ident: Identity) -> sa.Select:
    # only what the list shows: the agreement's JSON would make every sorted row wide
    return _joined(sa.select(
        ag.c.id, ag.c.status, ag.c.channel, ag.c.number, ag.c.updated_at,
        sr.c.id.label("record_id"), sr.c.student_no, sr.c.name, sr.c.education,
        sr.c.graduation_year, colleges.c.name.label("college_name"),
        majors.c.name.label("major_name"), UNIT.label("unit_name")), ident)


async def read(conn: AsyncConnection, ident: Identity, query: Mapping[str, str]) -> Resolved:
    return resolve(spec(ident), query, await options(conn, scope_of(ident), query))


def ids(ident: Identity, resolved: Resolved) -> sa.Select:
    """The ids of every agreement matching, in the list's order: what "select all" acts on."""
    return _joined(sa.select(ag.c.id), ident).where(*resolved.where()).order_by(*resolved.order_by())


async def state_counts(conn: AsyncConnection, ident: Identity) -> dict[str, int]:
    """Agreements per state in the reviewer's scope; under "waiting" what waits for them, under
    "" all of them (the 全部 tab)."""
    counts = {s: n for s, n in await conn.execute(
        sa.select(ag.c.status, sa.func.count()).where(scope(ident), ag.c.status.in_(STAFF_VISIBLE))
        .group_by(ag.c.status))}
    counts[WAITING_VALUE] = sum(counts.get(s, 0) for s in waiting(ident))
    counts[""] = sum(n for s, n in counts.items() if s in STAFF_VISIBLE)
    return counts


def decide(ident: Identity, now: dt.datetime) -> Callable[[str, str | None], batch.Act]:
    """act(action, reason) for the batch handler: one agreement's 通过 or 退回, by the rules of
    one decision (app/signing/review.decide); a refusal after a partial write (the 毕业去向
    claimed, then the state found changed) is taken back by the batch's savepoint."""
    async def find(conn: AsyncConnection, agreement_id: int) -> Any:
        row = await item(conn, ident, agreement_id)
        return row if row is not None and row.status in STAFF_VISIBLE else None

    async def one(conn: AsyncConnection, row: Any, action: str, reason: str | None) -> None:
        await decide_one(conn, ident, row.id, action, reason=reason, now=now)
    return batch.decisions(find, one, name=lambda row: f"{row.student_name}（{row.student_no}）")


EXPORT = (*STUDENT_COLUMNS, ("方式", lambda r: "线上应约" if r.channel == "online" else "线下签约"),
          ("用人单位", lambda r: r.unit_name or ""), ("编号", lambda r: r.number or ""),
          ("状态", lambda r: STATE_LABELS.get(r.status, r.status)),
          ("更新时间", lambda r: china_time(r.updated_at)))
