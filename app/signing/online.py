"""8.2 线上应约: an employer 发起签约 for a student; the student agrees or refuses; agreeing
numbers the 就业协议书 and sends it to college then school review."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import audit, workflow
from ..applications.service import employers_application
from ..auth.sessions import Identity
from ..clock import CHINA, china_date, china_midnight
from ..employers.service import EmployerState
from ..forms import FormError
from ..notify import emails, notices
from ..reviews.flows import OriginState
from ..reviews.tables import origin_records
from ..school_settings import service as school_settings
from ..tables import accounts, employers, schools, student_records
from . import fields
from .flows import ONLINE_FLOW, STUDENT_PAGE, AgreementState
from .service import actor, item, lock_student, number_values, select, why_busy
from .tables import agreements

ag, sr = agreements, student_records
MAX_VALID_DAYS = 60
CLOSED_CHANNEL = "该学校暂未开启线上签约"


@dataclass(frozen=True)
class Invitee:
    school_id: int | None
    student_no: str
    name: str


NOT_ELIGIBLE = ("无法向该学生发起签约：请核对学校、学号和姓名是否与学校导入的信息一致；"
                "信息无误时，该学生暂不能在线签约，请与学生联系")

def parse_invitee(raw: Mapping[str, str]) -> tuple[Invitee, dict[str, str]]:
    errors: dict[str, str] = {}
    school = (raw.get("school_id") or "").strip()
    student_no = (raw.get("student_no") or "").strip()[:32]
    name = (raw.get("student_name") or "").strip()[:64]
    if not school.isdigit():
        errors["school_id"] = "请选择学校"
    if not student_no:
        errors["student_no"] = "请填写学号"
    if not name:
        errors["student_name"] = "请填写学生姓名"
    return Invitee(int(school) if school.isdigit() else None, student_no, name), errors


def parse_valid_until(raw: str, today: dt.date) -> tuple[dt.datetime | None, str | None]:
    """The invitation's last day (China date) → the end of that day."""
    try:
        day = dt.date.fromisoformat((raw or "").strip())
    except ValueError:
        return None, "请选择邀请有效期截止日期"
    if day < today:
        return None, "有效期截止日期不能早于今天"
    if day > today + dt.timedelta(days=MAX_VALID_DAYS):
        return None, f"有效期最长{MAX_VALID_DAYS}天"
    end = china_midnight(day + dt.timedelta(days=1)) - dt.timedelta(seconds=1)
    return end.astimezone(dt.timezone.utc), None


async def find_student(conn: AsyncConnection, who: Invitee) -> sa.Row | None:
    return (await conn.execute(
        sa.select(sr.c.id, sr.c.school_id, sr.c.college_id, sr.c.account_id, sr.c.name,
                  origin_records.c.status.label("origin_status"))
        .outerjoin(origin_records, origin_records.c.student_record_id == sr.c.id)
        .where(sr.c.school_id == who.school_id, sr.c.student_no == who.student_no,
               sr.c.name == who.name))).first()


async def invitee_from_application(conn: AsyncConnection, ident: Identity,
                                   application_id: int) -> dict[str, str] | None:
    """学号, 姓名 and school of one of this employer's applicants (发起签约 from the list)."""
    app_row = await employers_application(conn, application_id, ident.employer_id or 0)
    if app_row is None:
        return None
    row = (await conn.execute(sa.select(sr.c.student_no, sr.c.name, sr.c.school_id)
                              .where(sr.c.account_id == app_row.account_id))).first()
    if row is None:
        return None
    return {"school_id": str(row.school_id), "student_no": row.student_no, "student_name": row.name}


async def invite(conn: AsyncConnection, ident: Identity, raw: Mapping[str, str], *,
                 now: dt.datetime) -> int:
    """发起签约. Raises FormError (nothing written)."""
    who, errors = parse_invitee(raw)
    values, field_errors = fields.clean(raw, complete=True)
    errors.update(field_errors)
    valid_until, valid_error = parse_valid_until(raw.get("valid_until", ""), china_date(now))
    if valid_error:
        errors["valid_until"] = valid_error
    employer = (await conn.execute(sa.select(employers).where(employers.c.id == ident.employer_id))).first()
    if employer is None or employer.status != EmployerState.APPROVED:
        errors["_form"] = "单位审核通过后才能发起签约"
    if errors:
        raise FormError(errors)
    # the school's setting is public; asked first, it says nothing of the student
    if not (await school_settings.load(conn, who.school_id)).online_signing:
        raise FormError({"school_id": CLOSED_CHANNEL + "，请与学生线下签约"})
    student = await find_student(conn, who)
    # Not found, not activated, 生源 not approved, or already placed: one answer, so that
    # school + 学号 + 姓名 cannot be used to learn a graduate's state (the views also bound
    # the attempts per employer).
    if student is None or student.origin_status != OriginState.APPROVED \
            or student.account_id is None:
        raise FormError({"student_no": NOT_ELIGIBLE})
    await lock_student(conn, student.id)
    await _refuse_repeat(conn, employer.id, student.id, now)
    if await why_busy(conn, student.id):
        raise FormError({"student_no": NOT_ELIGIBLE})
    new_id = (await conn.execute(ag.insert().values(
        channel="online", status=AgreementState.INVITED.value, student_record_id=student.id,
        school_id=student.school_id, college_id=student.college_id, employer_id=employer.id,
        created_by=ident.account_id, data=values, valid_until=valid_until, scans=[],
        created_at=now, updated_at=now).returning(ag.c.id))).scalar_one()
    await audit.record(conn, at=now, actor_id=ident.account_id, action="agreement.invite",
                       entity="agreement", entity_id=new_id, to_state=AgreementState.INVITED.value,
                       detail={"role": ident.role.value}, school_id=student.school_id)
    await _tell_student(conn, student.account_id, employer.name, valid_until, now)
    return new_id


