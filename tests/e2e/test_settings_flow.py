"""学校设置 and 操作日志 in Chromium: a school admin opens 学校设置 from 管理中心, is told next to
the field what is wrong with a hall time (the unticked 开放线上应约 stays unticked), saves with
线上应约 switched off, finds the change in 操作日志, and the student's 签约中心 shows 暂未开启 on
the next load. (就业统计's filters and export are walked in test_statistics_flow.py.)"""

from __future__ import annotations

from playwright.async_api import expect

from tests.e2e.test_review_flow import login_staff, login_student
from tests.registration_helpers import ready_student


async def test_school_admin_switches_off_online_signing_and_the_student_sees_it(
        page, browser, live_server, world, settings, clock):
    student = await ready_student(settings.database_url, world, clock.now())
    student_ctx = await browser.new_context(base_url=str(live_server.make_url("/")), locale="zh-CN")
    student_ctx.set_default_timeout(15_000)
    pupil = await student_ctx.new_page()
    await login_student(pupil, student.email)
    await pupil.get_by_role("link", name="签约中心").click()
    await expect(pupil.get_by_role("heading", name="线上应约")).to_be_visible()
    await expect(pupil.locator("#invitations")).to_be_visible()
    await expect(pupil.locator("#online-closed")).to_have_count(0)

    await login_staff(page, "school_admin0")
    await page.locator("#staff-nav").get_by_role("link", name="学校设置").click()
    await expect(page.get_by_role("heading", name="学校设置", level=1)).to_be_visible()
    online = page.get_by_label("开放线上应约")
    await expect(online).to_be_checked()
    await online.uncheck()
    await page.get_by_label("呼叫后应答时限（秒）").fill("5")
    await page.get_by_role("button", name="保存设置").click()
    await expect(page.locator("#f-hall_answer_grace_seconds-error")).to_contain_text("10–600")
    await expect(page.get_by_label("呼叫后应答时限（秒）")).to_have_value("5")
    await expect(page.get_by_label("开放线上应约")).not_to_be_checked()
    await page.get_by_label("呼叫后应答时限（秒）").fill("")
    await page.get_by_role("button", name="保存设置").click()
    await expect(page.locator("#done-message")).to_have_text("设置已保存。")
    await expect(page.get_by_label("开放线上应约")).not_to_be_checked()

    await page.locator("#staff-nav").get_by_role("link", name="操作日志").click()
    await expect(page.get_by_role("heading", name="操作日志", level=1)).to_be_visible()
    row = page.locator("#audit-rows tbody tr").first
    await expect(row).to_contain_text("修改学校设置")
    await expect(row).to_contain_text("school_admin0")
    await expect(row).to_contain_text("开放线上应约：是 → 否")

    await pupil.reload()
    await expect(pupil.locator("#online-closed")).to_have_text("暂未开启")
    await expect(pupil.locator("#invitations")).to_have_count(0)
    await student_ctx.close()
