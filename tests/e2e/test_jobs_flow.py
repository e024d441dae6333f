"""Employer registers and is approved, posts a job that is approved; a student fills a
中文简历, sets it default and applies; the employer opens the applicant and sees the
resume as sent, and the student's later edit does not change it."""

from playwright.async_api import expect

from tests.factories import PASSWORD, credit_code
from tests.helpers import jpeg_with_gps


async def login(page, kind_link: str, account: str, account_label: str):
    await page.goto("/")
    if kind_link == "管理人员登录":
        await page.get_by_role("link", name=kind_link).click()
    else:
        await page.get_by_role("link", name=kind_link).first.click()
    await page.get_by_label(account_label, exact=True).fill(account)
    await page.get_by_label("密码", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()


async def test_register_post_apply_and_see_the_resume_as_sent(browser, live_server, world, tmp_path):
    base = str(live_server.make_url("/"))
    contexts = [await browser.new_context(base_url=base, locale="zh-CN") for _ in range(3)]
    for c in contexts:
        c.set_default_timeout(10_000)
    employer, admin, student = [await c.new_page() for c in contexts]

    # --- the employer registers
    licence = tmp_path / "执照.jpg"
    licence.write_bytes(jpeg_with_gps())
    await employer.goto("/")
    await employer.get_by_role("link", name="单位注册").click()
    fields = {"单位名称": "渝州数据科技有限公司", "统一社会信用代码": credit_code(4242),
              "所在地": "重庆市两江新区", "联系人": "李女士", "联系电话": "023-67891234",
              "联系邮箱": "hr@yuzhou.example.cn", "用户名": "yuzhou", "密码": "yuzhou123",
              "确认密码": "yuzhou123"}
    for label, value in fields.items():
        await employer.get_by_label(label, exact=True).fill(value)
    await employer.get_by_label("单位性质", exact=True).select_option("39")
    await employer.get_by_label("单位行业", exact=True).select_option("34")
    await employer.get_by_label("营业执照", exact=True).set_input_files(str(licence))
    await employer.get_by_role("button", name="提交注册").click()
    await expect(employer.locator("#employer-status")).to_have_text("待审核")

    # --- the platform admin approves it
    await login(admin, "管理人员登录", "platform", "用户名")
    await admin.locator("#staff-nav").get_by_role("link", name="单位审核").click()
    await admin.get_by_role("link", name="渝州数据科技有限公司").click()
    await expect(admin.get_by_role("img", name="营业执照")).to_be_visible()
    await admin.get_by_role("button", name="通过").click()

    # --- the employer posts a job; the admin approves it
    await employer.reload()
    await expect(employer.locator("#employer-status")).to_have_text("已通过")
    await employer.get_by_role("link", name="发布岗位").click()
    await employer.get_by_label("岗位名称", exact=True).fill("数据分析师")
    await employer.get_by_label("工作城市", exact=True).fill("重庆")
    await employer.get_by_label("最低月薪", exact=True).fill("8000")
    await employer.get_by_label("最高月薪", exact=True).fill("12000")
    await employer.get_by_label("岗位描述", exact=True).fill("负责毕业生就业数据的统计与分析。")
    await employer.get_by_role("button", name="提交审核").click()
    await expect(employer.get_by_role("cell", name="待审核")).to_be_visible()
    await admin.goto("/platform")
    await admin.locator("#staff-nav").get_by_role("link", name="岗位审核").click()
    await admin.get_by_role("link", name="数据分析师").click()
    await admin.get_by_role("button", name="通过").click()

    # --- the student fills a 中文简历, makes it the default, finds the job and applies
    await login(student, "我是学生", world.active_student().email, "学号/邮箱/手机号")
    await student.get_by_role("link", name="简历管理").click()
    await student.get_by_label("上传附件简历", exact=True).set_input_files(
        {"name": "旧简历.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 old"})
    await student.get_by_role("button", name="上传", exact=True).click()
    await student.get_by_role("link", name="填写中文简历").click()
    await student.get_by_label("姓名", exact=True).fill("学生00")
    await student.get_by_label("求职意向", exact=True).fill("数据分析")
    await student.get_by_label("学校", exact=True).fill("第一测试大学")
    await student.get_by_label("专业", exact=True).first.fill("统计学")
    await student.get_by_role("button", name="添加专业技能").click()
    await student.locator("#f-skills-1-skill").fill("SQL")
    await student.locator("#f-skills-0-skill").fill("Python")
    await student.get_by_role("button", name="上移专业技能第2项").click()
    await expect(student.locator("#f-skills-0-skill")).to_have_value("SQL")
    await student.get_by_role("button", name="保存", exact=True).click()
    await expect(student.get_by_text("中文简历已保存")).to_be_visible()
    await student.get_by_role("listitem").filter(has_text="中文简历").get_by_role(
        "button", name="设为默认简历").click()
    await expect(student.get_by_role("listitem").filter(has_text="中文简历")).to_contain_text("默认简历")
    await student.get_by_role("link", name="招聘岗位").first.click()
    await student.get_by_label("关键词", exact=True).fill("数据")
    await student.get_by_role("button", name="搜索").click()
    await student.get_by_role("link", name="数据分析师").click()
    await student.get_by_role("button", name="投递简历").click()
    await expect(student.get_by_role("cell", name="新投递")).to_be_visible()

    # --- the employer opens the applicant and sees the resume as sent
    await employer.goto("/employer/jobs")
    await employer.get_by_role("link", name="1 份简历").click()
    await employer.get_by_role("link", name="学生00").click()
    resume = employer.locator(".resume-view")
    await expect(resume).to_contain_text("统计学")
    await expect(resume).to_contain_text("SQL")
    await expect(employer.locator("main")).to_contain_text("已查看")

    # --- a later edit by the student does not change what the employer received
    await student.goto("/student/resumes/zh/edit")
    await student.get_by_label("专业", exact=True).first.fill("计算机科学")
    await student.get_by_role("button", name="保存", exact=True).click()
    await student.goto("/student/applications")
    await expect(student.get_by_role("cell", name="已查看")).to_be_visible()
    await employer.reload()
    await expect(resume).to_contain_text("统计学")
    await expect(resume).not_to_contain_text("计算机科学")
    for c in contexts:
        await c.close()
