"""简历管理: structured resumes, one default, attachments checked by content."""

import io
import re
import zipfile

import aiohttp
import pytest
import sqlalchemy as sa

from app.db import Database
from app.tables import files, resumes
from tests.conftest import count, field_error
from tests.factories import PASSWORD


@pytest.fixture
async def student(client, world):
    await client.login("student", world.active_student().email, PASSWORD)
    return client


def docx_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


async def upload(client, name, data, content_type="application/pdf"):
    form = aiohttp.FormData()
    form.add_field("_csrf", client.csrf())
    form.add_field("file", data, filename=name, content_type=content_type)
    return await client.client.post("/student/resumes/attachments", data=form,
                                    allow_redirects=False)


def values(html: str, prefix: str) -> list[str]:
    return re.findall(rf'name="{re.escape(prefix)}" value="([^"]*)"', html)


async def test_manual_labels_and_empty_state(student):
    html = await (await student.get("/student")).text()
    assert ">简历管理<" in html
    html = await (await student.get("/student/resumes")).text()
    for text in ("中文简历", "英文简历", "附件简历", "默认简历"):
        assert text in html


async def test_repeatable_sections_add_move_remove_without_losing_input(student, settings):
    base = {"basic.name": "张三", "education.0.school": "甲大学", "education.0.major": "软件工程"}
    html = await (await student.post("/student/resumes/zh/edit", {**base, "op": "add:education"})).text()
    assert values(html, "education.0.school") == ["甲大学"] and values(html, "education.1.school") == [""]
    two = {**base, "education.1.school": "乙大学"}
    html = await (await student.post("/student/resumes/zh/edit", {**two, "op": "up:education:1"})).text()
    assert values(html, "education.0.school") == ["乙大学"] and values(html, "education.1.school") == ["甲大学"]
    html = await (await student.post("/student/resumes/zh/edit", {**two, "op": "remove:education:0"})).text()
    assert values(html, "education.0.school") == ["乙大学"] and not values(html, "education.1.school")
    assert values(html, "basic.name") == ["张三"]
    assert await count(settings.database_url, resumes) == 0  # nothing saved until 保存


async def test_save_validates_and_becomes_default(student, settings, world):
    bad = {"basic.name": "", "education.0.school": "", "education.0.major": "软件工程",
           "education.0.start": "2022/9", "basic.email": "nope", "op": "save"}
    resp = await student.post("/student/resumes/zh/edit", bad)
    assert resp.status == 400
    html = await resp.text()
    assert field_error(html, "basic-name") == "请填写姓名"
    assert field_error(html, "education-0-school") == "请填写学校"
    assert field_error(html, "education-0-start") == "请按“年-月”填写，如 2024-09"
    assert field_error(html, "basic-email") == "请输入正确的邮箱地址"
    assert values(html, "education.0.major") == ["软件工程"]
    assert await count(settings.database_url, resumes) == 0
    good = {"basic.name": "张三", "education.0.school": "甲大学", "education.0.start": "2022-09",
            "experience.0.org": "", "op": "save"}
    resp = await student.post("/student/resumes/zh/edit", good)
    assert resp.status == 303 and resp.headers["Location"] == "/student/resumes?saved=zh"
    html = await (await student.get("/student/resumes")).text()
    assert "默认简历" in html
    preview = await (await student.get("/student/resumes/zh/preview")).text()
    assert "甲大学" in preview and "教育经历" in preview
    en = {"basic.name": "Zhang San", "education.0.school": "Jia University", "op": "save"}
    assert (await student.post("/student/resumes/en/edit", en)).status == 303
    preview = await (await student.get("/student/resumes/en/preview")).text()
    assert "Education" in preview and "Jia University" in preview
    db = Database(settings.database_url)
    async with db.read() as conn:
        rows = {r.kind: r for r in await conn.execute(sa.select(resumes))}
    await db.dispose()
    assert rows["zh"].is_default and not rows["en"].is_default
    assert rows["zh"].data["experience"] == []  # blank rows are dropped


async def test_exactly_one_default(student, settings):
    await student.post("/student/resumes/zh/edit", {"basic.name": "张三", "op": "save"})
    assert (await upload(student, "简历.pdf", b"%PDF-1.4 test")).status == 303
    db = Database(settings.database_url)
    async with db.read() as conn:
        ids = {r.kind: r.id for r in await conn.execute(sa.select(resumes))}
    assert (await student.post(f"/student/resumes/{ids['file']}/default")).status == 303
    assert await count(settings.database_url, resumes, resumes.c.is_default.is_(True)) == 1
    assert await count(settings.database_url, resumes, resumes.c.id == ids["file"],
                       resumes.c.is_default.is_(True)) == 1
    # deleting the default attachment hands the default back to the 中文简历
    assert (await student.post(f"/student/resumes/{ids['file']}/delete")).status == 303
    async with db.read() as conn:
        defaults = (await conn.execute(sa.select(resumes.c.kind).where(
            resumes.c.is_default.is_(True)))).scalars().all()
    await db.dispose()
    assert defaults == ["zh"]


