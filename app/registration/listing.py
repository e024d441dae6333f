"""The 就业信息登记 queue as a staff list (app/lists): a counselor's college (待学院审核 first)
or a school admin's school (待学校审核 first), filtered by 状态, 学院/专业/学历/毕业年份,
毕业去向, 送审 dates and 学号/姓名, sorted by any column (the longest waiting first by
default), and decided in batches. Drafts are the student's own business: never listed."""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Mapping

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..auth.sessions import Identity
from ..destinations.codes import DESTINATIONS, label as destination_label
from ..lists import batch
from ..lists.spec import Choice, Column, DateRange, ListSpec, Resolved, resolve
from ..roles import Role
from ..clock import china_time
from ..roster.filters import STUDENT_COLUMNS, options, scope_of, student_filters
from ..tables import colleges, majors, student_records as sr
from . import service
from .branches import BRANCHES
from .flows import REGISTRATION_FLOW, RegState
from .tables import registrations as r

# What a reviewer may list by: every state but the student's draft.
STATES = [(s, label) for s, label in REGISTRATION_FLOW.state_labels.items() if s != RegState.DRAFT]
# The 毕业去向 a registration can hold (10 comes only from an agreement), labelled as
# everywhere else.
CODES = [(code, DESTINATIONS[code].label) for code in DESTINATIONS if code in BRANCHES]


def default_state(ident: Identity) -> str:
    """The state a reviewer starts on: the one that waits for them."""
    return RegState.SUBMITTED.value if ident.role == Role.COUNSELOR else RegState.COLLEGE_OK.value


def spec(ident: Identity) -> ListSpec:
    return ListSpec(
        route="registration_queue",
        filters=(
            Choice("status", "状态", lambda v: r.c.status == v, options=STATES,
                   default=default_state(ident)),
            *student_filters(r.c.college_id),
            Choice("code", "毕业去向", lambda v: r.c.code == v, options=CODES),
            DateRange("sent", "送审日期", r.c.submitted_at),
        ),
        columns=(
            Column("student_no", "学号", sr.c.student_no), Column("name", "姓名", sr.c.name),
            Column("college", "学院", colleges.c.code), Column("major", "专业", majors.c.code),
            Column("year", "毕业年份", sr.c.graduation_year),
            Column("code", "毕业去向", r.c.code), Column("status", "状态", r.c.status),
            Column("sent", "送审时间", r.c.submitted_at),
        ),
        default_sort="sent", tiebreak=r.c.id)


def _joined(stmt: sa.Select, ident: Identity) -> sa.Select:
    return (stmt.join(sr, sr.c.id == r.c.student_record_id)
            .join(colleges, colleges.c.id == r.c.college_id)
            .join(majors, majors.c.id == sr.c.major_id)
            .where(service.scope(ident), r.c.status != RegState.DRAFT.value))


def rows(ident: Identity) -> sa.Select:
    # only what the list shows: the branch's JSON columns would make every sorted row wide
    return _joined(sa.select(
        r.c.id, r.c.status, r.c.code, r.c.sub_code, r.c.submitted_at,
        sr.c.id.label("record_id"), sr.c.student_no, sr.c.name, sr.c.graduation_year,
        sr.c.education, colleges.c.name.label("college_name"), majors.c.name.label("major_name")),
        ident)


async def read(conn: AsyncConnection, ident: Identity, query: Mapping[str, str]) -> Resolved:
    return resolve(spec(ident), query, await options(conn, scope_of(ident), query))


def ids(ident: Identity, resolved: Resolved) -> sa.Select:
    """The ids of every registration matching, in the list's order: what "select all" acts on."""
    return _joined(sa.select(r.c.id), ident).where(*resolved.where()).order_by(*resolved.order_by())


async def state_counts(conn: AsyncConnection, ident: Identity) -> dict[str, int]:
    return await service.status_counts(conn, ident)


def decide(ident: Identity, now: dt.datetime) -> Callable[[str, str | None], batch.Act]:
    """act(action, reason) for the batch handler: one registration's 通过 or 退回. The
    school's approval claims the destination after the state is written; when another holds
    it, the batch's savepoint takes this item back."""
    async def one(conn: AsyncConnection, reg: Any, action: str, reason: str | None) -> None:
        await service.review(conn, ident, reg.id, action, reason=reason, now=now)
    return batch.decisions(lambda conn, reg_id: service.item(conn, ident, reg_id), one)


EXPORT = (*STUDENT_COLUMNS, ("状态", lambda r: REGISTRATION_FLOW.state_label(r.status)),
          ("毕业去向代码", lambda r: r.code or ""),
          ("毕业去向", lambda r: destination_label(r.code) if r.code else ""),
          ("送审时间", lambda r: china_time(r.submitted_at)))
