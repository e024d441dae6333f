"""就业统计 in Chromium: a school admin opens it from 管理中心, filters by year and college
(the filters land in the URL), exports 毕业生去向 with those filters (a job: its page offers
the file when written), downloads it and opens it with openpyxl: one row per graduate of
exactly that part."""

import re

import openpyxl
from playwright.async_api import expect

from app.db import Database
from app.statistics.exports import GRADUATE_HEADER
from tests.factories import PASSWORD
from tests.statistics_kit import populate


async def test_school_admin_filters_downloads_and_opens_the_export(page, settings, world, clock,
                                                                  tmp_path):
    sd = world.schools[0]
    db = Database(settings.database_url)
    try:
        async with db.write() as conn:
            grads = await populate(conn, sd.id, list(zip(sd.college_ids, sd.major_ids)), 120,
                                   seed=3, now=clock.now(), prefix="E")
    finally:
        await db.dispose()
    college = sd.college_ids[1]
    part = [g for g in grads if g.year == 2025 and g.college_id == college]
    assert part

    await page.goto("/login/staff")
    await page.get_by_label("用户名", exact=True).fill(world.staff["school_admin0"][0])
    await page.get_by_label("密码", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page).not_to_have_url("**/login/staff")
    await page.goto("/school")
    await page.locator("#staff-nav").get_by_role("link", name="就业统计").click()
    await expect(page.get_by_role("heading", name="就业统计", level=1)).to_be_visible()
    await page.get_by_label("毕业年份").select_option("2025")
    await page.get_by_label("学院").select_option(str(college))
    await page.get_by_role("button", name="查询").click()
    await expect(page).to_have_url(re.compile(rf"/statistics\?year=2025&college={college}$"))
    await expect(page.locator("#overall-total")).to_have_text(str(len(part)))
    await expect(page.locator("#breakdown-major svg.chart")).to_be_visible()

    await page.get_by_role("button", name="导出毕业生去向").click()
    await expect(page).to_have_url(re.compile(r"/exports/\d+$"))
    async with page.expect_download() as info:
        await page.get_by_role("link", name="下载文件").click(timeout=60_000)
    download = await info.value
    path = tmp_path / "export.xlsx"
    await download.save_as(path)
    rows = list(openpyxl.load_workbook(path)["毕业生去向"].iter_rows(values_only=True))
    assert list(rows[0]) == GRADUATE_HEADER
    numbers = sorted(r[GRADUATE_HEADER.index("学号")] for r in rows[1:])
    assert len(numbers) == len(part)
    assert {r[GRADUATE_HEADER.index("毕业年份")] for r in rows[1:]} == {2025}
    assert {r[GRADUATE_HEADER.index("学院代码")] for r in rows[1:]} == {"02"}
