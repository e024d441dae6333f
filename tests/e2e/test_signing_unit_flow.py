"""线下签约 with a REGISTERED unit, in a real Chromium: the student enters an agreement whose
统一社会信用代码 is the world's registered employer's (测试科技有限公司), is told on the preview
(#confirm-route) that the unit confirms in its 单位中心, and 发给单位确认 mails nothing to the
address the student typed. The employer logs in, finds it in 就业协议书 (待单位确认), is refused
需要修改 without a comment (the message beside the field, nothing changed), asks for a change,
the student sees the comment and sends again, the employer 确认无误, the student 【保存并生成
协议书】, and the QR code's verification page names the unit without 单位未注册. Then the
employer's part again on a 375 px phone: nothing scrolls sideways.
(The same rules through HTTP: tests/test_signing_unit_binding.py.)
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.async_api import expect

from app.db import Database
from app.tables import accounts, email_outbox
from tests.e2e.conftest import _form_rejection
from tests.e2e.test_hall_phone import NO_SIDEWAYS_SCROLL
from tests.e2e.test_review_flow import login_student
from tests.e2e.test_signing_flow import fill_agreement
from tests.factories import PASSWORD, credit_code
from tests.signing_kit import AGREEMENT, agreement_row, ready_student

UNIT = "测试科技有限公司"          # the world's registered employer, credit_code(1)
TYPED = AGREEMENT["email"]          # the unit email the student types: never mailed here
COMMENT = "岗位名称应为测试工程师"
PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}


async def _outbox_to(database_url: str, address: str) -> list[str]:
    """Subjects of every mail ever queued for this address (sent or not)."""
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return list((await conn.execute(sa.select(email_outbox.c.subject).where(
                email_outbox.c.to_addr == address))).scalars())
    finally:
        await db.dispose()


async def _email_of(database_url: str, account_id: int) -> str:
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return (await conn.execute(sa.select(accounts.c.email).where(
                accounts.c.id == account_id))).scalar_one()
    finally:
        await db.dispose()


async def _context(browser, live_server, errors: list[str], **options):  # noqa: ANN001, ANN003, ANN202
    """A person's browser context, its page errors collected like the page fixture's."""
    context = await browser.new_context(base_url=str(live_server.make_url("/")), locale="zh-CN",
                                        **options)
    context.set_default_timeout(10_000)
    page = await context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and not _form_rejection(msg.text)
            and errors.append(f"{msg.text} at {msg.location.get('url')}"))
    return context, page


async def _login_employer(unit) -> None:  # noqa: ANN001
    await unit.goto("/")
    await unit.get_by_role("link", name="我是单位").first.click()
    await unit.get_by_label("用户名/邮箱", exact=True).fill("employer")
    await unit.get_by_label("密码", exact=True).fill(PASSWORD)
    await unit.get_by_role("button", name="登录").click()
    await expect(unit.get_by_role("heading", name="单位中心")).to_be_visible()


async def _enter_and_send(page, student) -> int:  # noqa: ANN001
    """签约中心 → 线下签约 → 【录入协议书】 with the registered unit's credit code →
    【预览协议书】 → 发给单位确认; returns the agreement's id."""
    await login_student(page, student.email)
    await page.get_by_role("link", name="签约中心").click()
    await page.get_by_role("link", name="线下签约").click()
    await page.get_by_role("link", name="录入协议书").click()
    await fill_agreement(page)
    await page.locator("#f-unit_name").fill(UNIT)
    await page.locator("#f-credit_code").fill(credit_code(1))
    await page.get_by_role("button", name="预览协议书").click()
    await expect(page.get_by_role("heading", name="预览协议书")).to_be_visible()
    await expect(page.locator("#sheet-unit_name")).to_have_text(UNIT)
    route = page.locator("#confirm-route")
    await expect(route).to_contain_text("已在本网注册")
    await expect(route).to_contain_text("单位中心")
    await expect(route).not_to_contain_text(TYPED)
    await expect(route).not_to_contain_text("单位未注册")
    agreement_id = int(re.search(r"/offline/(\d+)/preview", page.url).group(1))
    await page.get_by_role("button", name="发给单位确认").click()
    await expect(page.locator("#sent-message")).to_contain_text("单位中心确认")
    await expect(page.locator("#sent-message")).not_to_contain_text(TYPED)
    await expect(page.locator("#preview-state")).to_have_text("待单位确认")
    return agreement_id


