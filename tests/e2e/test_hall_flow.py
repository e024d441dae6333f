"""The interview hall in two real Chromium contexts with fake camera and microphone:
the student queues, the employer calls, both sides decode video, the student's page
reloads mid-call and the call resumes, the employer ends with an outcome, the student
sees it."""

from playwright.async_api import expect

from tests.factories import PASSWORD
from tests.hall_kit import build_hall

FRAMES = "() => window.hallCall && window.hallCall.lastStats && window.hallCall.lastStats.framesDecoded > 0"


async def login(page, path, link, account, label):
    await page.goto(path)
    await page.get_by_label(label, exact=True).fill(account)
    await page.get_by_label("密码", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()


async def booth_and_student(browser, live_server, hall, prepare_student=None):  # noqa: ANN001, ANN201
    """Two contexts: the employer in its booth (connected) and the hall's first student
    logged in. `prepare_student(context)` runs before the student's page opens (init
    scripts, permissions). Returns (contexts, student, employer, errors): `errors` collects
    both pages' script errors."""
    base = str(live_server.make_url("/"))
    contexts = [await browser.new_context(base_url=base, locale="zh-CN") for _ in range(2)]
    for c in contexts:
        c.set_default_timeout(20_000)
    if prepare_student is not None:
        await prepare_student(contexts[0])
    student, employer = [await c.new_page() for c in contexts]
    errors = []
    for p in (student, employer):
        p.on("pageerror", lambda exc: errors.append(str(exc)))

    await login(employer, "/login/employer", "我是单位", "employer", "用户名/邮箱")
    await employer.goto(f"/hall/booths/{hall['session_id']}")
    await expect(employer.locator("#booth-status")).to_have_text("已连接")
    await login(student, "/login/student", "我是学生", hall["students"][0].email, "学号/邮箱/手机号")
    return contexts, student, employer, errors


async def test_queue_call_reload_and_outcome(browser, live_server, world, settings, clock):
    hall = await build_hall(world, settings, clock, students=1)
    contexts, student, employer, errors = await booth_and_student(browser, live_server, hall)
    s = hall["students"][0]
    await student.get_by_role("link", name="我的面试").first.click()
    await student.get_by_role("link", name="查看面试邀请").first.click()
    await student.get_by_role("link", name="洽谈面试大厅").click()
    await student.get_by_role("button", name="开始检测").click()
    # the device check (camera, microphone, a WebRTC probe) runs first; slow on a busy machine
    await expect(student.get_by_role("button", name="开始排队")).to_be_enabled(timeout=30_000)
    probe = await student.evaluate("() => window.hallProbeResult")
    assert probe["verdict"] in ("good", "usable", "poor") and probe["rttMs"] >= 0
    await student.get_by_role("button", name="开始排队").click()
    await expect(student.locator("#queue-position")).to_have_text("1")

    await expect(employer.locator("#waiting-count")).to_have_text("1")
    await expect(employer.locator("#waiting-list")).to_contain_text(s.name)
    await employer.get_by_role("button", name="呼叫下一位").click()
    await student.get_by_role("button", name="接听").click()

    try:
        await student.wait_for_function(FRAMES)
        await employer.wait_for_function(FRAMES)
    except Exception:
        for p in (student, employer):
            print(await p.evaluate("() => window.hallCall ? {sig: window.hallCall.pc && window.hallCall.pc.signalingState, ice: window.hallCall.pc && window.hallCall.pc.iceConnectionState, stats: window.hallCall.lastStats, counts: window.hallCall.counts, pending: window.hallCall.pending.length} : 'no call'"))
        print(errors)
        raise
    await expect(employer.locator("#call-resume")).to_contain_text(s.name)

    # the student's page reloads mid-call: the call comes back by itself
    await student.reload()
    await expect(student.locator("#stage-call")).to_be_visible()
    await student.wait_for_function(FRAMES)
    await employer.wait_for_function(FRAMES)

    await employer.get_by_label("通过", exact=True).check()
    await employer.get_by_label("面试记录").fill("表达清楚，基础扎实")
    await employer.get_by_role("button", name="结束面试").click()
    await expect(student.locator("#stage-ended")).to_be_visible()
    await student.get_by_role("link", name="查看面试邀请").click()
    await expect(student.locator("#interview-outcome")).to_have_text("通过")
    await expect(employer.locator("#done-list")).to_contain_text("通过")
    assert errors == []
    for c in contexts:
        await c.close()
