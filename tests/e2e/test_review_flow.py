"""The manual's 生源信息核对 and 推荐表 chapters in a real Chromium: the school imports 生源
and clicks 【通知核对】; the student clicks 【生源信息核对】 → 【编辑】 → 【保存并送审】; the
counselor returns it with a reason; the student fixes and resubmits; the counselor approves.
Then 【推荐表】 → 【编辑】 → 【保存并送审】, the school admin approves, and 【打印推荐表】."""

from PIL import Image
from playwright.async_api import expect

from tests.factories import PASSWORD

HEADER = "学号,姓名,民族,政治面貌,生源所在地,城乡生源,困难生类别,师范生类别,手机,邮箱,家庭地址,户口是否转入学校,档案是否转入学校"


async def login_staff(page, username):
    await page.goto("/")
    await page.get_by_role("link", name="管理人员登录").click()
    await page.get_by_label("用户名", exact=True).fill(username)
    await page.get_by_label("密码", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()


async def login_student(page, account):
    await page.goto("/")
    await page.get_by_role("link", name="我是学生").first.click()
    await page.get_by_label("学号/邮箱/手机号", exact=True).fill(account)
    await page.get_by_label("密码", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_role("heading", name="学生中心")).to_be_visible()


async def logout(page):
    await page.get_by_role("button", name="退出").click()


async def test_origin_check_and_recommendation_as_the_manual_says(page, world, mailbox, tmp_path):
    student = world.active_student()
    # --- the school admin imports 生源 and clicks 【通知核对】
    await login_staff(page, "school_admin0")
    await page.get_by_role("link", name="导入生源信息").click()
    csv_file = tmp_path / "生源.csv"
    csv_file.write_text(f"{HEADER}\n{student.student_no},{student.name},汉族,共青团员,500103,城镇,"
                        "非困难生,非师范生,13800001111,home@e2e.example.cn,重庆市渝中区,否,是\n",
                        encoding="utf-8-sig")
    await page.get_by_label("导入文件").set_input_files(str(csv_file))
    await page.get_by_role("button", name="开始导入").click()
    await expect(page.get_by_text("导入完成：共 1 行，新增 1 条，更新 0 条，失败 0 行")).to_be_visible()
    await page.get_by_role("link", name="查看生源信息").click()
    await page.get_by_label(f"选择{student.name}").check()
    await page.get_by_role("button", name="批量通知核对").click()
    await page.get_by_role("button", name="确认通知核对 1 条").click()
    await expect(page.locator("#batch-done")).to_have_text("已通知核对 1 条生源信息。")
    await mailbox.wait_for(student.email)
    await logout(page)

    # --- the student: 【生源信息核对】 → 【编辑】 → 【保存并送审】
    await login_student(page, student.email)
    await page.get_by_role("link", name="生源信息核对").click()
    await page.get_by_role("link", name="编辑", exact=True).click()
    # the cascade: province → city → county (the county select keeps the imported value)
    await expect(page.get_by_label("生源所在地（区县）")).to_have_value("500103")
    await page.get_by_label("生源所在地（省）").select_option(label="四川省")
    await page.get_by_label("生源所在地（市）").select_option(label="成都市")
    await page.get_by_label("生源所在地（区县）").select_option(label="武侯区")
    await page.get_by_label("家庭地址", exact=True).fill("成都市武侯区")
    await page.get_by_role("button", name="保存并送审").click()
    await expect(page.get_by_text("已送审，请等待辅导员审核。")).to_be_visible()
    await expect(page.locator("#origin-state")).to_have_text("待审核")
    await logout(page)

    # --- the counselor returns it with a reason
    await login_staff(page, "counselor0")
    await page.get_by_role("link", name="生源信息审核").click()
    await page.get_by_role("row", name=student.name).get_by_role("link", name="审核").click()
    await expect(page.locator("#origin-diff mark").first).to_be_visible()
    await page.get_by_role("button", name="退回").click()
    await expect(page.locator("#f-reason-error")).to_have_text("请填写退回原因")
    await page.get_by_label("退回原因").fill("家庭地址请写到门牌号")
    await page.get_by_role("button", name="退回").click()
    await expect(page.locator("#origin-state")).to_have_text("已退回")
    await logout(page)

    # --- the student fixes it and resubmits
    await login_student(page, student.email)
    await page.get_by_role("link", name="生源信息核对").click()
    await expect(page.locator("#return-reason")).to_contain_text("家庭地址请写到门牌号")
    await page.get_by_role("link", name="编辑", exact=True).click()
    await page.get_by_label("家庭地址", exact=True).fill("成都市武侯区人民南路4段1号")
    await page.get_by_role("button", name="保存并送审").click()
    await expect(page.locator("#origin-state")).to_have_text("待审核")
    await logout(page)

    # --- the counselor approves
    await login_staff(page, "counselor0")
    await page.get_by_role("link", name="生源信息审核").click()
    await page.get_by_role("row", name=student.name).get_by_role("link", name="审核").click()
    await page.get_by_role("button", name="通过").click()
    await expect(page.locator("#origin-state")).to_have_text("已通过")
    await expect(page.locator("#history")).to_contain_text("家庭地址请写到门牌号")
    await logout(page)

    # --- 【推荐表】 → 【编辑】 → 【保存并送审】
    await login_student(page, student.email)
    await page.get_by_role("link", name="推荐表").click()
    await page.get_by_role("link", name="编辑", exact=True).click()
    photo = tmp_path / "photo.png"
    Image.new("RGB", (300, 400), (30, 90, 160)).save(photo)
    await page.get_by_label("照片", exact=True).set_input_files(str(photo))
    await page.locator("#f-resume_0_period").fill("2022.09-2026.06")
    await page.locator("#f-resume_0_place").fill("第一测试大学")
    await page.locator("#f-family_0_relation").fill("母亲")
    await page.locator("#f-family_0_name").fill("李春花")
    await page.get_by_label("外语水平").fill("CET-6")
    await page.get_by_label("计算机水平").fill("计算机二级")
    await page.get_by_label("自我评价").fill("认真负责。")
    await page.get_by_role("button", name="保存并送审").click()
    await expect(page.locator("#rec-state")).to_have_text("待审核")
    await logout(page)

    # --- the school admin opens it from the queue of 待审核 and approves it by keyboard
    await login_staff(page, "school_admin0")
    await page.get_by_role("link", name="推荐表审核").click()
    await expect(page.locator("#list-count strong")).to_have_text("1")
    await expect(page.locator("#rec-queue .state-badge")).to_have_text("待审核")
    await page.get_by_role("row", name=student.name).get_by_role("link", name="审核").click()
    await expect(page.locator("#review-keys")).to_contain_text("A 选中【通过】（回车确认）")
    await page.keyboard.press("a")
    await expect(page.get_by_role("button", name="通过")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#review-done")).to_have_text(
        f"已通过：{student.name}（{student.student_no}）。这一队列已处理完。")
    await expect(page.locator("#rec-state")).to_have_text("已通过")
    serial = await page.locator("#rec-serial").text_content()
    await logout(page)

    # --- 【打印推荐表】: the print page shows the serial; the PDF link answers a PDF
    await login_student(page, student.email)
    await page.get_by_role("link", name="推荐表").click()
    await page.get_by_role("link", name="打印推荐表").click()
    await expect(page.locator("#serial")).to_have_text(serial)
    await expect(page.get_by_role("img", name="推荐表验证二维码")).to_be_visible()
    href = await page.get_by_role("link", name="下载PDF").get_attribute("href")
    resp = await page.request.get(href)
    assert resp.status == 200 and resp.headers["content-type"] == "application/pdf"
    assert (await resp.body()).startswith(b"%PDF")