async def _open_in_unit_centre(unit, student_name: str) -> None:  # noqa: ANN001
    """单位中心 → 就业协议书: the student's 线下签约 row waits for the unit; 查看 opens it."""
    await unit.get_by_role("link", name="就业协议书", exact=True).click()
    row = unit.locator("#employer-agreements tbody tr", has_text=student_name)
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("线下签约")
    await expect(row).to_contain_text("待单位确认")
    await row.get_by_role("link", name="查看").click()
    await expect(unit.locator("#employer-agreement-state")).to_have_text("待单位确认")
    await expect(unit.locator("#sheet-unit_name")).to_have_text(UNIT)


async def _ask_changes_without_comment(unit, database_url: str, agreement_id: int) -> None:  # noqa: ANN001
    """需要修改 with the comment left empty is refused."""
    comment = unit.get_by_label("需要修改的内容")
    await unit.get_by_role("button", name="需要修改", exact=True).click()
    # the Chinese message beside the field, nothing done
    field = unit.locator(".field", has=comment)
    await expect(field.locator(".field-error")).to_have_text("请填写需要修改的内容")
    await expect(comment).to_have_attribute("aria-invalid", "true")
    await expect(unit.locator("#done-message")).to_have_count(0)
    await expect(unit.locator("#employer-agreement-state")).to_have_text("待单位确认")
    row = await agreement_row(database_url, agreement_id)
    assert row.status == "awaiting" and row.employer_comment is None


async def _ask_changes(unit, database_url: str, agreement_id: int) -> None:  # noqa: ANN001
    """需要修改 with a comment: the agreement goes back to the student with it."""
    await unit.get_by_label("需要修改的内容").fill(COMMENT)
    confirm_url = re.compile(rf"/employer/agreements/{agreement_id}/confirm$")
    async with unit.expect_response(lambda r: r.request.method == "POST"
                                    and confirm_url.search(r.url)) as answered:
        await unit.get_by_role("button", name="需要修改", exact=True).click()
    assert (await answered.value).status == 303
    await expect(unit).not_to_have_url(confirm_url)  # the answer's page has opened
    row = await agreement_row(database_url, agreement_id)
    assert row.status == "draft" and row.employer_comment == COMMENT


async def _resend_after_comment(page) -> None:  # noqa: ANN001
    """The student finds the comment on the preview page and sends the agreement again."""
    await page.get_by_role("link", name="返回线下签约").click()
    row = page.locator("#offline-agreements tbody tr", has_text=UNIT)
    await expect(row).to_contain_text("录入中")
    await row.get_by_role("link", name="预览协议书").click()
    await expect(page.locator("#employer-comment")).to_have_text(f"用人单位要求修改：{COMMENT}")
    await expect(page.locator("#preview-state")).to_have_text("录入中")
    await page.get_by_role("button", name="发给单位确认").click()
    await expect(page.locator("#sent-message")).to_contain_text("单位中心确认")
    await expect(page.locator("#preview-state")).to_have_text("待单位确认")


async def _confirm(unit) -> None:  # noqa: ANN001
    await unit.get_by_role("link", name="单位中心").click()
    await unit.get_by_role("link", name="就业协议书", exact=True).click()
    row = unit.locator("#employer-agreements tbody tr", has_text="待单位确认")
    await expect(row).to_have_count(1)
    await row.get_by_role("link", name="查看").click()
    await expect(unit.locator("#employer-agreement-state")).to_have_text("待单位确认")
    await unit.get_by_role("button", name="确认无误").click()
    await expect(unit.locator("#done-message")).to_have_text("已确认协议书内容，学生可以保存并生成协议书。")
    await expect(unit.locator("#employer-agreement-state")).to_have_text("单位已确认")
    await expect(unit.locator("#employer-confirm")).to_have_count(0)


async def _generate(page, database_url: str, agreement_id: int) -> sa.Row:  # noqa: ANN001
    await page.reload()
    await expect(page.locator("#preview-state")).to_have_text("单位已确认")
    await expect(page.locator("#employer-comment")).to_have_count(0)
    await page.get_by_role("button", name="保存并生成协议书").click()
    await expect(page.locator("#detail-number")).to_have_text(re.compile(r"2026100013\d{5}"))
    row = await agreement_row(database_url, agreement_id)
    assert row.status == "generated" and row.employer_id is not None
    await expect(page.locator("#detail-number")).to_have_text(row.number)
    return row


