"""The manual's 8.4 就业信息登记 in a real Chromium: a student with approved 生源信息 and a
confirmed phone clicks 【就业信息登记】 → 【就业信息上报】 → 【编辑】, picks a branch, goes
【返回重新选择毕业去向】, picks 【应征义务兵】, fills it with an uploaded 入伍通知书 image and
clicks 【保存并审核】; the counselor approves it from their queue's review page by keyboard, and
the school admin, on a phone, after a look at it, from the list as a batch of one (nothing
scrolling sideways); the student's page shows 应征义务兵 as the effective 毕业去向."""

import datetime as dt
import io

import pytest
from PIL import Image
from playwright.async_api import expect

from app.clock import ManualClock
from tests.e2e.test_review_flow import login_staff, login_student
from tests.e2e.phone import PHONE, no_sideways
from tests.registration_helpers import ready_student


@pytest.fixture
def clock() -> ManualClock:
    """June of the graduation year: registration is open."""
    return ManualClock(dt.datetime(2026, 6, 1, 1, 0, tzinfo=dt.timezone.utc))


async def staff_page(browser, live_server, username, **device):  # noqa: ANN001, ANN201
    context = await browser.new_context(base_url=str(live_server.make_url("/")), locale="zh-CN",
                                        **device)
    context.set_default_timeout(10_000)
    page = await context.new_page()
    await login_staff(page, username)
    return context, page


async def test_student_registers_military_service_and_both_levels_approve(
        page, browser, live_server, world, settings, clock, tmp_path):
    student = await ready_student(settings.database_url, world, clock.now())
    notice = tmp_path / "入伍通知书.png"
    buf = io.BytesIO()
    Image.new("RGB", (120, 80), "green").save(buf, "PNG")
    notice.write_bytes(buf.getvalue())

    await login_student(page, student.email)
    await page.get_by_role("link", name="签约中心").click()
    await page.get_by_role("link", name="就业信息登记").click()
    await expect(page.locator("#current-destination")).to_have_text("待就业")
    await page.get_by_role("link", name="就业信息上报").click()
    await page.get_by_role("link", name="编辑", exact=True).click()
    await page.get_by_role("button", name="签劳动合同形式就业").click()
    await expect(page.get_by_label("单位名称")).to_be_visible()
    await page.get_by_label("单位名称").fill("不该留下的单位")
    await page.get_by_role("button", name="返回重新选择毕业去向").click()
    await expect(page.get_by_role("heading", name="选择毕业去向")).to_be_visible()
    await page.get_by_role("button", name="应征义务兵").click()
    await expect(page.locator("#branch-label")).to_have_text("应征义务兵")
    await expect(page.get_by_label("单位名称")).to_have_count(0)
    await page.get_by_label("入伍地（省）").select_option(label="重庆市")
    await page.get_by_label("入伍地（市）").select_option(label="市辖区")
    await page.get_by_label("入伍地（区县）").select_option(label="渝中区")
    await page.get_by_label("入伍通知书/预定兵通知书").set_input_files(str(notice))
    await page.get_by_role("button", name="保存并审核").click()
    await expect(page.get_by_text("已提交，请等待学院审核。")).to_be_visible()
    await expect(page.locator("#registration-state")).to_have_text("待学院审核")

    # the counselor opens it from their queue and approves it by keyboard
    context, staff = await staff_page(browser, live_server, "counselor0")
    await staff.get_by_role("link", name="就业信息登记审核").click()
    await expect(staff.locator("#list-count strong")).to_have_text("1")
    await expect(staff.locator("#registration-queue .state-badge")).to_have_text("待学院审核")
    await staff.get_by_role("row", name=student.name).get_by_role("link", name="审核").click()
    await expect(staff.locator("#registration-branch")).to_have_text("应征义务兵")
    await expect(staff.get_by_role("link", name="入伍通知书.png")).to_be_visible()  # as chosen
    await expect(staff.get_by_role("img", name="入伍通知书/预定兵通知书")).to_be_visible()
    await expect(staff.locator("#review-keys")).to_contain_text("A 选中【通过】（回车确认）")
    await staff.keyboard.press("a")
    await expect(staff.get_by_role("button", name="通过")).to_be_focused()
    await staff.keyboard.press("Enter")
    await expect(staff.locator("#review-done")).to_have_text(
        f"已通过：{student.name}（{student.student_no}）。这一队列已处理完。")
    await expect(staff.locator("#registration-state")).to_have_text("待学校审核")
    await context.close()

    # the school admin, on a phone, looks at it, then approves it from the list as a batch
    # of one; nothing scrolls sideways
    context, staff = await staff_page(browser, live_server, "school_admin0", **PHONE)
    await staff.get_by_role("link", name="就业信息登记审核").click()
    await expect(staff.locator("#list-count strong")).to_have_text("1")
    await no_sideways(staff)
    await staff.get_by_role("row", name=student.name).get_by_role("link", name="审核").click()
    await expect(staff.get_by_role("link", name="入伍通知书.png")).to_be_visible()
    await no_sideways(staff)
    await staff.get_by_role("link", name="返回列表").click()
    await staff.get_by_label(f"选择{student.name}").check()
    await staff.get_by_role("button", name="批量通过").click()
    await expect(staff.locator("#batch-count")).to_have_text("1")
    await staff.get_by_role("button", name="确认通过 1 条").click()
    await expect(staff.locator("#batch-done")).to_have_text("已通过 1 条就业信息登记。")
    await staff.get_by_role("link", name="返回列表").click()
    await expect(staff.locator("#list-count strong")).to_have_text("0")
    await no_sideways(staff)
    await context.close()

    await page.reload()
    await expect(page.locator("#current-destination")).to_have_text("应征义务兵")
    await expect(page.locator("#registration-state")).to_have_text("已通过")
    await expect(page.locator("#history tbody tr")).to_have_count(3)
