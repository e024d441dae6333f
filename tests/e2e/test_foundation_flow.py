"""The manual's first steps in a real Chromium: a school admin imports students, a student
activates by clicking 【学生激活】 and 【下一步】, logs out, recovers the password with the
code mailed to a real SMTP server, and logs in with the new one."""

import datetime as dt
import re

from playwright.async_api import expect

from app.validators import make_id_number
from tests.factories import PASSWORD
from tests.mailbox import code_in

ID_NUMBER = make_id_number("500103", dt.date(2004, 4, 4), 37)


async def test_import_activate_recover_and_login(page, world, mailbox, tmp_path):
    school = world.schools[0]
    # --- the school admin imports a file through the UI
    await page.goto("/")
    await page.get_by_role("link", name="管理人员登录").click()
    await page.get_by_label("用户名", exact=True).fill("school_admin0")
    await page.get_by_label("密码", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_role("heading", name="管理中心")).to_be_visible()
    await page.get_by_role("link", name="导入学生信息").click()
    csv_file = tmp_path / "毕业生名单.csv"
    csv_file.write_text("学号,姓名,身份证号,性别,学院,专业,学历,毕业年份,班级\n"
                        f"E2E001,周晓彤,{ID_NUMBER},男,信息学院,软件工程,本科生,2026,3班\n"
                        "E2E002,错误行,123,男,信息学院,软件工程,本科生,2026,3班\n",
                        encoding="utf-8-sig")
    await page.get_by_label("导入文件").set_input_files(str(csv_file))
    await page.get_by_role("button", name="开始导入").click()
    await expect(page.get_by_text("导入完成：共 2 行，新增 1 条，更新 0 条，失败 1 行")).to_be_visible()
    await expect(page.locator("#import-errors")).to_contain_text("身份证号")
    await page.get_by_role("button", name="退出").click()

    # --- the student activates, as the manual says
    await page.get_by_role("link", name="学生激活").first.click()
    await page.get_by_label("学校", exact=True).select_option(label=school.name)
    await page.get_by_label("学号", exact=True).fill("E2E001")
    await page.get_by_label("姓名", exact=True).fill("周晓彤")
    await page.get_by_label("身份证号", exact=True).fill(ID_NUMBER.lower())
    await page.get_by_role("button", name="下一步").click()
    await expect(page.get_by_role("heading", name="完善信息")).to_be_visible()
    await page.get_by_label("邮箱", exact=True).fill("zhou@e2e.example.cn")
    await page.get_by_label("手机号", exact=True).fill("13700001234")
    await page.get_by_label("密码", exact=True).fill("first1234")
    await page.get_by_label("确认密码", exact=True).fill("first1234")
    await page.get_by_role("button", name="下一步").click()
    await expect(page.get_by_role("heading", name="学生中心")).to_be_visible()
    await expect(page.locator("main")).to_contain_text("周晓彤")
    await page.get_by_role("button", name="退出").click()

    # --- 我是学生 → 忘记密码 → code from the real mail → new password
    await page.get_by_role("link", name="我是学生").first.click()
    await page.get_by_role("link", name="忘记密码").click()
    await page.get_by_label("学校", exact=True).select_option(label=school.name)
    await page.get_by_label("账号", exact=True).fill("E2E001")
    await page.get_by_role("button", name="下一步").click()
    await page.get_by_label("邮箱", exact=True).fill("zhou@e2e.example.cn")
    await page.get_by_role("button", name="获取验证码").click()
    await expect(page.get_by_text("验证码已发送到该邮箱")).to_be_visible()
    await expect(page.locator("#send-code")).to_be_disabled()  # resend cooldown shown
    [mail] = await mailbox.wait_for("zhou@e2e.example.cn")
    await page.get_by_label("邮箱验证码", exact=True).fill(code_in(mail))
    await page.get_by_role("button", name="下一步").click()
    await page.get_by_label("新密码", exact=True).fill("second1234")
    await page.get_by_label("确认密码", exact=True).fill("second1234")
    await page.get_by_role("button", name="确定").click()
    await expect(page.get_by_text("密码已重置，请使用新密码登录")).to_be_visible()

    # the old password no longer works; the new one does
    await page.get_by_label("学号/邮箱/手机号", exact=True).fill("zhou@e2e.example.cn")
    await page.get_by_label("密码", exact=True).fill("first1234")
    await page.get_by_role("button", name="登录").click()
    await expect(page.locator("#form-error")).to_have_text("账号或密码错误")
    await page.get_by_label("密码", exact=True).fill("second1234")
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_role("heading", name="学生中心")).to_be_visible()
    assert re.search(r"/student$", page.url)


async def test_errors_show_beside_fields_and_pages_fit_a_phone(browser, live_server, world):
    context = await browser.new_context(base_url=str(live_server.make_url("/")),
                                        viewport={"width": 375, "height": 740}, is_mobile=True)
    page = await context.new_page()
    await page.goto("/activate")
    await page.get_by_label("学号", exact=True).fill("NOPE")
    await page.get_by_label("身份证号", exact=True).fill("123")
    await page.get_by_role("button", name="下一步").click()
    await expect(page.locator("#f-id_number-error")).to_have_text("身份证号应为18位，最后一位可以是数字或X")
    await expect(page.get_by_label("学号", exact=True)).to_have_value("NOPE")
    await expect(page.get_by_label("身份证号", exact=True)).to_have_attribute("aria-invalid", "true")
    for path in ("/", "/activate", "/login/student", "/password/forgot"):
        await page.goto(path)
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)
    # keyboard: the skip link is the first stop and moves focus to the content
    await page.goto("/")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "跳到主要内容"
    await context.close()