async def _verification_names_the_unit(page, row: sa.Row) -> None:  # noqa: ANN001
    await page.goto(f"/verify/agreement/{row.verify_token}")
    await expect(page.locator("#verify-number")).to_have_text(row.number)
    employer = page.locator("dl.facts dt", has_text="用人单位").locator("xpath=following-sibling::dd[1]")
    await expect(employer).to_have_text(UNIT)
    await expect(page.locator("main")).not_to_contain_text("单位未注册")


async def test_registered_unit_confirms_the_offline_agreement_in_its_unit_centre(
        page, browser, live_server, world, settings, clock, mailbox):
    db = settings.database_url
    student = world.active_student()
    await ready_student(db, world, clock.now())
    unit_mail = await _email_of(db, world.staff["employer"][1])

    agreement_id = await _enter_and_send(page, student)
    # The unit's account is told in the same transaction that would have queued a mail to the
    # typed address: once that notice has been delivered, no such mail exists or arrived.
    await mailbox.wait_for(unit_mail)
    assert await _outbox_to(db, TYPED) == []
    assert [m for m in mailbox.messages if TYPED in m["To"]] == []

    errors: list[str] = []
    unit_ctx, unit = await _context(browser, live_server, errors)
    await _login_employer(unit)
    await _open_in_unit_centre(unit, student.name)
    await _ask_changes_without_comment(unit, db, agreement_id)
    await _ask_changes(unit, db, agreement_id)

    await _resend_after_comment(page)
    await mailbox.wait_for(unit_mail, count=2)
    assert await _outbox_to(db, TYPED) == []

    await _confirm(unit)
    await unit_ctx.close()
    assert errors == [], f"employer's browser errors: {errors}"

    row = await _generate(page, db, agreement_id)
    await _verification_names_the_unit(page, row)
    assert await _outbox_to(db, TYPED) == []
    assert [m for m in mailbox.messages if TYPED in m["To"]] == []


async def test_registered_units_detail_page_fits_a_375px_phone(browser, live_server, world, settings,
                                                                clock):
    db = settings.database_url
    student = world.active_student()
    await ready_student(db, world, clock.now())
    errors: list[str] = []
    student_ctx, page = await _context(browser, live_server, errors, **PHONE)
    agreement_id = await _enter_and_send(page, student)
    assert await page.evaluate(NO_SIDEWAYS_SCROLL), "student's preview, sent"

    unit_ctx, unit = await _context(browser, live_server, errors, **PHONE)
    await _login_employer(unit)
    await _open_in_unit_centre(unit, student.name)
    assert await unit.evaluate(NO_SIDEWAYS_SCROLL), "employer's detail page"
    await _ask_changes_without_comment(unit, db, agreement_id)
    assert await unit.evaluate(NO_SIDEWAYS_SCROLL), "employer's detail page, comment missing"
    await _ask_changes(unit, db, agreement_id)

    await _resend_after_comment(page)
    await _confirm(unit)
    assert await unit.evaluate(NO_SIDEWAYS_SCROLL), "employer's detail page, confirmed"

    row = await _generate(page, db, agreement_id)
    assert await page.evaluate(NO_SIDEWAYS_SCROLL), "student's agreement detail"
    await _verification_names_the_unit(page, row)
    assert await _outbox_to(db, TYPED) == []
    await unit_ctx.close()
    await student_ctx.close()
    assert errors == [], f"browser errors: {errors}"


async def test_the_employer_is_told_its_request_for_changes_was_sent(browser, live_server, world,
                                                                     settings, clock):
    await ready_student(settings.database_url, world, clock.now())
    errors: list[str] = []
    student_ctx, page = await _context(browser, live_server, errors)
    await _enter_and_send(page, world.active_student())
    await student_ctx.close()
    unit_ctx, unit = await _context(browser, live_server, errors)
    await _login_employer(unit)
    await _open_in_unit_centre(unit, world.active_student().name)
    await unit.get_by_label("需要修改的内容").fill(COMMENT)
    await unit.get_by_role("button", name="需要修改", exact=True).click()
    try:
        await expect(unit.get_by_role("status").filter(has_text="已退回学生修改")).to_be_visible()
        await expect(unit).to_have_url(re.compile(r"/employer/agreements\?done=ask_changes$"))
        await expect(unit.get_by_role("heading", name="页面不存在")).to_have_count(0)
    finally:
        await unit_ctx.close()
