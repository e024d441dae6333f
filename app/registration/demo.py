"""Demo 就业信息登记: one approved registration (升学 · 研究生) for a demo student other than the
main one, so staff see a finished item and its history. The lead calls `load_demo` from
app/demo.py after the demo 生源 records are loaded (review_demo.load_origins)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import workflow
from ..destinations import service as destinations
from ..reviews.flows import ORIGIN_FLOW
from ..reviews.tables import origin_records
from ..roles import Role
from ..signing.tables import phone_verifications
from ..tables import accounts, student_records
from .flows import REGISTRATION_FLOW
from .service import SOURCE
from .tables import registrations

DEMO_STUDENT_NO = "2022010003"  # activated, in 计算机学院 (demo_counselor's college)


async def load_demo(conn: AsyncConnection, now: dt.datetime,
                    student_no: str = DEMO_STUDENT_NO) -> int:
    """Approve the student's 生源, confirm their phone, and walk one registration through
    both reviews (audited like any other); returns the registration id."""
    sr = (await conn.execute(sa.select(student_records).where(
        student_records.c.student_no == student_no))).one()
    staff = dict((await conn.execute(sa.select(accounts.c.role, accounts.c.id).where(
        accounts.c.school_id == sr.school_id, accounts.c.role.in_(
            [Role.COUNSELOR.value, Role.SCHOOL_ADMIN.value])))).all())
    counselor = workflow.Actor(staff.get(Role.COUNSELOR.value), Role.COUNSELOR)
    school = workflow.Actor(staff.get(Role.SCHOOL_ADMIN.value), Role.SCHOOL_ADMIN)
    student = workflow.Actor(sr.account_id, Role.STUDENT)
    origin = (await conn.execute(sa.select(origin_records).where(
        origin_records.c.student_record_id == sr.id))).one()
    for action, who in (("submit", student), ("approve", counselor)):
        await workflow.transition(conn, ORIGIN_FLOW, origin.id, action, actor=who, at=now)
    await conn.execute(phone_verifications.insert().values(
        account_id=sr.account_id, phone=str(origin.data.get("mobile", "")), verified_at=now))
    reg_id = (await conn.execute(registrations.insert().values(
        school_id=sr.school_id, college_id=sr.college_id, student_record_id=sr.id,
        status=REGISTRATION_FLOW.initial.value, code="80", sub_code="801",
        data={"admitted_school": "重庆大学"}, files={}, created_at=now, updated_at=now)
        .returning(registrations.c.id))).scalar_one()
    for action, who in (("submit", student), ("approve", counselor), ("approve", school)):
        await workflow.transition(conn, REGISTRATION_FLOW, reg_id, action, actor=who, at=now)
    await destinations.claim(conn, student_record_id=sr.id, school_id=sr.school_id,
                             college_id=sr.college_id, code="80", sub_code="801",
                             source=SOURCE, source_id=reg_id, at=now)
    return reg_id
