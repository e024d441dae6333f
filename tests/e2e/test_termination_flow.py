"""The manual's 9 解约中心 in one real Chromium. 9.1: the student opens 【签约中心】 →
【解约中心】 → 【解约申请】, picks a reason, uploads the employer's 解约函 and clicks 【提交】;
the employer sees it in 单位中心; the counselor and then the school admin approve; the
verification page says 已解约 and 签约中心 shows 待就业 again; another employer's online
invitation is agreed and gets a new number. 9.2: the school admin finds that agreement by
the student's 学号 and terminates it with 强制解约 and an uploaded proof."""

import io

from PIL import Image
from playwright.async_api import expect

from app.roles import Role
from tests.e2e.test_review_flow import login_staff, login_student
from tests.signing_kit import agreement_row, ready_student, second_employer
from tests.factories import PASSWORD
from tests.termination_kit import PDF_BYTES, approve_by_service, identity, invite_by_service


async def new_page(browser, live_server):  # noqa: ANN001, ANN201
    context = await browser.new_context(base_url=str(live_server.make_url("/")), locale="zh-CN")
    context.set_default_timeout(10_000)
    return context, await context.new_page()


async def test_termination_by_application_and_by_the_school(page, browser, live_server, world,
                                                          settings, clock, tmp_path):
    db, now = settings.database_url, clock.now()
    await ready_student(db, world, now)
    student = world.active_student()
    employer = identity(world, "employer", Role.EMPLOYER, world.employer_id)
    first = await invite_by_service(db, world, employer, now, agree=True, approve=True)
    old_row = await agreement_row(db, first)
    old_number, old_code = old_row.number, old_row.verify_token[:8]
    letter = tmp_path / "解约函.png"
    buf = io.BytesIO()
    Image.new("RGB", (120, 80), "white").save(buf, "PNG")
    letter.write_bytes(buf.getvalue())
    proof = tmp_path / "解约证明.pdf"
    proof.write_bytes(PDF_BYTES)

    # 9.1 解约申请 by the student.
    await login_student(page, student.email)
    await page.get_by_role("link", name="签约中心").click()
    await page.get_by_role("link", name="解约中心").click()
    await page.get_by_role("link", name="解约申请").click()
    await expect(page.locator("#apply-number")).to_have_text(old_number)
    await page.get_by_label("解约原因").select_option(label="继续深造")
    await page.get_by_label("解约说明").fill("考取研究生，单位同意解约，违约金已结清")
    await page.get_by_label("解约函").set_input_files(str(letter))
    await page.get_by_role("button", name="提交").click()
    await expect(page.locator("#done-message")).to_have_text("解约申请已提交，等待学院审核。")
    await expect(page.locator("#request-state")).to_have_text("待学院审核")

    # The employer sees it in 单位中心.
    context, other = await new_page(browser, live_server)
    await other.goto("/login/employer")
    await other.get_by_label("用户名/邮箱").fill("employer")
    await other.get_by_label("密码", exact=True).fill(PASSWORD)
    await other.get_by_role("button", name="登录").click()
    await other.get_by_role("link", name="解约中心").click()
    await other.get_by_role("row", name=old_number).get_by_role("link", name="查看").click()
    await expect(other.locator("#request-reason")).to_have_text("个人违约 · 继续深造")
    await expect(other.get_by_role("link", name="查看解约函")).to_be_visible()
    await context.close()

    # The counselor, then the school admin.
    for username, state in (("counselor0", "待学校审核"), ("school_admin0", "已解约")):
        context, staff = await new_page(browser, live_server)
        await login_staff(staff, username)
        await staff.locator('#staff-nav a[href="/reviews/terminations"]').click()   # 解约审核 / 解约
        await staff.get_by_role("row", name=student.name).get_by_role("link", name="审核").click()
        await expect(staff.locator("#letter-image")).to_be_visible()   # the 解约函 first
        await staff.get_by_role("button", name="通过").click()
        await expect(staff.locator("#request-state")).to_have_text(state)
        await expect(staff.locator("#review-done")).to_contain_text("这一队列已处理完")
        await context.close()

    await page.goto(f"/verify/agreement?number={old_number}&code={old_code}")
    await expect(page.locator("#verify-state")).to_have_text("已解约")
    await page.goto("/student/signing")
    await expect(page.locator("#current-destination")).to_have_text("70 待就业")

    # Signing again: another employer's invitation, agreed → a new number.
    employer2, _, account2 = await second_employer(db, now)
    second = await invite_by_service(db, world, identity(world, account2, Role.EMPLOYER, employer2), now)
    await page.reload()
    await page.get_by_role("row", name="另一家单位有限公司").get_by_role("link", name="查看").click()
    await page.get_by_role("button", name="同意签约").click()
    await expect(page.locator("#invitation-state")).to_have_text("待学院审核")
    new_row = await agreement_row(db, second)
    new_number, new_code = new_row.number, new_row.verify_token[:8]
    assert new_number and new_number != old_number

    # 9.2 管理员强制解约 of the new agreement, once it is effective.
    await approve_by_service(db, world, second, now)
    context, admin = await new_page(browser, live_server)
    await login_staff(admin, "school_admin0")
    await admin.get_by_role("link", name="强制解约").click()
    await admin.get_by_label("学号、姓名或协议书编号").fill(student.student_no)   # found by 学号
    await admin.get_by_role("button", name="查找").click()
    await expect(admin.locator("#force-results tbody tr")).to_have_count(1)   # the effective one only
    await admin.get_by_role("link", name="办理强制解约").click()
    await expect(admin.locator("#force-number")).to_have_text(new_number)
    await admin.get_by_label("解约原因").fill("单位已出具书面解约证明")
    await admin.get_by_label("纸质解约证明").set_input_files(str(proof))
    await admin.get_by_role("button", name="强制解约").click()
    await expect(admin.locator("#done-message")).to_contain_text("已解约")
    await context.close()
    await page.goto(f"/verify/agreement?number={new_number}&code={new_code}")
    await expect(page.locator("#verify-state")).to_have_text("已解约")
