"""The manual's 8.1–8.3 in a real Chromium. A student with approved 生源信息 clicks 【签约中心】,
does 手机认证 with the code a platform admin reads in 短信发件箱, then 【线下签约】 →
【录入协议书】 → 【预览协议书】 → 发给单位确认; the employer confirms through the mailed link
(no login); the student 【保存并生成协议书】, opens 【查看详情】 → 【查看原图】, uploads the stamped
agreement, and the school admin approves it. Then an employer 发起签约 for a student of the
other school, who reads the whole agreement and agrees. (8.4 就业信息登记 with 【应征义务兵】
and 【返回重新选择毕业去向】 is walked in test_registration_flow.py.)"""

from __future__ import annotations

import re

from PIL import Image
from playwright.async_api import expect

from tests.e2e.test_review_flow import login_staff, login_student, logout
from tests.review_helpers import approved_origin
from tests.signing_kit import AGREEMENT, MOBILE, ready_student

SELECTS = {"nature", "industry", "position_category", "archive_accept", "hukou_accept"}


async def fill_agreement(page) -> None:  # noqa: ANN001
    for name, value in AGREEMENT.items():
        if name == "area":
            await page.get_by_label("单位所在地（省）").select_option(label="重庆市")
            await page.get_by_label("单位所在地（市）").select_option(label="市辖区")
            await page.get_by_label("单位所在地（区县）").select_option(value=value)
        elif name in SELECTS:
            await page.locator(f"#f-{name}").select_option(value=value)
        elif value:
            await page.locator(f"#f-{name}").fill(value)


async def new_page(browser, live_server):  # noqa: ANN001, ANN201
    context = await browser.new_context(base_url=str(live_server.make_url("/")), locale="zh-CN")
    context.set_default_timeout(15_000)
    return context, await context.new_page()


async def test_phone_offline_agreement_and_online_invitation(page, browser, live_server, world, settings,
                                                             clock, mailbox, tmp_path):
    student = world.active_student()
    await approved_origin(settings.database_url, world, clock.now())

    # --- 8.1 手机认证: the code comes from the SMS outbox, read by a platform admin
    await login_student(page, student.email)
    await page.get_by_role("link", name="签约中心").click()
    await expect(page.get_by_role("heading", name="手机认证")).to_be_visible()
    await page.get_by_label("手机", exact=True).fill(MOBILE)
    await page.get_by_role("button", name="获取验证码").click()
    await expect(page.locator("#code-sent")).to_contain_text("验证码已发送至")
    admin_ctx, admin = await new_page(browser, live_server)
    await login_staff(admin, "platform")
    await admin.locator("#staff-nav").get_by_role("link", name="短信发件箱").click()
    text = await admin.get_by_role("row", name=re.compile(MOBILE)).first.text_content()
    code = re.search(r"\d{6}", text.replace(MOBILE, "")).group(0)
    await admin_ctx.close()
    await page.get_by_label("短信验证码").fill(code)
    await page.get_by_role("button", name="认证", exact=True).click()
    await expect(page.get_by_role("heading", name="签约中心")).to_be_visible()

    # --- 8.3 线下签约: 【录入协议书】 → 【预览协议书】 → 发给单位确认
    await page.get_by_role("link", name="线下签约").click()
    await page.get_by_role("link", name="录入协议书").click()
    await fill_agreement(page)
    await page.get_by_role("button", name="预览协议书").click()
    await expect(page.get_by_role("heading", name="预览协议书")).to_be_visible()
    await expect(page.locator("#sheet-unit_name")).to_have_text(AGREEMENT["unit_name"])
    await page.get_by_role("button", name="发给单位确认").click()
    await expect(page.locator("#sent-message")).to_be_visible()
    mail = (await mailbox.wait_for(AGREEMENT["email"]))[0]
    body = mail.get_body(("plain",)).get_content()
    link = re.search(r"(/agreements/confirm/\S+)", body).group(1)

    # --- the employer confirms through the link, without logging in
    unit_ctx, unit = await new_page(browser, live_server)
    await unit.goto(link)
    await expect(unit.locator("#sheet-position_title")).to_have_text(AGREEMENT["position_title"])
    await unit.get_by_role("button", name="确认无误").click()
    await expect(unit.locator("#confirm-result")).to_contain_text("已确认协议书内容")
    await unit_ctx.close()

    # --- 【保存并生成协议书】 → 【查看详情】 → 【查看原图】, then the stamped upload
    await page.reload()
    await expect(page.locator("#preview-state")).to_have_text("单位已确认")
    await page.get_by_role("button", name="保存并生成协议书").click()
    number = (await page.locator("#detail-number").text_content()).strip()
    assert re.fullmatch(r"2026100013\d{5}", number)
    href = await page.get_by_role("link", name="查看原图").get_attribute("href")
    png = await page.request.get(href)
    assert png.status == 200 and png.headers["content-type"] == "image/png"
    photo = tmp_path / "stamped.jpg"
    Image.new("RGB", (900, 1200), (250, 250, 250)).save(photo)
    await page.get_by_label("盖章协议书（多张照片或一个PDF）").set_input_files(str(photo))
    await page.get_by_role("button", name="上传并提交审核").click()
    await expect(page.locator("#uploaded-message")).to_be_visible()
    await expect(page.locator("#detail-state")).to_have_text("盖章协议书待学校审核")
    await logout(page)

    await login_staff(page, "school_admin0")
    await page.get_by_role("link", name="就业协议书审核").click()
    await page.get_by_role("row", name=student.name).get_by_role("link", name="查看").click()
    await page.get_by_role("button", name="通过").click()
    await expect(page.locator("#review-state")).to_have_text("已生效")
    await logout(page)

    await login_student(page, student.email)
    await page.get_by_role("link", name="签约中心").click()
    await expect(page.locator("#current-destination")).to_have_text("10 签就业协议形式就业")
    await logout(page)

    # --- 8.2 线上应约: an employer 发起签约 for the other school's student, who agrees
    other = world.active_student(1)
    await ready_student(settings.database_url, world, clock.now(), school=1)
    await page.goto("/")
    await page.get_by_role("link", name="我是单位").first.click()
    await page.get_by_label("用户名/邮箱", exact=True).fill("employer")
    await page.get_by_label("密码", exact=True).fill("Passw0rd!x")
    await page.get_by_role("button", name="登录").click()
    await page.get_by_role("link", name="就业协议书", exact=True).click()  # not 就业协议书验证
    await page.get_by_role("link", name="发起签约").click()
    await page.get_by_label("学校", exact=True).select_option(label=world.schools[1].name)
    await page.get_by_label("学号", exact=True).fill(other.student_no)
    await page.get_by_label("学生姓名").fill(other.name)
    await fill_agreement(page)
    await page.get_by_role("button", name="发起签约").click()
    await expect(page.locator("#done-message")).to_contain_text("已发起签约")
    await logout(page)

    await login_student(page, other.email)
    await page.get_by_role("link", name="签约中心").click()
    await page.get_by_role("row", name=re.compile("测试科技有限公司")).get_by_role("link", name="查看").click()
    await expect(page.locator("#sheet-remarks")).to_have_text(AGREEMENT["remarks"])
    await page.get_by_label("应聘意见").fill("本人同意到贵单位工作")
    await page.get_by_role("button", name="同意签约").click()
    await expect(page.locator("#done-message")).to_contain_text("已同意签约")
    await expect(page.locator("#invitation-state")).to_have_text("待学院审核")
    await expect(page.locator("#agreement-number")).to_have_text(re.compile(r"2026100023\d{5}"))
