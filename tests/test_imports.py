"""School admins import student records through the UI: report, progress, re-import updates."""

import datetime as dt
import io
import re

import aiohttp
import openpyxl
import pytest
import sqlalchemy as sa

from app.db import Database
from app.state import IMPORTS
from app.tables import import_jobs, student_records
from app.validators import make_id_number
from tests.conftest import count, field_error
from tests.factories import PASSWORD

HEADER = "学号,姓名,身份证号,性别,学院,专业,学历,毕业年份,班级"


def rows_csv(rows):
    return ("\n".join([HEADER, *rows]) + "\n").encode("utf-8-sig")


def good_row(no, name="王小明", seq=21):
    return f"{no},{name},{make_id_number('500103', dt.date(2003, 2, 2), seq)},男,信息学院,软件工程,本科生,2026,2班"


async def upload(client, name, data, content_type="text/csv"):
    form = aiohttp.FormData()
    form.add_field("_csrf", client.csrf())
    form.add_field("file", data, filename=name, content_type=content_type)
    return await client.client.post("/school/imports", data=form, allow_redirects=False)


async def finished_job(client, resp):
    assert resp.status == 303, await resp.text()
    await client.app[IMPORTS].drain()
    status = await (await client.get(resp.headers["Location"] + "/status")).json()
    page = await (await client.get(resp.headers["Location"])).text()
    return status, page


@pytest.fixture
async def admin(client, world):
    await client.login("staff", "school_admin0", PASSWORD)
    return client


async def test_good_rows_import_and_bad_rows_are_reported(admin, world, settings):
    before = await count(settings.database_url, student_records)
    data = rows_csv([good_row("N001"), "N002,,,,信息学院,软件工程,本科生,2026,",
                     good_row("N003", "李小红", 23), "N004,赵六,110101200301010011,男,火星学院,软件工程,本科生,2026,"])
    status, page = await finished_job(admin, await upload(admin, "名单.csv", data))
    assert status == {"status": "done", "total": 4, "processed": 4, "created": 2, "updated": 0,
                      "failed_rows": 2, "message": None}
    assert "导入完成：共 4 行，新增 2 条，更新 0 条，失败 2 行" in page
    groups = re.findall(r"<li><strong>([^<]+)</strong> — (\d+) 行<br>\s*<span class=\"muted\">([^<]+)</span>",
                        page)
    assert ("姓名：不能为空", "1", "第 3 行") in groups and ("身份证号：不能为空", "1", "第 3 行") in groups
    assert ("学院：学校没有这个学院", "1", "第 5 行（学校没有名为“火星学院”的学院）") in groups
    assert await count(settings.database_url, student_records) == before + 2


async def test_same_file_twice_updates_instead_of_duplicating(admin, world, settings):
    data = rows_csv([good_row("N001"), good_row("N002", "李小红", 23)])
    status, _ = await finished_job(admin, await upload(admin, "a.csv", data))
    assert (status["created"], status["updated"]) == (2, 0)
    total = await count(settings.database_url, student_records)
    status, _ = await finished_job(admin, await upload(admin, "a.csv", data))
    assert (status["created"], status["updated"]) == (0, 0)
    changed = rows_csv([good_row("N001", "王小明改"), good_row("N002", "李小红", 23)])
    status, _ = await finished_job(admin, await upload(admin, "a.csv", changed))
    assert (status["created"], status["updated"]) == (0, 1)
    assert await count(settings.database_url, student_records) == total
    assert await count(settings.database_url, student_records, student_records.c.name == "王小明改") == 1


async def test_xlsx_upload_and_stored_under_a_server_name(admin, world, settings):
    book = openpyxl.Workbook()
    book.active.append(HEADER.split(","))
    book.active.append(good_row("X001").split(","))
    out = io.BytesIO()
    book.save(out)
    status, _ = await finished_job(admin, await upload(
        admin, "../../etc/名单.xlsx", out.getvalue(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    assert status["created"] == 1
    db = Database(settings.database_url)
    async with db.read() as conn:
        job = (await conn.execute(sa.select(import_jobs))).one()
    await db.dispose()
    assert job.filename == "名单.xlsx"
    assert job.stored_path.startswith(str(settings.data_dir / "imports"))
    assert "名单" not in job.stored_path and ".." not in job.stored_path


async def test_renamed_executable_fails_with_a_clear_message(admin, world):
    status, page = await finished_job(admin, await upload(admin, "名单.xlsx", b"MZ\x90\x00" * 100))
    assert status["status"] == "failed"
    assert "导入失败：文件内容不是有效的 xlsx 表格" in page


async def test_missing_wrong_type_and_oversized_files_are_refused_at_once(admin, world, settings, app):
    form = aiohttp.FormData()
    form.add_field("_csrf", admin.csrf())
    resp = await admin.client.post("/school/imports", data=form, allow_redirects=False)
    assert resp.status == 400
    assert field_error(await resp.text(), "file") == "请选择要导入的 xlsx 或 csv 文件"
    resp = await upload(admin, "a.pdf", b"%PDF-1.4")
    assert field_error(await resp.text(), "file") == "只支持 .xlsx 或 .csv 文件"
    big = rows_csv([good_row("N001")]) + b"#" * settings.upload_max_bytes
    resp = await upload(admin, "big.csv", big)
    assert resp.status in (400, 413)
    assert await count(settings.database_url, import_jobs) == 0


async def test_template_download(admin):
    resp = await admin.get("/school/imports/template.xlsx")
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="students.xlsx"; ')
    book = openpyxl.load_workbook(io.BytesIO(await resp.read()))
    assert [c.value for c in book.worksheets[0][1]] == HEADER.split(",")


async def test_unfinished_jobs_resume_after_a_restart(world, settings, clock, aiohttp_client):
    """A job left queued (the process died) runs when the app starts again."""
    from app.offload import CpuPool
    from app.students.imports import ImportRunner
    from app.web import create_app
    db = Database(settings.database_url)
    runner = ImportRunner(db, settings, clock, CpuPool(1))
    job_id = await runner.create(school_id=world.schools[0].id, account_id=None,
                                 filename="a.csv", data=rows_csv([good_row("R001")]))
    await db.dispose()
    app = create_app(settings, clock=clock)
    await aiohttp_client(app)
    await app[IMPORTS].drain()
    assert await count(settings.database_url, import_jobs, import_jobs.c.id == job_id,
                       import_jobs.c.status == "done") == 1
    assert await count(settings.database_url, student_records,
                       student_records.c.student_no == "R001") == 1
