"""推荐表: rules and writes. Needs approved 生源信息; reviewed by the school admin; once
approved it gets a serial number and a random verification token (the QR code's URL)."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ... import workflow
from ...auth.sessions import Identity
from ...forms import FormError
from ...roles import Role
from ...tables import colleges, majors, schools, student_records
from ..flows import RECOMMENDATION_FLOW, OriginState, RecState
from ..tables import origin_records, recommendations
from . import fields

rec, sr = recommendations, student_records
EDITABLE_STATES = (RecState.DRAFT.value, RecState.RETURNED.value, RecState.REVOKED.value)


@dataclass(frozen=True)
class Saved:
    status: str
    replaced_photo: str | None   # the photo file a new one replaced


@dataclass(frozen=True)
class Mine:
    student: sa.Row | None     # the student's record (None: not linked to a record)
    origin: sa.Row | None      # their 生源信息
    form: sa.Row | None        # their 推荐表

    @property
    def available(self) -> bool:
        return self.origin is not None and self.origin.status == OriginState.APPROVED

    @property
    def why_not(self) -> str:
        if self.origin is None:
            return "学校尚未导入您的生源信息，生源信息审核通过后才能填写推荐表。"
        return (f"您的生源信息当前状态为“{_origin_label(self.origin.status)}”，"
                "生源信息审核通过后才能填写推荐表。请先完成【生源信息核对】。")


def _origin_label(status: str) -> str:
    from ..flows import ORIGIN_FLOW
    return ORIGIN_FLOW.state_label(status)


def _student_select() -> sa.Select:
    return (sa.select(sr, schools.c.name.label("school_name"), schools.c.code.label("school_code"),
                      colleges.c.name.label("college_name"), majors.c.name.label("major_name"))
            .join(schools, schools.c.id == sr.c.school_id)
            .join(colleges, colleges.c.id == sr.c.college_id)
            .join(majors, majors.c.id == sr.c.major_id))


async def mine(conn: AsyncConnection, ident: Identity) -> Mine:
    student = (await conn.execute(_student_select().where(sr.c.account_id == ident.account_id))).first()
    if student is None:
        return Mine(None, None, None)
    origin = (await conn.execute(sa.select(origin_records).where(
        origin_records.c.student_record_id == student.id))).first()
    form = (await conn.execute(sa.select(rec).where(rec.c.student_record_id == student.id))).first()
    return Mine(student, origin, form)


def actor(ident: Identity) -> workflow.Actor:
    return workflow.Actor(ident.account_id, ident.role)


async def save(conn: AsyncConnection, ident: Identity, raw: Mapping[str, str], *,
               photo_name: str | None, submit: bool, now: dt.datetime) -> Saved:
    """【保存】 or 【保存并送审】. `photo_name`: a newly stored photo, if one was uploaded; the
    photo it replaces comes back in `Saved.replaced_photo`, for the caller to remove once
    this commits."""
    me = await mine(conn, ident)
    if not me.available:
        raise workflow.NotAllowed(me.why_not)
    data, errors = fields.clean(raw, complete=submit)
    if submit and not (photo_name or (me.form and me.form.photo_name)):
        errors["photo"] = "请上传照片"
    if errors:
        raise FormError(errors)
    values: dict[str, Any] = {"data": data, "updated_at": now}
    if photo_name:
        values["photo_name"] = photo_name
    replaced = me.form.photo_name if photo_name and me.form else None
    if me.form is None:
        form_id = (await conn.execute(rec.insert().values(
            school_id=me.student.school_id, college_id=me.student.college_id,
            student_record_id=me.student.id, status=RECOMMENDATION_FLOW.initial.value,
            created_at=now, **values).returning(rec.c.id))).scalar_one()
        status = RECOMMENDATION_FLOW.initial.value
    else:
        form_id, status = me.form.id, me.form.status
        result = await conn.execute(rec.update().where(rec.c.id == form_id,
                                                       rec.c.status.in_(EDITABLE_STATES))
                                    .values(**values))
        if result.rowcount != 1:
            raise workflow.NotAllowed(
                f"当前状态为“{RECOMMENDATION_FLOW.state_label(status)}”，不能修改")
    if submit:
        status = await workflow.transition(conn, RECOMMENDATION_FLOW, form_id, "submit",
                                           actor=actor(ident), at=now, values={"submitted_at": now})
    return Saved(status, replaced)


async def withdraw(conn: AsyncConnection, ident: Identity, now: dt.datetime) -> str:
    me = await mine(conn, ident)
    if me.form is None:
        raise workflow.NotAllowed("您还没有填写推荐表")
    return await workflow.transition(conn, RECOMMENDATION_FLOW, me.form.id, "withdraw",
                                     actor=actor(ident), at=now)


def scope(ident: Identity) -> sa.ColumnElement[bool]:
    """The forms `ident` may see (on a select that joins student_records as `sr`)."""
    if ident.role == Role.SCHOOL_ADMIN:
        return rec.c.school_id == ident.school_id
    if ident.role == Role.STUDENT:
        return sr.c.account_id == ident.account_id
    return sa.false()


def _form_select() -> sa.Select:
    return (sa.select(rec, sr.c.student_no, sr.c.name, sr.c.gender, sr.c.education,
                      sr.c.graduation_year, sr.c.class_name,
                      schools.c.name.label("school_name"), schools.c.code.label("school_code"),
                      colleges.c.name.label("college_name"), majors.c.name.label("major_name"),
                      origin_records.c.data.label("origin"), origin_records.c.roll.label("roll"))
            .join(sr, sr.c.id == rec.c.student_record_id)
            .join(schools, schools.c.id == rec.c.school_id)
            .join(colleges, colleges.c.id == rec.c.college_id)
            .join(majors, majors.c.id == sr.c.major_id)
            .outerjoin(origin_records, origin_records.c.student_record_id == sr.c.id))


async def item(conn: AsyncConnection, ident: Identity, form_id: int | None = None) -> sa.Row | None:
    """One form in the caller's scope (a student: their own, whatever id they give)."""
    stmt = _form_select().where(scope(ident))
    if form_id is not None:
        stmt = stmt.where(rec.c.id == form_id)
    return (await conn.execute(stmt)).first()


