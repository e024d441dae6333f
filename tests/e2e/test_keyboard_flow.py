"""A student who uses only the keyboard, from 学生激活 to a video interview: activation,
投递简历, the hall's device check, 开始排队, 接听, the call (no mouse on the student's
page: page.keyboard only). The employer's side uses clicks: it is not the flow under test.
axe-core audits the hall's live stages on the way (waiting, the call on both sides, the
employer's room with the applicant's resume), which a page walk cannot reach."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from playwright.async_api import expect

from app import demo
from app.db import Database
from app.interviews import service as interviews
from app.resumes import service as resumes
from app.tables import accounts, applications, jobs
from app.uploads import FileStore
from tests.e2e.axe import audit
from tests.e2e.keyboard import focused, press_and_load, tab_to, type_into

# browser-side behaviour: the SQLite run covers it (tests/conftest.py)
pytestmark = pytest.mark.engine_independent

FRAMES = "() => window.hallCall && window.hallCall.lastStats && window.hallCall.lastStats.framesDecoded > 0"
EMAIL = "keyboard@demo.example.cn"


async def invite_to_interview(settings, clock, base: str) -> None:  # noqa: ANN001
    """The employer's side, done by its service: invite the new applicant a few minutes on."""
    db = Database(settings.database_url)
    try:
        async with db.write() as conn:
            app_id, job_id = (await conn.execute(
                sa.select(applications.c.id, applications.c.job_id)
                .join(accounts, accounts.c.id == applications.c.account_id)
                .where(accounts.c.email == EMAIL))).one()
            employer_id, actor = (await conn.execute(
                sa.select(jobs.c.employer_id, accounts.c.id)
                .join(accounts, accounts.c.employer_id == jobs.c.employer_id)
                .where(jobs.c.id == job_id))).one()
            await interviews.invite(conn, employer_id=employer_id, application_ids=[app_id],
                                    first=clock.now() + dt.timedelta(minutes=2), minutes=15,
                                    note="", actor_id=actor, now=clock.now(), base_url=base)
    finally:
        await db.dispose()


async def save_resume(settings, clock, name: str) -> None:  # noqa: ANN001
    """简历管理 is not part of this flow: the new student's default resume is saved directly."""
    db = Database(settings.database_url)
    try:
        async with db.write() as conn:
            account_id = (await conn.execute(sa.select(accounts.c.id).where(
                accounts.c.email == EMAIL))).scalar_one()
            await resumes.save_structured(conn, account_id, "zh", {
                "basic": {"name": name, "gender": "", "birth": "", "phone": "", "email": EMAIL,
                          "objective": "软件开发", "city": "重庆"},
                "education": [], "experience": [], "projects": [], "skills": [],
                "certificates": [], "awards": [], "self_evaluation": {"text": "认真负责。"}},
                clock.now())
    finally:
        await db.dispose()


