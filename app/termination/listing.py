"""解约审核 as a staff list (app/lists): a counselor's college or a school admin's school,
filtered by 状态 (with 待我审核, the value the centres' 待办事项 link to), 学院/专业/学历/
毕业年份, 申请方, 解约原因, 提交日期 and text, sorted by any column (the longest waiting
first by default), and decided in batches: 通过 and 退回 with one reason, each item through
service.review, exactly as one decision on its own page."""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Mapping

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..auth.sessions import Identity
from ..lists import batch
from ..lists.spec import Choice, Column, DateRange, ListSpec, Resolved, resolve
from ..roles import Role
from ..clock import china_time
from ..roster.filters import STUDENT_COLUMNS, options, scope_of, student_filters
from ..signing.tables import agreements as ag
from ..tables import colleges, employers, majors, student_records as sr
from . import codes, service
from .flows import TERMINATION_FLOW, TermState
from .tables import termination_requests as tr

WAITING = "waiting"   # 待我审核: the state this reviewer decides (service.WAITING)
APPLICANTS = (("student", "学生"), ("employer", "用人单位"))


def _status(ident: Identity) -> Any:
    mine = str(service.WAITING.get(ident.role, ""))
    return lambda v: tr.c.status == (mine if v == WAITING else v)


def states() -> list[tuple[str, str]]:
    """The states a request can be listed in (a draft never leaves its transaction)."""
    return [(s.value, TERMINATION_FLOW.state_label(s)) for s in TermState if s != TermState.DRAFT]


def spec(ident: Identity) -> ListSpec:
    return ListSpec(
        route="termination_queue",
        filters=(
            Choice("status", "状态", _status(ident), options=[(WAITING, "待我审核"), *states()],
                   default=WAITING),
            *student_filters(tr.c.college_id, text_label="学号、姓名或协议书编号",
                             text=(sr.c.student_no, sr.c.name, ag.c.number)),
            Choice("applicant_role", "申请方", lambda v: tr.c.applicant_role == v,
                   options=list(APPLICANTS)),
            Choice("reason_code", "解约原因", lambda v: tr.c.reason_code == v,
                   options=list(codes.REASONS.items())),
            DateRange("sent", "提交日期", tr.c.submitted_at),
        ),
        columns=(
            Column("number", "协议书编号", ag.c.number),
            Column("student_no", "学号", sr.c.student_no), Column("name", "姓名", sr.c.name),
            Column("college", "学院", colleges.c.code), Column("major", "专业", majors.c.code),
            Column("year", "毕业年份", sr.c.graduation_year),
            Column("applicant", "申请方", tr.c.applicant_role),
            Column("reason", "解约原因", tr.c.reason_code),
            Column("status", "状态", tr.c.status), Column("sent", "提交时间", tr.c.submitted_at),
        ),
        default_sort="sent", tiebreak=tr.c.id)


def scope(ident: Identity) -> list[Any]:
    """The requests this reviewer lists: the college's or the school's, on the request's own
    columns (copied from the agreement) so the queue's index serves it; never a draft."""
    return [*scope_of(ident).where(school=tr.c.school_id, college=tr.c.college_id),
            tr.c.status != TermState.DRAFT.value]


def _joined(stmt: sa.Select) -> sa.Select:
    return (stmt.join(ag, ag.c.id == tr.c.agreement_id)
            .join(sr, sr.c.id == tr.c.student_record_id)
            .join(colleges, colleges.c.id == tr.c.college_id)
            .join(majors, majors.c.id == sr.c.major_id))


def rows(ident: Identity) -> sa.Select:
    # only what the list shows: the agreement's JSON would make every sorted row wide
    return (_joined(sa.select(
        tr.c.id, tr.c.status, tr.c.submitted_at, tr.c.applicant_role, tr.c.reason_code,
        ag.c.number, ag.c.data["unit_name"].as_string().label("unit_name"),
        sr.c.id.label("record_id"), sr.c.student_no, sr.c.name, sr.c.graduation_year,
        colleges.c.name.label("college_name"), majors.c.name.label("major_name"),
        employers.c.name.label("employer_name")).select_from(tr))
        .outerjoin(employers, employers.c.id == ag.c.employer_id)
        .where(*scope(ident)))


def employer_label(row: sa.Row) -> str:
    return row.employer_name or row.unit_name or ""


async def read(conn: AsyncConnection, ident: Identity, query: Mapping[str, str]) -> Resolved:
    return resolve(spec(ident), query, await options(conn, scope_of(ident), query))


def ids(ident: Identity, resolved: Resolved) -> sa.Select:
    """The ids of every request matching, in the list's order: what "select all" acts on."""
    return (_joined(sa.select(tr.c.id).select_from(tr))
            .where(*scope(ident), *resolved.where()).order_by(*resolved.order_by()))


async def state_counts(conn: AsyncConnection, ident: Identity) -> dict[str, int]:
    """How many requests of the reviewer's scope are in each state, and 待我审核."""
    counts = {s: n for s, n in await conn.execute(
        sa.select(tr.c.status, sa.func.count()).where(*scope(ident)).group_by(tr.c.status))}
    counts[WAITING] = counts.get(str(service.WAITING.get(ident.role, "")), 0)
    return counts


def decide(ident: Identity, now: dt.datetime) -> Callable[[str, str | None], batch.Act]:
    """act(action, reason) for the batch handler: one request's 通过 or 退回 (a 通过 that
    terminated the agreement, then found the request changed, is taken back by the batch's
    savepoint)."""
    async def find(conn: AsyncConnection, request_id: int) -> Any:
        if ident.role not in (Role.COUNSELOR, Role.SCHOOL_ADMIN):
            return None
        req = await service.request_item(conn, ident, request_id)
        return None if req is None or req.status == TermState.DRAFT else req

    async def one(conn: AsyncConnection, req: Any, action: str, reason: str | None) -> None:
        await service.review(conn, ident, req.id, action, reason=reason, now=now)
    return batch.decisions(find, one, name=lambda req: f"{req.student_name}（{req.student_no}）")


EXPORT = (*STUDENT_COLUMNS, ("申请方", lambda r: "学生" if r.applicant_role == Role.STUDENT else "用人单位"),
          ("解约原因", lambda r: codes.label(r.reason_code)), ("协议书编号", lambda r: r.number or ""),
          ("用人单位", employer_label), ("状态", lambda r: TERMINATION_FLOW.state_label(r.status)),
          ("提交时间", lambda r: china_time(r.submitted_at)))
