"""The 生源信息 queue as a staff list (app/lists): a counselor's college or a school admin's
school, filtered by 学院/专业/学历/毕业年份, state, 送审 dates and text, sorted by any
column (the longest waiting first by default), and decided in batches."""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Mapping

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...auth.sessions import Identity
from ...lists import batch
from ...lists.spec import Choice, Column, DateRange, ListSpec, Resolved, resolve
from ...notify import emails, notices
from ...roles import Role
from ...clock import china_time
from ...roster.filters import STUDENT_COLUMNS, options, scope_of, student_filters
from ...tables import accounts, colleges, majors, student_records as sr
from ... import workflow
from ..flows import ORIGIN_FLOW, ORIGIN_PAGE, OriginState
from ..tables import origin_records as o
from . import service


def spec(ident: Identity) -> ListSpec:
    counselor = ident.role == Role.COUNSELOR
    return ListSpec(
        route="origin_queue",
        filters=(
            Choice("status", "状态", lambda v: o.c.status == v,
                   options=list(ORIGIN_FLOW.state_labels.items()),
                   default=OriginState.SUBMITTED.value if counselor else ""),
            *student_filters(o.c.college_id),
            DateRange("sent", "送审日期", o.c.submitted_at),
            *(() if counselor else (
                Choice("notified", "通知核对", lambda v: o.c.notified_at.is_not(None) if v == "1"
                       else o.c.notified_at.is_(None), options=[("1", "已通知"), ("0", "未通知")]),)),
        ),
        columns=(
            Column("student_no", "学号", sr.c.student_no), Column("name", "姓名", sr.c.name),
            Column("college", "学院", colleges.c.code), Column("major", "专业", majors.c.code),
            Column("year", "毕业年份", sr.c.graduation_year), Column("status", "状态", o.c.status),
            Column("sent", "送审时间", o.c.submitted_at),
            Column("notified", "已通知", o.c.notified_at),
        ),
        default_sort="sent", tiebreak=o.c.id)


def rows(ident: Identity) -> sa.Select:
    # only what the list shows: the record's JSON columns would make every sorted row wide
    return (sa.select(o.c.id, o.c.status, o.c.submitted_at, o.c.notified_at,
                      sr.c.id.label("record_id"), sr.c.student_no, sr.c.name,
                      sr.c.graduation_year, colleges.c.name.label("college_name"),
                      majors.c.name.label("major_name"))
            .join(sr, sr.c.id == o.c.student_record_id)
            .join(colleges, colleges.c.id == o.c.college_id)
            .join(majors, majors.c.id == sr.c.major_id)
            .where(service.scope(ident)))


async def read(conn: AsyncConnection, ident: Identity, query: Mapping[str, str]) -> Resolved:
    return resolve(spec(ident), query, await options(conn, scope_of(ident), query))


def ids(ident: Identity, resolved: Resolved) -> sa.Select:
    """The ids of every record matching, in the list's order: what "select all" acts on."""
    return (sa.select(o.c.id).join(sr, sr.c.id == o.c.student_record_id)
            .join(colleges, colleges.c.id == o.c.college_id)
            .join(majors, majors.c.id == sr.c.major_id)
            .where(service.scope(ident), *resolved.where()).order_by(*resolved.order_by()))


async def state_counts(conn: AsyncConnection, ident: Identity) -> dict[str, int]:
    return await service.status_counts(conn, ident)


def decide(ident: Identity, now: dt.datetime) -> Callable[[str, str | None], batch.Act]:
    """act(action, reason) for the batch handler: one record's decision (通过, 退回) or 【通知核对】."""
    async def one(conn: AsyncConnection, record: Any, action: str, reason: str | None) -> None:
        if action == "notify":
            await _notify(conn, record, now)
        else:
            await workflow.transition(conn, ORIGIN_FLOW, record.id, action,
                                      actor=service.actor(ident), at=now, reason=reason,
                                      values={"reviewed_at": now})
    return batch.decisions(lambda conn, origin_id: service.item(conn, ident, origin_id), one)


async def _notify(conn: AsyncConnection, record: Any, now: dt.datetime) -> None:
    """【通知核对】 to one student: a notice and a mail (refused when they have no account)."""
    account = (await conn.execute(sa.select(accounts.c.id, accounts.c.email).where(
        accounts.c.id == record.account_id))).first() if record.account_id else None
    if account is None:
        raise workflow.NotAllowed("尚未激活账号")
    await notices.add(conn, account_id=account.id, title="请核对您的生源信息",
                      body="学校已导入您的生源信息，请在学生中心点击【生源信息核对】核对并送审。",
                      link=ORIGIN_PAGE, at=now)
    if account.email:
        await emails.enqueue(conn, to=account.email, template="origin_check", at=now,
                             context={"name": record.name})
    await conn.execute(o.update().where(o.c.id == record.id).values(notified_at=now))


EXPORT = (*STUDENT_COLUMNS, ("状态", lambda r: ORIGIN_FLOW.state_label(r.status)),
          ("送审时间", lambda r: china_time(r.submitted_at)),
          ("通知核对", lambda r: china_time(r.notified_at)))
