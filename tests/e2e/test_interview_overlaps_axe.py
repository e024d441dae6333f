"""axe-core over the pages that warn of overlapping interviews: the demo data has none, so
the walk of every page (test_accessibility.py) never shows these warnings."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.async_api import expect

from app.applications import service as applications
from app.db import Database
from app.interviews import rules
from app.interviews import service as interviews
from app.uploads import FileStore
from tests.e2e.axe import audit
from tests.factories import PASSWORD
from tests.helpers import published_job, saved_resume
from tests.signing_kit import second_employer

pytestmark = pytest.mark.engine_independent  # markup only: the SQLite run covers it


async def overlapping_invitations(world, settings, now: dt.datetime) -> tuple[int, dt.date]:  # noqa: ANN001
    """The student accepted another employer's interview at 10:00–10:30 tomorrow; ours, at
    10:15, waits for an answer → (our interview id, the day)."""
    other_id, _, other_account = await second_employer(settings.database_url, now)
    platform = world.staff["platform"][1]
    student = world.active_student(0)
    await saved_resume(settings.database_url, student.account_id, now, name=student.name)
    day = (now.astimezone(rules.CHINA) + dt.timedelta(days=1)).date()
    db = Database(settings.database_url)
    try:
        ids = []
        for employer, actor, start in ((other_id, other_account, dt.time(10, 0)),
                                       (world.employer_id, world.staff["employer"][1], dt.time(10, 15))):
            job = await published_job(settings.database_url, employer, actor, platform, now)
            async with db.write() as conn:
                app_id = await applications.apply(conn, FileStore(settings.data_dir), job_id=job,
                                                  account_id=student.account_id, now=now)
                ids += await interviews.invite(
                    conn, employer_id=employer, application_ids=[app_id],
                    first=rules.china_datetime(day, start), minutes=30, note="", actor_id=actor,
                    now=now, base_url=settings.public_base_url)
        async with db.write() as conn:
            await interviews.answer(conn, await interviews.for_student(conn, student.account_id, ids[0]),
                                    "accept", account_id=student.account_id, now=now)
    finally:
        await db.dispose()
    return ids[1], day


async def login(page, path: str, account: str, label: str) -> None:  # noqa: ANN001
    await page.goto(path)
    await page.get_by_label(label, exact=True).fill(account)
    await page.get_by_label("密码", exact=True).fill(PASSWORD)
    async with page.expect_navigation():
        await page.get_by_role("button", name="登录").click()


async def test_overlap_warnings_pass_axe(browser, live_server, world, settings, clock):
    ours, day = await overlapping_invitations(world, settings, clock.now())
    context = await browser.new_context(base_url=str(live_server.make_url("/")), locale="zh-CN")
    try:
        page = await context.new_page()
        problems = []
        await login(page, "/login/student", world.active_student(0).email, "学号/邮箱/手机号")
        await page.goto(f"/student/interviews/{ours}")
        accept = page.get_by_role("button", name="接受", exact=True)
        # the warning is what a screen reader says of the button it concerns
        await expect(accept).to_have_accessible_description(re.compile(r"^注意：该时段与你已接受的.*仍可接受"))
        problems += await audit(page, "学生 面试邀请（时段重叠）")
        async with page.expect_navigation():
            await accept.click()
        await expect(page.locator("#overlap-warning")).to_contain_text("请合理安排")
        problems += await audit(page, "学生 已接受（时段重叠）")
        await context.clear_cookies()
        await login(page, "/login/employer", "employer", "用户名/邮箱")
        await page.goto(f"/employer/interviews?day={day}&invited={ours}")
        await expect(page.locator("#invite-clash-notice")).to_contain_text("该学生此时段已有其他面试")
        problems += await audit(page, "单位 面试日程（时段重叠）")
    finally:
        await context.close()
    assert problems == [], "\n".join(problems)
