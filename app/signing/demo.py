"""Demo signing data (app/demo.py): the first demo student is ready to sign (approved 生源信息;
手机认证 still to do) and has an online invitation from demo_employer waiting; the third
already has an effective agreement with demo_employer2, so 解约 can be tried at once."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import workflow
from ..auth.sessions import Identity
from ..clock import china_date
from ..reviews.flows import ORIGIN_FLOW
from ..reviews.tables import origin_records
from ..roles import Role
from ..tables import accounts, student_records
from . import online, review

JOB = {"position_title": "后端开发工程师", "position_category": "13", "monthly_salary": "9000",
       "probation_months": "3", "service_years": "3", "penalty": "5000", "archive_accept": "1",
       "archive_unit": "重庆市人才交流服务中心", "archive_address": "重庆市渝北区人和街道1号",
       "archive_postcode": "401147", "archive_dept": "档案室", "archive_contact": "周老师",
       "archive_phone": "023-67000000", "hukou_accept": "0", "hukou_address": "",
       "remarks": "如考取全日制研究生，本协议自动解除。"}
UNIT = {"area": "500112", "address": "重庆市渝北区金开大道99号", "postcode": "401120",
        "mobile": "13900000000"}


async def _ident(conn: AsyncConnection, username_or_student_no: str) -> Identity:
    row = (await conn.execute(sa.select(accounts).where(
        accounts.c.username == username_or_student_no))).first()
    if row is None:
        row = (await conn.execute(sa.select(accounts).join(
            student_records, student_records.c.account_id == accounts.c.id).where(
            student_records.c.student_no == username_or_student_no))).one()
    return Identity(account_id=row.id, role=Role(row.role), display_name=row.display_name,
                    school_id=row.school_id, college_id=row.college_id, employer_id=row.employer_id,
                    session_hash="")


async def _approve_origin(conn: AsyncConnection, student_no: str, now: dt.datetime) -> None:
    student = await _ident(conn, student_no)
    counselor = await _ident(conn, "demo_counselor")
    origin_id = (await conn.execute(sa.select(origin_records.c.id).join(
        student_records, student_records.c.id == origin_records.c.student_record_id).where(
        student_records.c.student_no == student_no))).scalar_one()
    for who, action in ((student, "submit"), (counselor, "approve")):
        await workflow.transition(conn, ORIGIN_FLOW, origin_id, action, at=now,
                                  actor=workflow.Actor(who.account_id, who.role))


async def _phone_confirmed(conn: AsyncConnection, student_no: str, now: dt.datetime) -> None:
    from . import gate
    from .tables import phone_verifications
    student = await _ident(conn, student_no)
    mobile = (await gate.load(conn, student)).mobile
    await conn.execute(phone_verifications.insert().values(account_id=student.account_id,
                                                           phone=mobile, verified_at=now))


async def _invitation(conn: AsyncConnection, employer: Identity, student_no: str, school_id: int,
                      now: dt.datetime) -> int:
    from ..tables import employers
    from .fields import from_employer
    org = (await conn.execute(sa.select(employers).where(employers.c.id == employer.employer_id))).one()
    name = (await conn.execute(sa.select(student_records.c.name).where(
        student_records.c.student_no == student_no))).scalar_one()
    form = {**from_employer(org), **UNIT, **JOB, "school_id": str(school_id), "student_no": student_no,
            "student_name": name, "valid_until": (china_date(now) + dt.timedelta(days=30)).isoformat()}
    return await online.invite(conn, employer, form, now=now)


async def load(conn: AsyncConnection, school_id: int, student_nos: list[str], now: dt.datetime) -> None:
    ready, signed = student_nos[0], student_nos[2]
    for student_no in (ready, signed):
        await _approve_origin(conn, student_no, now)
    await _invitation(conn, await _ident(conn, "demo_employer"), ready, school_id, now)
    await _phone_confirmed(conn, signed, now)  # a student who signed passed 手机认证 first
    agreement_id = await _invitation(conn, await _ident(conn, "demo_employer2"), signed, school_id, now)
    await online.answer(conn, await _ident(conn, signed), agreement_id, "agree",
                        opinion="本人同意到贵单位就业，并遵守协议约定。", now=now)
    for reviewer in ("demo_counselor", "demo_school"):
        await review.decide(conn, await _ident(conn, reviewer), agreement_id, "approve", reason=None,
                            now=now)