async def status_counts(conn: AsyncConnection, ident: Identity) -> dict[str, int]:
    """How many forms of the caller's scope are in each state (the queue's tabs)."""
    rows = await conn.execute(sa.select(rec.c.status, sa.func.count()).select_from(rec)
                              .join(sr, sr.c.id == rec.c.student_record_id)
                              .where(scope(ident)).group_by(rec.c.status))
    return {s: n for s, n in rows}


async def brief(conn: AsyncConnection, ident: Identity, form_id: int) -> sa.Row | None:
    """What a decision needs of one form in the caller's scope (its name, and what its
    serial is made of), without the form's JSON: a batch reads thousands."""
    return (await conn.execute(
        sa.select(rec.c.id, rec.c.status, sr.c.student_no, sr.c.name, sr.c.graduation_year,
                  schools.c.code.label("school_code"))
        .join(sr, sr.c.id == rec.c.student_record_id)
        .join(schools, schools.c.id == rec.c.school_id)
        .where(rec.c.id == form_id, scope(ident)))).first()


def _serial(row: sa.Row) -> Any:
    # 毕业年份 + 学校代码 + 流水号 (the row id: unique, and stable if approved again)
    return lambda form_id: {"serial": f"TJ{row.graduation_year}{row.school_code}{form_id:06d}",
                            "verify_token": secrets.token_urlsafe(18)}


async def review(conn: AsyncConnection, ident: Identity, form_id: int, action: str, *,
                 reason: str | None, now: dt.datetime) -> str | None:
    """通过, 退回 or 作废 of one form in the reviewer's scope; None if not in scope."""
    form = await brief(conn, ident, form_id)
    if form is None:
        return None
    return await decide(conn, ident, form, action, reason=reason, now=now)


async def decide(conn: AsyncConnection, ident: Identity, form: sa.Row, action: str, *,
                 reason: str | None, now: dt.datetime) -> str:
    """The decision on a form read by `brief`; TransitionError names its state if refused."""
    return await workflow.transition(
        conn, RECOMMENDATION_FLOW, form.id, action, actor=actor(ident), at=now, reason=reason,
        values={"reviewed_at": now}, values_from=_serial(form) if action == "approve" else None)


async def history(conn: AsyncConnection, form_id: int) -> list[workflow.HistoryEntry]:
    return await workflow.history(conn, RECOMMENDATION_FLOW, form_id)


async def by_token(conn: AsyncConnection, token: str) -> sa.Row | None:
    """For the public verification page: only name, school, serial and validity."""
    if not token or len(token) > 64:
        return None
    return (await conn.execute(
        sa.select(rec.c.serial, rec.c.status, rec.c.reviewed_at, sr.c.name,
                  schools.c.name.label("school_name"))
        .join(sr, sr.c.id == rec.c.student_record_id)
        .join(schools, schools.c.id == rec.c.school_id)
        .where(rec.c.verify_token == token))).first()
