"""The 推荐表 queue as a staff list (app/lists): a school admin's school, filtered by
学院/专业/学历/毕业年份, state (待审核 until the admin picks another), 送审 dates and text
over 学号/姓名/编号, sorted by any column (the longest waiting first by default), and
decided in batches (通过, 退回 with one reason; 作废 stays one at a time on the review page)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Mapping

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...auth.sessions import Identity
from ...lists import batch
from ...lists.spec import Choice, Column, DateRange, ListSpec, Resolved, resolve
from ...clock import china_time
from ...roster.filters import STUDENT_COLUMNS, options, scope_of, student_filters
from ...tables import colleges, majors, student_records as sr
from ..flows import RECOMMENDATION_FLOW, RecState
from ..tables import recommendations as rec
from . import service


def spec() -> ListSpec:
    return ListSpec(
        route="recommendation_queue",
        filters=(
            # `status` and its values are those the 待办事项 and the notices link with
            Choice("status", "状态", lambda v: rec.c.status == v,
                   options=list(RECOMMENDATION_FLOW.state_labels.items()),
                   default=RecState.SUBMITTED.value),
            *student_filters(rec.c.college_id, text_label="学号、姓名或编号",
                             text=(sr.c.student_no, sr.c.name, rec.c.serial)),
            DateRange("sent", "送审日期", rec.c.submitted_at),
        ),
        columns=(
            Column("student_no", "学号", sr.c.student_no), Column("name", "姓名", sr.c.name),
            Column("college", "学院", colleges.c.code), Column("major", "专业", majors.c.code),
            Column("education", "学历", sr.c.education),
            Column("year", "毕业年份", sr.c.graduation_year),
            Column("status", "状态", rec.c.status), Column("sent", "送审时间", rec.c.submitted_at),
            Column("serial", "编号", rec.c.serial),
        ),
        default_sort="sent", tiebreak=rec.c.id)


def _joined(*columns: object) -> sa.Select:
    return (sa.select(*columns).select_from(rec)
            .join(sr, sr.c.id == rec.c.student_record_id)
            .join(colleges, colleges.c.id == rec.c.college_id)
            .join(majors, majors.c.id == sr.c.major_id))


def rows(ident: Identity) -> sa.Select:
    # only what the list shows: the form's JSON would make every sorted row wide
    return _joined(rec.c.id, rec.c.status, rec.c.submitted_at, rec.c.serial,
                   sr.c.id.label("record_id"), sr.c.student_no, sr.c.name, sr.c.education,
                   sr.c.graduation_year, colleges.c.name.label("college_name"),
                   majors.c.name.label("major_name")).where(service.scope(ident))


async def read(conn: AsyncConnection, ident: Identity, query: Mapping[str, str]) -> Resolved:
    return resolve(spec(), query, await options(conn, scope_of(ident), query))


def ids(ident: Identity, resolved: Resolved) -> sa.Select:
    """The ids of every form matching, in the list's order: what "select all" acts on."""
    return (_joined(rec.c.id).where(service.scope(ident), *resolved.where())
            .order_by(*resolved.order_by()))


async def state_counts(conn: AsyncConnection, ident: Identity) -> dict[str, int]:
    return await service.status_counts(conn, ident)


def decide(ident: Identity, now: dt.datetime) -> Callable[[str, str | None], batch.Act]:
    """act(action, reason) for the batch handler: one form's 通过 or 退回."""
    async def one(conn: AsyncConnection, form: Any, action: str, reason: str | None) -> None:
        await service.decide(conn, ident, form, action, reason=reason, now=now)
    return batch.decisions(lambda conn, form_id: service.brief(conn, ident, form_id), one)


EXPORT = (*STUDENT_COLUMNS, ("状态", lambda r: RECOMMENDATION_FLOW.state_label(r.status)),
          ("编号", lambda r: r.serial or ""), ("送审时间", lambda r: china_time(r.submitted_at)))
