"""Test data for 就业信息登记: a student who may enter (approved 生源, confirmed phone), built
through the app's own services; valid generated credit codes; small real images and PDFs."""

from __future__ import annotations

import datetime as dt
import io

import aiohttp
from PIL import Image

from app.auth import service as accounts
from app.db import Database
from app.roles import Role
from app.signing.tables import phone_verifications
from app.tables import student_records
from tests.factories import PASSWORD_HASH, StudentData, credit_code
from tests.review_helpers import ROW, approved_origin

FORM_11 = {"employer_name": "重庆测试科技有限公司", "credit_code": credit_code(77),
           "nature": "39", "area": "500103", "position": "13", "contact": "王老师",
           "contact_phone": "023-63001234"}


def png_bytes(color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(out, "PNG")
    return out.getvalue()


PDF_BYTES = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
             b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


async def confirm_phone(database_url: str, account_id: int, now: dt.datetime,
                        phone: str = ROW["mobile"]) -> None:
    """手机认证 done: the row the SMS flow writes (another package builds that flow)."""
    db = Database(database_url)
    try:
        async with db.write() as conn:
            await conn.execute(phone_verifications.insert().values(
                account_id=account_id, phone=phone, verified_at=now))
    finally:
        await db.dispose()


async def ready_student(database_url: str, world, now: dt.datetime, school: int = 0) -> StudentData:  # noqa: ANN001
    """The school's active student, with approved 生源信息 and a confirmed phone."""
    await approved_origin(database_url, world, now, school)
    student = world.active_student(school)
    await confirm_phone(database_url, student.account_id, now)
    return student


async def activate(database_url: str, world, index: int, now: dt.datetime,  # noqa: ANN001
                   college: int = 0) -> StudentData:
    """Give world.students[index] an account (e.g. a second student of the same school)."""
    student = world.students[index]
    db = Database(database_url)
    try:
        async with db.write() as conn:
            school = next(s for s in world.schools if s.id == student.school_id)
            student.email = f"{student.student_no.lower()}@test.example.cn"
            student.account_id = await accounts.create_account(
                conn, role=Role.STUDENT, username=None, password=None,
                password_hash=PASSWORD_HASH, display_name=student.name, now=now,
                email=student.email, school_id=school.id, college_id=school.college_ids[college])
            await conn.execute(student_records.update().where(
                student_records.c.id == student.record_id).values(account_id=student.account_id))
        return student
    finally:
        await db.dispose()


async def staff_account(database_url: str, world, username: str, role: Role, now: dt.datetime,  # noqa: ANN001
                        school: int = 0, college: int | None = 0) -> int:
    db = Database(database_url)
    try:
        async with db.write() as conn:
            sd = world.schools[school]
            return await accounts.create_account(
                conn, role=role, username=username, password=None, password_hash=PASSWORD_HASH,
                display_name=username, now=now, email=f"{username}@test.example.cn",
                school_id=sd.id, college_id=None if college is None else sd.college_ids[college])
    finally:
        await db.dispose()


async def post_branch(client, fields: dict, files: dict | None = None):  # noqa: ANN001, ANN201
    """POST the branch form (multipart, as the browser sends it)."""
    form = aiohttp.FormData()
    form.add_field("_csrf", client.csrf())
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, data) in (files or {}).items():
        form.add_field(name, data, filename=filename, content_type="application/octet-stream")
    return await client.client.post("/student/registration/form", data=form,
                                    allow_redirects=False)
