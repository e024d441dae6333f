"""大厅监控 in three real Chromium contexts: the platform admin watches /monitor while a
student queues (the booth card shows the waiter without a reload), the employer calls and
both sides decode video (the card shows the call and both sides' quality figures, sent by
the browsers every few seconds), and the admin posts a notice to the whole hall, which the
student's and the employer's pages show at once."""

import re

from playwright.async_api import expect

from tests.factories import PASSWORD
from tests.hall_kit import build_hall

FRAMES = "() => window.hallCall && window.hallCall.lastStats && window.hallCall.lastStats.framesDecoded > 0"
NOTICE = "各位同学请注意：面试大厅将在十分钟后开放第二批面试间。"


async def login(page, path, account, label):
    await page.goto(path)
    await page.get_by_label(label, exact=True).fill(account)
    await page.get_by_label("密码", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()


async def test_admin_watches_queue_call_quality_and_posts_notice(browser, live_server, world,
                                                                 settings, clock):
    hall = await build_hall(world, settings, clock, students=1)
    s = hall["students"][0]
    base = str(live_server.make_url("/"))
    contexts = [await browser.new_context(base_url=base, locale="zh-CN") for _ in range(3)]
    try:
        for c in contexts:
            c.set_default_timeout(20_000)
        admin, student, employer = [await c.new_page() for c in contexts]
        errors = []
        for name, p in (("admin", admin), ("student", student), ("employer", employer)):
            p.on("pageerror", lambda exc, name=name: errors.append(f"{name}: {exc}"))

        # --- the platform admin opens the monitor: the socket connects, the booth is listed
        await login(admin, "/login/staff", "platform", "用户名")
        await expect(admin).not_to_have_url("**/login/staff")
        await admin.goto("/monitor")
        await expect(admin.locator("#monitor-status")).to_have_text("实时数据已连接")
        card = admin.locator(f'.booth-card[data-session-id="{hall["session_id"]}"]')
        await expect(card).to_be_visible()
        await expect(card.locator("h3")).to_contain_text("测试科技有限公司")
        await expect(card.locator("dd.count-waiting")).to_have_text("0")

        # the first slot passes with nobody of the employer's in the room
        clock.advance(minutes=2)

        # --- the student queues: the admin's card counts the waiter without a reload
        await login(student, "/login/student", s.email, "学号/邮箱/手机号")
        await student.get_by_role("link", name="我的面试").first.click()
        await student.get_by_role("link", name="查看面试邀请").first.click()
        await student.get_by_role("link", name="洽谈面试大厅").click()
        await student.get_by_role("button", name="开始检测").click()
        await expect(student.get_by_role("button", name="开始排队")).to_be_enabled(timeout=30_000)
        await student.get_by_role("button", name="开始排队").click()
        await expect(student.locator("#queue-position")).to_have_text("1")

        await expect(card.locator("dd.count-waiting")).to_have_text("1")
        await expect(card.locator("h3")).to_contain_text("测试科技有限公司")
        await expect(card).to_contain_text(s.name)
        # the new alert is announced once, in its own live region (the list is rebuilt)
        announce = admin.locator("#alert-announce")
        await expect(announce).to_have_attribute("aria-live", "polite")
        await expect(announce).to_have_text(re.compile(r"^新提醒：测试科技有限公司：首个面试时段已过 \d+ 分钟，单位面试官不在面试间$"))

        # --- the employer calls, the student answers, video flows both ways
        await login(employer, "/login/employer", "employer", "用户名/邮箱")
        await employer.goto(f"/hall/booths/{hall['session_id']}")
        await expect(employer.locator("#booth-status")).to_have_text("已连接")
        await expect(employer.locator("#waiting-count")).to_have_text("1")
        await employer.get_by_role("button", name="呼叫下一位").click()
        await student.get_by_role("button", name="接听").click()
        await student.wait_for_function(FRAMES, timeout=30_000)
        await employer.wait_for_function(FRAMES, timeout=30_000)

        # --- the card shows the call and both sides' figures (first sample ~8 s in)
        call = card.locator(".call-box")
        await expect(call).to_contain_text(s.name, timeout=30_000)
        await expect(card.locator("dd.count-waiting")).to_have_text("0")
        for side in ("student", "employer"):
            figures = call.locator(f'.quality[data-side="{side}"] span')
            await expect(figures).to_contain_text("延迟", timeout=30_000)
            await expect(figures).to_contain_text("kbps", timeout=30_000)

        # --- a notice to the whole hall reaches both pages at once
        await expect(admin.get_by_label("面试间", exact=True)).to_have_value("")
        await admin.get_by_label("通知内容", exact=True).fill(NOTICE)
        await admin.get_by_role("button", name="发布通知").click()
        await expect(admin.locator("#monitor-status")).to_have_text("通知已发布")
        await expect(admin.locator("#notice-list")).to_contain_text(NOTICE)
        await expect(admin.get_by_label("通知内容", exact=True)).to_have_value("")
        for p in (student, employer):
            box = p.locator("#hall-notices")
            await expect(box).to_be_visible()
            await expect(box).to_contain_text(NOTICE)
        # the call is still up after the notice
        await expect(student.locator("#stage-call")).to_be_visible()

        assert errors == [], f"page errors: {errors}"
    finally:
        for c in contexts:
            await c.close()
