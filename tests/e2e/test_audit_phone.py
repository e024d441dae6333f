"""操作日志 and the two outboxes on a 375×667 phone: rows are cards, an 操作日志 card shows its
key fields with a long detail folded (no card is half a screen tall), the filter bar folds
behind 筛选 and finds one student's rows; nothing scrolls sideways."""

import datetime as dt

from playwright.async_api import expect

from app import audit
from app.db import Database
from app.sms.outbox import enqueue as enqueue_sms
from tests import todo_kit as kit
from tests.e2e.phone import SMALL_PHONE, no_sideways, staff_on_a_phone
from tests.factories import PASSWORD


async def _rows(settings, world, now) -> int:  # noqa: ANN001
    """Rows with long reasons and details about a student's 生源信息 and another's; returns
    the id of the student's."""
    db = Database(settings.database_url)
    student = world.active_student(0)
    try:
        async with db.write() as conn:
            origin = await kit.origin(conn, student.record_id, "submitted", now)
            other = await kit.origin(conn, world.students[1].record_id, "submitted", now)
            for i in range(12):
                await audit.record(
                    conn, at=now + dt.timedelta(minutes=i), actor_id=world.staff["counselor0"][1],
                    action="origin.return", entity="origin", entity_id=origin if i % 2 else other,
                    from_state="submitted", to_state="returned",
                    reason="家庭住址与户籍所在地不一致，请核对后重新提交" * 3,
                    detail={"role": "counselor", "address": "x" * 120})
            await kit.mail(conn, "failed", now)
            await enqueue_sms(conn, to="13900000001", text="【就业网】验证码 123456，" * 4,
                              purpose="phone_code", at=now)
    finally:
        await db.dispose()
    return origin


async def test_the_log_and_the_outboxes_are_cards_on_a_phone(browser, live_server, world,
                                                             settings, clock):
    origin = await _rows(settings, world, clock.now())
    async with staff_on_a_phone(browser, live_server, world.staff["school_admin0"][0], device=SMALL_PHONE) as page:
        await expect(page.locator("h1")).to_have_text("管理中心")
        await page.goto("/audit")
        await expect(page.locator("#audit-rows tbody tr").first).to_be_visible()
        await no_sideways(page)
        heights = await page.locator("#audit-rows tbody tr").evaluate_all(
            "rows => rows.map(r => r.getBoundingClientRect().height)")
        assert len(heights) >= 12 and max(heights) < 667 / 2, heights
        # a folded detail opens in place, still within the screen's width
        await page.locator("#audit-rows details summary").first.click()
        await no_sideways(page)
        # the filters fold behind 筛选: one student's rows
        student = world.active_student(0)
        await expect(page.get_by_label("学生（学号或姓名）")).to_be_hidden()   # folded once the page script ran
        await page.locator("summary", has_text="筛选").click()
        await page.get_by_label("学生（学号或姓名）").fill(student.student_no)
        await page.get_by_role("button", name="筛选", exact=True).click()
        await expect(page.locator("#list-count strong")).to_have_text("6")
        await expect(page.locator("#audit-rows .item-link").first).to_have_attribute(
            "href", f"/reviews/origins/{origin}")
        await no_sideways(page)
        await page.context.clear_cookies()
        await page.goto("/login/staff")
        await page.get_by_label("用户名", exact=True).fill("platform")
        await page.get_by_label("密码", exact=True).fill(PASSWORD)
        await page.get_by_role("button", name="登录").click()
        await expect(page.locator("h1")).to_have_text("平台管理中心")
        for path, table in (("/platform/outbox", "#outbox-list"), ("/platform/sms", "#sms-list")):
            await page.goto(path)
            await expect(page.locator(f"{table} tbody tr").first).to_be_visible()
            await expect(page.locator(f"{table} .state-badge").first).to_be_visible()
            await no_sideways(page)
