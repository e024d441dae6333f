"""Uploads and the disk: a deleted attachment leaves the disk and answers 404 at once; the
per-account quota holds, also against two uploads at once; an oversized upload gets its
form back (Chinese message next to the field, status 413) or, past every bound, the
Chinese 413 page, never aiohttp's English text."""

from __future__ import annotations

import asyncio
import dataclasses
import re

import aiohttp
import pytest
import sqlalchemy as sa

from app.db import Database
from app.tables import employers, files, resumes
from tests.conftest import count, field_error
from tests.factories import PASSWORD
from tests.helpers import jpeg_with_gps
from tests.review_helpers import approved_origin
from tests.test_employers import register, registration
from tests.test_recommendation import FORM, as_user, photo_bytes, post_form
from tests.test_resumes import upload

QUOTA = 3000
UPLOAD_MAX = 1024 * 1024


@pytest.fixture
def settings(settings):  # noqa: ANN001, ANN201 — conftest's, with small bounds
    return dataclasses.replace(settings, storage_quota_bytes=QUOTA, upload_max_bytes=UPLOAD_MAX)


@pytest.fixture
async def student(client, world):  # noqa: ANN001, ANN201
    await client.login("student", world.active_student().email, PASSWORD)
    return client


def pdf(size: int) -> bytes:
    return b"%PDF-1.4 " + b"x" * (size - 9)


def stored(settings) -> list[str]:  # noqa: ANN001
    folder = settings.data_dir / "files"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


async def file_rows(settings) -> list[sa.Row]:  # noqa: ANN001
    db = Database(settings.database_url)
    try:
        async with db.read() as conn:
            return list(await conn.execute(sa.select(files).order_by(files.c.created_at)))
    finally:
        await db.dispose()


async def test_a_deleted_attachment_leaves_the_disk_and_answers_404(student, settings):
    assert (await upload(student, "a.pdf", pdf(1000))).status == 303
    [row] = await file_rows(settings)
    assert stored(settings) == [row.id]
    assert (await student.get(f"/files/{row.id}")).status == 200
    page = await (await student.get("/student/resumes")).text()
    resume_id = re.search(r"/student/resumes/(\d+)/delete", page).group(1)
    assert (await student.post(f"/student/resumes/{resume_id}/delete")).status == 303
    assert (await student.get(f"/files/{row.id}")).status == 404
    assert stored(settings) == [] and await file_rows(settings) == []
    assert await count(settings.database_url, resumes) == 0


async def test_upload_and_delete_again_and_again_does_not_grow_the_disk(student, settings):
    for _ in range(5):
        assert (await upload(student, "a.pdf", pdf(2500))).status == 303
        page = await (await student.get("/student/resumes")).text()
        resume_id = re.search(r"/student/resumes/(\d+)/delete", page).group(1)
        assert (await student.post(f"/student/resumes/{resume_id}/delete")).status == 303
    assert stored(settings) == []


async def test_the_quota_refuses_an_upload_that_would_exceed_it(student, settings):
    assert (await upload(student, "a.pdf", pdf(2000))).status == 303
    resp = await upload(student, "b.pdf", pdf(1500))
    assert resp.status == 400
    assert field_error(await resp.text(), "file") == "存储空间不足：已用2KB，共3KB，请先删除不用的文件"
    assert len(stored(settings)) == 1 and len(await file_rows(settings)) == 1
    assert (await upload(student, "c.pdf", pdf(1000))).status == 303     # exactly fills it


async def test_two_uploads_at_once_cannot_both_pass_when_one_fits(student, settings):
    answers = await asyncio.gather(upload(student, "a.pdf", pdf(2000)),
                                   upload(student, "b.pdf", pdf(2000)))
    assert sorted(r.status for r in answers) == [303, 400]
    refused = next(r for r in answers if r.status == 400)
    assert "存储空间不足" in field_error(await refused.text(), "file")
    rows = await file_rows(settings)
    assert len(rows) == 1 and stored(settings) == [rows[0].id]
    assert await count(settings.database_url, resumes) == 1