async def _refuse_repeat(conn: AsyncConnection, employer_id: int, student_record_id: int,
                         now: dt.datetime) -> None:
    """No second invitation to the same student inside the window unless refused or expired."""
    open_ = (await conn.execute(sa.select(ag.c.status, ag.c.valid_until).where(
        ag.c.employer_id == employer_id, ag.c.student_record_id == student_record_id,
        ag.c.channel == "online",
        ag.c.status.notin_([AgreementState.REFUSED.value, AgreementState.WITHDRAWN.value,
                            AgreementState.TERMINATED.value])))).all()
    for status, valid_until in open_:
        if status == AgreementState.INVITED and valid_until is not None and valid_until < now:
            continue  # expired
        until = valid_until.astimezone(CHINA).strftime("%Y-%m-%d") if valid_until else ""
        raise FormError({"student_no": f"您已向该学生发出签约邀请（有效期至{until}），"
                                       "在学生拒绝或邀请过期前不能重复邀请"})


async def _tell_student(conn: AsyncConnection, account_id: int, employer_name: str,
                        valid_until: dt.datetime | None, now: dt.datetime) -> None:
    title = f"{employer_name}向您发起了线上签约邀请"
    await notices.add(conn, account_id=account_id, title=title, link=STUDENT_PAGE, at=now)
    email = (await conn.execute(sa.select(accounts.c.email).where(accounts.c.id == account_id))).scalar()
    if email:
        until = valid_until.astimezone(CHINA).strftime("%Y-%m-%d") if valid_until else ""
        await emails.enqueue(conn, to=email, template="signing_invited", at=now,
                             context={"employer": employer_name, "valid_until": until})


def expired(row: sa.Row, now: dt.datetime) -> bool:
    return (row.status == AgreementState.INVITED and row.valid_until is not None
            and row.valid_until < now)


async def invitations(conn: AsyncConnection, ident: Identity) -> list[sa.Row]:
    """The student's online agreements, newest first."""
    return list(await conn.execute(select().where(sr.c.account_id == ident.account_id,
                                                  ag.c.channel == "online")
                                   .order_by(ag.c.created_at.desc()).limit(100)))


async def answer(conn: AsyncConnection, ident: Identity, agreement_id: int, action: str, *,
                 opinion: str = "", reason: str | None = None, now: dt.datetime) -> str | None:
    """The student agrees (应聘意见) or refuses (reason). None: not the student's."""
    row = await item(conn, ident, agreement_id)
    if row is None or row.channel != "online" or ident.role.value != "student":
        return None
    if action not in ("agree", "refuse"):
        raise workflow.NotAllowed("未知的操作")
    if not (await school_settings.load(conn, row.school_id)).online_signing:
        raise workflow.NotAllowed("学校暂未开启线上签约")
    if expired(row, now):
        raise workflow.NotAllowed("该签约邀请已过期")
    values: dict = {"updated_at": now}
    if action == "agree":
        opinion = opinion.strip()
        if not opinion:
            raise workflow.TransitionError("请填写应聘意见", field="opinion")
        if len(opinion) > 200:
            raise workflow.TransitionError("应聘意见最多200个字", field="opinion")
        await lock_student(conn, row.student_record_id)
        busy = await why_busy(conn, row.student_record_id, besides=row.id)
        if busy:
            raise workflow.NotAllowed(busy)
        values["opinion"] = opinion
        if row.number is None:
            values.update(await number_values(conn, row))
        values["generated_at"] = now
    return await workflow.transition(conn, ONLINE_FLOW, row.id, action, actor=actor(ident),
                                     at=now, reason=reason, values=values)


async def employer_update(conn: AsyncConnection, ident: Identity, agreement_id: int,
                          raw: Mapping[str, str], *, now: dt.datetime) -> str | None:
    """修改后重新发送: the employer corrects a returned agreement; the student answers again."""
    row = await item(conn, ident, agreement_id)
    if row is None or row.channel != "online":
        return None
    values, errors = fields.clean(raw, complete=True)
    valid_until, valid_error = parse_valid_until(raw.get("valid_until", ""), china_date(now))
    if valid_error:
        errors["valid_until"] = valid_error
    if errors:
        raise FormError(errors)
    return await workflow.transition(
        conn, ONLINE_FLOW, row.id, "resend", actor=actor(ident), at=now,
        values={"data": values, "previous_data": row.data, "valid_until": valid_until,
                "updated_at": now})


async def withdraw(conn: AsyncConnection, ident: Identity, agreement_id: int, *,
                   now: dt.datetime) -> str | None:
    row = await item(conn, ident, agreement_id)
    if row is None or row.channel != "online":
        return None
    return await workflow.transition(conn, ONLINE_FLOW, row.id, "withdraw", actor=actor(ident),
                                     at=now, values={"updated_at": now, "ended_at": now})


async def school_choices(conn: AsyncConnection) -> list[tuple[str, str]]:
    return [(str(i), n) for i, n in await conn.execute(
        sa.select(schools.c.id, schools.c.name).order_by(schools.c.name))]
