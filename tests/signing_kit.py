"""Test data for 签约中心: a student ready to sign (approved 生源信息, confirmed phone), agreement
form values, a second employer, and log-in helpers."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa

from app.auth import service as accounts
from app.db import Database
from app.roles import Role
from app.signing.tables import agreements, phone_verifications
from app.tables import email_outbox, employers
from tests.factories import PASSWORD, PASSWORD_HASH, credit_code
from tests.review_helpers import ROW, approved_origin

MOBILE = ROW["mobile"]

# A complete 单位 / 岗位 / 档案 part, as a form posts it.
AGREEMENT = {
    "unit_name": "重庆示例科技有限公司", "credit_code": "91110000600037341L", "nature": "39",
    "industry": "34", "department": "", "area": "500103", "address": "重庆市渝中区民族路1号",
    "postcode": "400010", "contact": "王经理", "phone": "023-63000000", "mobile": "13900001111",
    "email": "hr@unit.example.cn", "position_title": "软件开发工程师", "position_category": "13",
    "monthly_salary": "9000", "probation_months": "3", "service_years": "3", "penalty": "5000",
    "archive_accept": "1", "archive_unit": "重庆示例科技有限公司人事部", "archive_address": "重庆市渝中区民族路1号",
    "archive_postcode": "400010", "archive_dept": "人事部", "archive_contact": "李老师",
    "archive_phone": "023-63000001", "hukou_accept": "0", "hukou_address": "", "remarks": "考取研究生可解除协议",
}


async def ready_student(database_url: str, world, now: dt.datetime, school: int = 0) -> int:  # noqa: ANN001
    """The school's active student with approved 生源信息 and a confirmed phone → origin id."""
    origin_id = await approved_origin(database_url, world, now, school)
    db = Database(database_url)
    try:
        async with db.write() as conn:
            await conn.execute(phone_verifications.insert().values(
                account_id=world.active_student(school).account_id, phone=MOBILE, verified_at=now))
    finally:
        await db.dispose()
    return origin_id


async def add_account(database_url: str, now: dt.datetime, *, role: Role, username: str,
                      school_id: int | None = None, college_id: int | None = None,
                      employer_id: int | None = None) -> int:
    db = Database(database_url)
    try:
        async with db.write() as conn:
            return await accounts.create_account(
                conn, role=role, username=username, password=None, password_hash=PASSWORD_HASH,
                display_name=username, now=now, email=f"{username}@test.example.cn",
                school_id=school_id, college_id=college_id, employer_id=employer_id)
    finally:
        await db.dispose()


async def second_employer(database_url: str, now: dt.datetime) -> tuple[int, str, int]:
    """Another approved employer with a login → (employer id, username, account id)."""
    db = Database(database_url)
    try:
        async with db.write() as conn:
            eid = (await conn.execute(employers.insert().values(
                name="另一家单位有限公司", credit_code=credit_code(2), status="approved",
                created_at=now).returning(employers.c.id))).scalar_one()
    finally:
        await db.dispose()
    aid = await add_account(database_url, now, role=Role.EMPLOYER, username="employer2", employer_id=eid)
    return eid, "employer2", aid


async def as_user(make_client, kind: str, account: str):  # noqa: ANN001, ANN201
    c = await make_client()
    await c.login(kind, account, PASSWORD)
    return c


def invite_form(world, school: int = 0, **changes: str) -> dict[str, str]:  # noqa: ANN001
    student = world.active_student(school)
    return {**AGREEMENT, "school_id": str(world.schools[school].id), "student_no": student.student_no,
            "student_name": student.name, "valid_until": "", **changes}


async def agreement_row(database_url: str, agreement_id: int) -> sa.Row:
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return (await conn.execute(sa.select(agreements).where(agreements.c.id == agreement_id))).one()
    finally:
        await db.dispose()


async def last_mail_to(database_url: str, address: str) -> sa.Row | None:
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return (await conn.execute(sa.select(email_outbox).where(email_outbox.c.to_addr == address)
                                       .order_by(email_outbox.c.id.desc()).limit(1))).first()
    finally:
        await db.dispose()


def agreement_id_from(location: str) -> int:
    return int(re.search(r"/(\d+)(?:/[a-z]+)?(?:\?|$)", location).group(1))


async def upload_scans(client, aid: int, pages: list[tuple[str, bytes]]):  # noqa: ANN001, ANN201
    """The stamped agreement's pages posted as the student's form does (multipart)."""
    import aiohttp
    form = aiohttp.FormData()
    form.add_field("_csrf", client.csrf())
    for name, data in pages:
        form.add_field("scans", data, filename=name, content_type="application/octet-stream")
    return await client.client.post(f"/student/signing/agreements/{aid}/scans", data=form,
                                    allow_redirects=False)