async def test_activation_to_call_by_keyboard_alone(browser, live_server, settings, clock):
    base = str(live_server.make_url("/")).rstrip("/")
    db = Database(settings.database_url)
    try:
        await demo.load(db, FileStore(settings.data_dir, settings.storage_quota_bytes),
                        clock.now(), base_url=base)
    finally:
        await db.dispose()
    fresh = demo.demo_students()[demo.ACTIVATED]
    contexts = [await browser.new_context(base_url=base, locale="zh-CN") for _ in range(2)]
    student, employer = [await c.new_page() for c in contexts]
    for c in contexts:
        c.set_default_timeout(20_000)
    errors: list[str] = []
    for p in (student, employer):
        p.on("pageerror", lambda exc: errors.append(str(exc)))
    problems: list[str] = []
    try:
        # --- the first Tab reaches the skip link, which moves focus to the main content
        await student.goto("/")
        await student.keyboard.press("Tab")
        assert (await focused(student))["text"] == "跳到主要内容"
        await student.keyboard.press("Enter")
        assert (await focused(student))["id"] == "main"

        # --- 学生激活, both steps
        await tab_to(student, "学生激活")
        await press_and_load(student)
        await expect(student.get_by_role("heading", name="学生激活")).to_be_visible()
        await tab_to(student, "学校", label=True)
        await student.keyboard.press("ArrowDown")  # the first school after 请选择
        await expect(student.get_by_label("学校", exact=True)).not_to_have_value("")
        await type_into(student, "学号", fresh["student_no"])
        await type_into(student, "姓名", fresh["name"])
        await type_into(student, "身份证号", fresh["id_number"])
        await press_and_load(student)
        await expect(student).to_have_url(re.compile(r".*/activate/profile\?.*"))
        await type_into(student, "邮箱", EMAIL)
        await type_into(student, "手机号", "13800009999")
        await type_into(student, "密码", "Keyboard123")
        await type_into(student, "确认密码", "Keyboard123")
        await press_and_load(student)
        await expect(student).to_have_url(re.compile(r".*/student$"))

        # --- 招聘岗位 → a job → 投递简历
        await save_resume(settings, clock, fresh["name"])
        await tab_to(student, "招聘岗位")
        await press_and_load(student)
        await expect(student).to_have_url(re.compile(r".*/jobs$"))
        await tab_to(student, "审计助理")  # demo_employer2: no interviews booked yet
        await press_and_load(student)
        await tab_to(student, "投递简历")
        await press_and_load(student)
        await expect(student.get_by_text("已投递").first).to_be_visible()

        # --- the employer invites; the student finds the invitation and enters the hall
        await invite_to_interview(settings, clock, base)
        await student.goto("/student")
        await tab_to(student, "我的面试")
        await press_and_load(student)
        await tab_to(student, "查看面试邀请")
        await press_and_load(student)
        await tab_to(student, "洽谈面试大厅")
        await press_and_load(student)
        await tab_to(student, "开始检测")
        await student.keyboard.press("Space")
        join = student.get_by_role("button", name="开始排队")
        await expect(join).to_be_enabled(timeout=30_000)
        await tab_to(student, "开始排队")
        await student.keyboard.press("Enter")
        await expect(student.locator("#queue-position")).to_have_text("1")
        problems += await audit(student, "student hall: waiting")

        # --- the employer calls (clicks); the student answers with the keyboard
        await employer.goto("/login/employer")
        await employer.get_by_label("用户名/邮箱", exact=True).fill("demo_employer2")
        await employer.get_by_label("密码", exact=True).fill(demo.PASSWORD)
        await employer.get_by_role("button", name="登录").click()
        await expect(employer).to_have_url(re.compile(r".*/employer$"))
        await employer.goto("/employer/interviews")
        await employer.get_by_role("link", name="进入面试间").first.click()
        await expect(employer.locator("#booth-status")).to_have_text("已连接")
        problems += await audit(employer, "employer booth: waiting list")
        await employer.get_by_role("button", name="呼叫下一位").click()
        await expect(student.locator("#stage-called")).to_be_visible()
        assert (await focused(student))["text"] == "接听"  # focus is moved to the answer
        problems += await audit(student, "student hall: called")
        await student.keyboard.press("Enter")
        await student.wait_for_function(FRAMES)
        await employer.wait_for_function(FRAMES)
        await expect(employer.locator("#call-resume")).to_contain_text(fresh["name"])
        # 接听 hid the stage that held the focus: it moved to the call's heading, not <body>
        assert (await focused(student))["text"] == "视频面试"
        problems += await audit(student, "student hall: the call")
        problems += await audit(employer, "employer booth: the call with the resume")

        # --- in the call: the controls are reachable, 静音 toggles by keyboard
        mute = await tab_to(student, "静音")
        assert mute["id"] == "mute-button"
        await student.keyboard.press("Space")
        await expect(student.locator("#mute-button")).to_have_attribute("aria-pressed", "true")

        await employer.get_by_label("通过", exact=True).check()
        await employer.get_by_role("button", name="结束面试").click()
        await expect(student.locator("#stage-ended")).to_be_visible()
        await tab_to(student, "查看面试邀请")
        await press_and_load(student)
        await expect(student.locator("#interview-outcome")).to_have_text("通过")
        assert errors == []
        assert problems == [], "axe (WCAG 2.1 AA), serious or critical:\n" + "\n".join(problems)
    finally:
        for c in contexts:
            await c.close()
