"""生源信息核对: rules and writes. Every read is scoped by the caller's identity (a student
sees only their own record, a counselor their college, a school admin their school)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ... import workflow
from ...auth.sessions import Identity
from ...forms import FormError
from ...roles import Role
from ...tables import colleges, majors, schools, student_records
from ..flows import ORIGIN_FLOW, OriginState
from ..tables import origin_records
from .fields import EDITABLE, clean_values
from .imports import EDITABLE_STATES

o, sr = origin_records, student_records


def _select() -> sa.Select:
    return (sa.select(o, sr.c.student_no, sr.c.name, sr.c.id_number, sr.c.gender,
                      sr.c.education, sr.c.graduation_year, sr.c.class_name, sr.c.account_id,
                      schools.c.name.label("school_name"), schools.c.code.label("school_code"),
                      colleges.c.name.label("college_name"), majors.c.name.label("major_name"),
                      majors.c.code.label("major_code"))
            .join(sr, sr.c.id == o.c.student_record_id)
            .join(schools, schools.c.id == o.c.school_id)
            .join(colleges, colleges.c.id == o.c.college_id)
            .join(majors, majors.c.id == sr.c.major_id))


def scope(ident: Identity) -> sa.ColumnElement[bool]:
    """The records this identity may see; nothing for roles outside the flow."""
    if ident.role == Role.STUDENT:
        return sr.c.account_id == ident.account_id
    if ident.role == Role.COUNSELOR:
        return sa.and_(o.c.school_id == ident.school_id, o.c.college_id == ident.college_id)
    if ident.role == Role.SCHOOL_ADMIN:
        return o.c.school_id == ident.school_id
    return sa.false()


def actor(ident: Identity) -> workflow.Actor:
    return workflow.Actor(ident.account_id, ident.role)


async def own(conn: AsyncConnection, ident: Identity) -> sa.Row | None:
    return (await conn.execute(_select().where(scope(ident)))).first()


async def item(conn: AsyncConnection, ident: Identity, origin_id: int) -> sa.Row | None:
    return (await conn.execute(_select().where(o.c.id == origin_id, scope(ident)))).first()


async def status_counts(conn: AsyncConnection, ident: Identity) -> dict[str, int]:
    rows = await conn.execute(sa.select(o.c.status, sa.func.count()).select_from(o)
                              .join(sr, sr.c.id == o.c.student_record_id)
                              .where(scope(ident)).group_by(o.c.status))
    return {s: n for s, n in rows}


async def save(conn: AsyncConnection, ident: Identity, raw: Mapping[str, str], *,
               submit: bool, now: dt.datetime) -> str:
    """【保存】 keeps a draft (format checks only); 【保存并送审】 needs every required field.
    Returns the state afterwards. Raises FormError (nothing written) or TransitionError."""
    record = await own(conn, ident)
    if record is None:
        raise workflow.NotAllowed("学校尚未导入您的生源信息，请联系学校就业部门")
    values, errors = clean_values(raw, EDITABLE, complete=submit)
    if errors:
        raise FormError(errors)
    # Guarded like a transition: the draft can only change while the student may edit it.
    result = await conn.execute(o.update().where(o.c.id == record.id,
                                                 o.c.status.in_(EDITABLE_STATES))
                                .values(data=values, updated_at=now))
    if result.rowcount != 1:
        raise workflow.NotAllowed(
            f"当前状态为“{ORIGIN_FLOW.state_label(record.status)}”，不能修改")
    if not submit:
        return record.status
    return await workflow.transition(conn, ORIGIN_FLOW, record.id, "submit", actor=actor(ident),
                                     at=now, values={"submitted_at": now})


async def withdraw(conn: AsyncConnection, ident: Identity, now: dt.datetime) -> str:
    record = await own(conn, ident)
    if record is None:
        raise workflow.NotAllowed("学校尚未导入您的生源信息")
    return await workflow.transition(conn, ORIGIN_FLOW, record.id, "withdraw",
                                     actor=actor(ident), at=now)


async def review(conn: AsyncConnection, ident: Identity, origin_id: int, action: str, *,
                 reason: str | None, now: dt.datetime) -> str | None:
    """Approve, return or reopen one record in the reviewer's scope; None if not in scope."""
    record = await item(conn, ident, origin_id)
    if record is None:
        return None
    return await workflow.transition(conn, ORIGIN_FLOW, origin_id, action, actor=actor(ident),
                                     at=now, reason=reason, values={"reviewed_at": now})


async def history(conn: AsyncConnection, origin_id: int) -> list[workflow.HistoryEntry]:
    return await workflow.history(conn, ORIGIN_FLOW, origin_id)


async def last_reason(conn: AsyncConnection, origin_id: int) -> str | None:
    entries = await history(conn, origin_id)
    return entries[-1].reason if entries else None


def is_approved(status: str) -> bool:
    return status == OriginState.APPROVED


def view_state(record: Any, role: Role) -> dict[str, Any]:
    return {"state_label": ORIGIN_FLOW.state_label(record.status),
            "actions": ORIGIN_FLOW.actions_for(record.status, role)}
