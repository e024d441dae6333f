"""签约中心 and 解约中心 on a 375 px phone, in a real Chromium: the 就业协议书 as shown on screen
(QR code and addresses in view) and the 解约中心 tables (rows become cards) never scroll
sideways, neither the page nor any box inside it, for the student and for the employer."""

from __future__ import annotations

from playwright.async_api import expect

from app.roles import Role
from tests.e2e.test_hall_phone import NO_SIDEWAYS_SCROLL
from tests.e2e.test_review_flow import login_student
from tests.factories import PASSWORD
from tests.signing_kit import ready_student
from tests.termination_kit import identity, invite_by_service

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}
# A box that scrolls sideways inside the page (a table or the sheet in an overflow box) or
# sticks out past the screen's right edge hides its end just as a scrolling page does.
SIDEWAYS_INSIDE = """() => [...document.querySelectorAll('main *')].filter(el => {
    const r = el.getBoundingClientRect();
    const scrolls = ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
    return r.width > 0 && (r.right > window.innerWidth + 0.5
                           || (scrolls && el.scrollWidth > el.clientWidth + 1));
  }).map(el => el.tagName + (el.id ? '#' + el.id : '') + (el.className ? '.' + el.className : ''))"""


async def phone_page(browser, live_server):  # noqa: ANN001, ANN201
    context = await browser.new_context(base_url=str(live_server.make_url("/")), locale="zh-CN", **PHONE)
    context.set_default_timeout(10_000)
    return context, await context.new_page()


async def fits(page, path: str) -> None:  # noqa: ANN001
    await page.goto(path)
    assert await page.evaluate(NO_SIDEWAYS_SCROLL), path
    assert await page.evaluate(SIDEWAYS_INSIDE) == [], path


async def test_agreement_sheet_and_termination_tables_fit_375px(browser, live_server, world,
                                                                settings, clock):
    db, now = settings.database_url, clock.now()
    await ready_student(db, world, now)
    employer = identity(world, "employer", Role.EMPLOYER, world.employer_id)
    aid = await invite_by_service(db, world, employer, now, agree=True, approve=True)

    context, student = await phone_page(browser, live_server)
    await login_student(student, world.active_student().email)
    await fits(student, f"/student/signing/agreements/{aid}")
    await fits(student, "/student/termination")
    # A request on record: both tables have rows.
    await student.get_by_role("link", name="解约申请").click()
    await student.get_by_label("解约原因").select_option(label="继续深造")
    await student.get_by_label("解约说明").fill("考取研究生，单位同意解约，违约金已结清")
    await student.get_by_label("解约函").set_input_files(
        files=[{"name": "解约函.pdf", "mimeType": "application/pdf",
                "buffer": b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n%%EOF\n"}])
    await student.get_by_role("button", name="提交").click()
    await expect(student.locator("#request-state")).to_have_text("待学院审核")
    await fits(student, "/student/termination")
    await expect(student.locator("#termination-requests").get_by_role("link", name="查看")).to_be_visible()
    await context.close()

    context, unit = await phone_page(browser, live_server)
    await unit.goto("/login/employer")
    await unit.get_by_label("用户名/邮箱").fill("employer")
    await unit.get_by_label("密码", exact=True).fill(PASSWORD)
    await unit.get_by_role("button", name="登录").click()
    await expect(unit.get_by_role("heading", name="单位中心")).to_be_visible()
    await fits(unit, f"/employer/agreements/{aid}")
    await fits(unit, "/employer/termination")
    await context.close()