async def test_uploads_are_checked_by_content(student, settings):
    resp = await upload(student, "virus.pdf", b"MZ\x90\x00\x03" + b"\x00" * 100)
    assert resp.status == 400
    assert field_error(await resp.text(), "file") == "只支持 PDF、DOC、DOCX 格式的文件（按文件内容识别）"
    big = b"%PDF-1.4" + b"0" * settings.upload_max_bytes
    resp = await upload(student, "big.pdf", big)
    assert resp.status in (400, 413)
    assert await count(settings.database_url, files) == 0
    # path parts are dropped, the name follows the real type, the bytes stay as sent
    resp = await upload(student, "../../etc/passwd/我的简历.doc", docx_bytes(),
                        "application/msword")
    assert resp.status == 303
    db = Database(settings.database_url)
    async with db.read() as conn:
        row = (await conn.execute(sa.select(files))).one()
    await db.dispose()
    assert row.display_name == "我的简历.docx"
    assert row.content_type.endswith("wordprocessingml.document")
    stored = list((settings.data_dir / "files").iterdir())
    assert [p.name for p in stored] == [row.id] and ".." not in row.id
    resp = await student.get(f"/files/{row.id}")
    assert resp.headers["Content-Disposition"] == (
        "attachment; filename*=UTF-8''%E6%88%91%E7%9A%84%E7%AE%80%E5%8E%86.docx")
    assert await resp.read() == docx_bytes()


async def test_attachment_limit(student):
    for i in range(5):
        assert (await upload(student, f"{i}.pdf", b"%PDF-1.4 " + bytes([i]))).status == 303
    resp = await upload(student, "6.pdf", b"%PDF-1.4 six")
    assert "最多上传5份附件简历" in field_error(await resp.text(), "file")


async def test_a_student_cannot_touch_another_students_resumes(make_client, world, settings):
    owner = await make_client()
    await owner.login("student", world.active_student(0).email, PASSWORD)
    await upload(owner, "a.pdf", b"%PDF-1.4 mine")
    db = Database(settings.database_url)
    async with db.read() as conn:
        row = (await conn.execute(sa.select(resumes))).one()
    await db.dispose()
    other = await make_client()
    await other.login("student", world.active_student(1).email, PASSWORD)
    assert (await other.post(f"/student/resumes/{row.id}/default")).status == 404
    assert (await other.post(f"/student/resumes/{row.id}/delete")).status == 404
    assert (await other.get(f"/files/{row.file_id}")).status == 404
    assert (await other.get("/student/resumes/zh/preview")).status == 404  # has none of its own
    employer = await make_client()
    await employer.login("employer", "employer", PASSWORD)
    assert (await employer.get(f"/files/{row.file_id}")).status == 404
    assert await count(settings.database_url, resumes) == 1


async def test_months_are_typed_the_same_in_every_browser_and_gender_is_chosen(student, settings):
    import lxml.html
    from app.resumes.schema import MONTH_PATTERN
    doc = lxml.html.fromstring(await (await student.get("/student/resumes/zh/edit")).text())
    assert not doc.xpath('//input[@type="month"]')  # drawn in the browser's own language
    [birth] = doc.xpath('//input[@name="basic.birth"]')
    assert (birth.get("type"), birth.get("pattern"), birth.get("inputmode")) == ("text", MONTH_PATTERN, "numeric")
    [hint] = doc.xpath(f'//*[@id="{birth.get("aria-describedby")}"]')
    assert "年-月" in hint.text_content()
    assert doc.xpath(f'//label[@for="{birth.get("id")}"]')[0].text_content() == "出生年月"
    [gender] = doc.xpath('//select[@name="basic.gender"]')
    assert [o.get("value") for o in gender.xpath("option")] == ["", "男", "女"]
    assert doc.xpath(f'//label[@for="{gender.get("id")}"]')[0].text_content() == "性别"

    resp = await student.post("/student/resumes/zh/edit", {
        "basic.name": "张三", "basic.gender": "male", "basic.birth": "2003-5", "op": "save"})
    assert resp.status == 400
    html = await resp.text()
    assert field_error(html, "basic-gender") == "请从列表中选择性别"
    assert field_error(html, "basic-birth") == "请按“年-月”填写，如 2024-09"
    kept = lxml.html.fromstring(html)
    assert kept.xpath('//select[@name="basic.gender"]/option[@selected]/@value') == ["male"]
    assert kept.xpath('//input[@name="basic.birth"]/@value') == ["2003-5"]
    assert await count(settings.database_url, resumes) == 0

    resp = await student.post("/student/resumes/en/edit", {
        "basic.name": "Zhang San", "basic.gender": "女", "basic.birth": "2003-05", "op": "save"})
    assert resp.status == 303
    preview = await (await student.get("/student/resumes/en/preview")).text()
    assert "<dd>Female</dd>" in preview and "<dd>2003-05</dd>" in preview


async def test_twenty_uploads_at_once_keep_the_limit_of_five(world, settings, clock):
    """The count-then-add of 附件简历 under load: on PostgreSQL 20 concurrent uploads made 8
    attachments (each transaction counted before the others committed)."""
    import asyncio

    from app.forms import FormError
    from app.resumes import service
    from app.uploads import FileStore
    from tests.registration_helpers import PDF_BYTES
    account_id = world.active_student().account_id
    db, store = Database(settings.database_url), FileStore(settings.data_dir)

    async def upload(i: int) -> bool:
        try:
            async with db.write() as conn:
                await service.add_attachment(conn, store, account_id, display_name=f"简历{i}.pdf",
                                             content_type="application/pdf", data=PDF_BYTES,
                                             now=clock.now())
        except FormError:
            return False
        return True
    try:
        made = await asyncio.gather(*(upload(i) for i in range(20)))
    finally:
        await db.dispose()
    assert sum(made) == service.MAX_ATTACHMENTS
    assert await count(settings.database_url, resumes, resumes.c.account_id == account_id,
                       resumes.c.kind == "file") == service.MAX_ATTACHMENTS
