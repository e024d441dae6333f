"""An export in a real Chromium: a school admin clicks 导出毕业生去向 on 就业统计; the progress
page opens at once and follows the job (queued, rows written / total, then the file
offered) without a reload; the download opens in openpyxl with the school's graduates; a
second click while one runs shows the same job; 我的导出 lists it."""

from __future__ import annotations

import asyncio
import io
import re

import openpyxl
import sqlalchemy as sa
from playwright.async_api import expect

from app.db import Database
from app.exports.runner import EXPORTS
from app.exports.tables import export_jobs
from tests.factories import PASSWORD
from tests.statistics_kit import populate


async def _set_job(database_url: str, **values: object) -> None:
    db = Database(database_url)
    try:
        async with db.write() as conn:
            await conn.execute(export_jobs.update().values(**values))
    finally:
        await db.dispose()


async def test_a_school_admin_exports_sees_progress_and_downloads(page, live_server, world,
                                                                  settings, clock):
    db = Database(settings.database_url)
    try:
        async with db.write() as conn:
            sd = world.schools[0]
            await populate(conn, sd.id, list(zip(sd.college_ids, sd.major_ids)), 300, seed=9,
                           now=clock.now(), prefix="X", years=(2026,))
    finally:
        await db.dispose()
    runner = live_server.app[EXPORTS]
    gate = asyncio.Event()  # the job waits until the test has seen its progress
    original = runner.run

    async def held(job_id: int) -> None:
        await gate.wait()
        await original(job_id)
    runner.run = held

    await page.goto("/login/staff")
    await page.get_by_label("用户名", exact=True).fill("school_admin0")
    await page.get_by_label("密码", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.goto("/statistics?year=2026")
    await page.get_by_role("button", name="导出毕业生去向").click()
    await expect(page).to_have_url(re.compile(r"/exports/\d+$"))
    await expect(page.get_by_role("heading", name=re.compile("导出：毕业生去向"))).to_be_visible()
    status = page.locator("#export-text")
    await expect(status).to_contain_text("排队中")
    download = page.get_by_role("link", name="下载文件")
    await expect(download).to_be_hidden()

    # rows written as a worker reports them: the page follows without a reload
    await _set_job(settings.database_url, status="running", total_rows=1000, processed_rows=500,
                   started_at=clock.now())
    await expect(status).to_contain_text("已写入 500 / 1,000 行")
    assert await page.locator("#export-bar").evaluate("b => [b.value, b.max]") == [500, 1000]

    # a second click while it runs: the same job, said so
    job_page = page.url
    await page.go_back()
    await page.get_by_role("button", name="导出毕业生去向").click()
    await expect(page.locator("#export-again")).to_contain_text("同样的导出正在进行")
    assert page.url.split("?")[0] == job_page

    await _set_job(settings.database_url, status="queued", total_rows=None, processed_rows=0,
                   started_at=None)
    gate.set()
    await expect(status).to_contain_text("导出完成", timeout=60_000)
    await expect(download).to_be_visible()
    async with page.expect_download() as info:
        await download.click()
    body = await (await info.value).path()
    book = openpyxl.load_workbook(io.BytesIO(open(body, "rb").read()))
    sheet = book["毕业生去向"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    assert sheet.max_row - 1 == await _graduates_of(settings.database_url, world.schools[0].id)

    await page.goto("/exports")
    await expect(page.locator("#export-list")).to_contain_text("毕业生去向")
    await expect(page.locator("#export-list")).to_contain_text("已完成")


async def _graduates_of(database_url: str, school_id: int) -> int:
    from app.tables import student_records as sr
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return (await conn.execute(sa.select(sa.func.count()).select_from(sr).where(
                sr.c.school_id == school_id, sr.c.graduation_year == 2026))).scalar_one()
    finally:
        await db.dispose()