async def test_an_oversized_attachment_gets_the_form_back_with_413(student, settings):
    resp = await upload(student, "big.pdf", pdf(UPLOAD_MAX + 1))
    assert resp.status == 413 and resp.content_type == "text/html"
    assert field_error(await resp.text(), "file") == "文件不能超过1MB"
    assert await file_rows(settings) == [] and stored(settings) == []
    assert (await upload(student, "ok.pdf", pdf(2000))).status == 303   # the page still works


async def test_an_oversized_licence_keeps_the_fields_sent_after_it(client, settings):
    await client.get("/employer/register")
    form = aiohttp.FormData()
    form.add_field("_csrf", client.csrf())
    # the file first: the fields after it arrive although the file was too big
    form.add_field("licence", jpeg_with_gps() + b"\0" * (2 * UPLOAD_MAX),
                   filename="执照.jpg", content_type="image/jpeg")
    for k, v in registration().items():
        form.add_field(k, v)
    resp = await client.client.post("/employer/register", data=form, allow_redirects=False)
    html = await resp.text()
    assert resp.status == 413
    assert field_error(html, "licence") == "图片不能超过1MB"
    assert 'value="山城软件有限公司"' in html and 'value="shancheng"' in html
    assert await count(settings.database_url, employers) == 0 and stored(settings) == []


async def test_a_body_past_every_bound_gets_the_chinese_413_page(client, settings):
    await client.get("/")
    # multipart, far past what is read at all
    form = aiohttp.FormData()
    form.add_field("_csrf", client.csrf())
    form.add_field("licence", b"\0" * (5 * UPLOAD_MAX), filename="a.jpg", content_type="image/jpeg")
    resp = await client.client.post("/employer/register", data=form, allow_redirects=False)
    assert resp.status == 413 and resp.content_type == "text/html"
    assert "提交的内容过大" in await resp.text()
    # a plain form over client_max_size (aiohttp's own refusal)
    resp = await client.post("/login/student", {"account": "x" * (3 * UPLOAD_MAX), "password": "p"})
    assert resp.status == 413 and resp.content_type == "text/html"
    assert "提交的内容过大" in await resp.text()
    assert await count(settings.database_url, employers) == 0 and stored(settings) == []


async def test_a_replaced_licence_leaves_the_disk_and_answers_404(make_client, world, settings):
    employer = await make_client()
    assert (await register(employer)).status == 303
    [first] = await file_rows(settings)
    admin = await make_client()
    await admin.login("staff", "platform", PASSWORD)
    db = Database(settings.database_url)
    async with db.read() as conn:
        org_id = (await conn.execute(sa.select(employers.c.id).where(
            employers.c.licence_file_id == first.id))).scalar_one()
    await db.dispose()
    assert (await admin.post(f"/platform/employers/{org_id}/review",
                             {"action": "return", "reason": "营业执照不清晰"})).status == 303
    await employer.get("/employer/profile")
    form = aiohttp.FormData()
    form.add_field("_csrf", employer.csrf())
    for k, v in registration().items():
        form.add_field(k, v)
    form.add_field("licence", jpeg_with_gps(), filename="新执照.jpg", content_type="image/jpeg")
    assert (await employer.client.post("/employer/profile", data=form,
                                       allow_redirects=False)).status == 303
    [second] = await file_rows(settings)
    assert second.id != first.id and stored(settings) == [second.id]
    assert (await admin.get(f"/files/{first.id}")).status == 404
    assert (await admin.get(f"/files/{second.id}")).status == 200


async def test_a_replaced_photo_leaves_the_disk(make_client, world, settings, clock):
    await approved_origin(settings.database_url, world, clock.now())
    student = await as_user(make_client, "student", world.active_student().email)
    assert (await post_form(student, FORM, photo_bytes(), do="save")).status == 303
    assert (await post_form(student, FORM, photo_bytes(), do="save")).status == 303
    assert len(list((settings.data_dir / "photos").iterdir())) == 1
    assert (await student.get("/student/recommendation/photo")).status == 200
