"""The hall's rough edges in real Chromium (one browser, two contexts): the device check ends
with results (banner and microphone line), socket trouble is told in Chinese (a server out
of reach, an acknowledgement that never comes), the employer's empty lists say
so instead of numbering "1. 无", and the call names its quality with the device check's
table, announcing a verdict only when it changes."""

import re

from playwright.async_api import expect

from rtc.quality import Verdict, browser_table, judge
from tests.factories import PASSWORD
from tests.hall_kit import build_hall

FRAMES = "() => window.hallCall && window.hallCall.lastStats && window.hallCall.lastStats.framesDecoded > 0"
SOCKETS = re.compile(r".*/socket\.io/.*")
WATCH_QUALITY = """() => {
  window.qualityLog = []; window.figureChanges = 0;
  const el = document.getElementById("call-quality");
  new MutationObserver(() => window.qualityLog.push(el.textContent))
    .observe(el, {childList: true, characterData: true, subtree: true});
  new MutationObserver(() => { window.figureChanges += 1; })
    .observe(document.getElementById("call-quality-figures"), {childList: true, characterData: true, subtree: true});
}"""
QUALITY_NOW = """() => { const el = document.getElementById("call-quality");
  return {text: el.textContent, verdict: el.dataset.verdict, stats: window.hallCall.lastStats,
          log: window.qualityLog}; }"""
# a real socket.io client of the page, pointed at a port nothing listens on (9 is refused)
UNREACHABLE = """() => new Promise(resolve => {
  const s = io("ws://127.0.0.1:9/hall", {transports: ["websocket"]});
  s.on("connect_error", err => { const text = SocketTalk.connectErrorText(s, err); s.close();
                                 resolve({raw: err.message, text: text}); });
})"""
GRID = [(r, loss) for r in (0, 149.9, 150, 399, 400, 2000) for loss in (0, 0.019, 0.02, 0.099, 0.1, 0.5)]


async def login(page, path, account, label):
    await page.goto(path)
    await page.get_by_label(label, exact=True).fill(account)
    await page.get_by_label("密码", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page).not_to_have_url(re.compile(r".*/login/.*"))


async def test_hall_says_what_happened_in_chinese(browser, live_server, world, settings, clock):
    hall = await build_hall(world, settings, clock, students=1)
    s = hall["students"][0]
    base = str(live_server.make_url("/"))
    contexts = [await browser.new_context(base_url=base, locale="zh-CN") for _ in range(2)]
    try:
        for c in contexts:
            c.set_default_timeout(20_000)
        student, employer = [await c.new_page() for c in contexts]
        errors = []
        for name, p in (("student", student), ("employer", employer)):
            p.on("pageerror", lambda exc, name=name: errors.append(f"{name}: {exc}"))

        # --- the centre's tile is named by the manual's label, its note is a description
        await login(student, "/login/student", s.email, "学号/邮箱/手机号")
        tile = student.get_by_role("link", name="简历管理", exact=True)
        await expect(tile).to_have_accessible_description("中文、英文、附件简历")

        hall_url = f"/hall/interviews/{hall['interview_ids'][0]}"
        # --- the student's page; its "join" is held back by the network the first time
        hold = {"join": True}

        def relay(ws):  # noqa: ANN001
            server = ws.connect_to_server()

            def from_page(message):  # noqa: ANN001
                if hold["join"] and isinstance(message, str) and '"join"' in message:
                    return  # lost on the way: no acknowledgement will come
                server.send(message)
            ws.on_message(from_page)
            server.on_message(lambda message: ws.send(message))
        await student.route_web_socket(SOCKETS, relay)
        await student.goto(hall_url)
        await expect(student.locator("#hall-status")).to_contain_text("开始检测")
        # a server that cannot be reached: socket.io's own "websocket error", said in Chinese
        said = await student.evaluate(UNREACHABLE)
        assert said == {"raw": "websocket error", "text": "暂时无法连接服务器，正在自动重试…请检查网络"}
        await student.evaluate(WATCH_QUALITY)
        await student.get_by_role("button", name="开始检测").click()
        await expect(student.get_by_role("button", name="开始排队")).to_be_enabled(timeout=30_000)
        # the banner moves on from "请先点击开始检测"; the microphone line is a result
        await expect(student.locator("#hall-status")).not_to_contain_text("开始检测")
        await expect(student.locator("#hall-status")).to_contain_text("检测完成")
        await expect(student.locator("#check-mic-status")).to_have_text("正常（检测到声音）")
        await expect(student.locator("#check-camera-status")).to_contain_text("正常")

        await student.get_by_role("button", name="开始排队").click()
        await expect(student.locator("#hall-status")).to_have_text("服务器没有及时响应，请稍后重试", timeout=20_000)
        hold["join"] = False
        await student.get_by_role("button", name="开始排队").click()
        await expect(student.locator("#queue-position")).to_have_text("1")

        # --- the employer's room: a waiter listed, the empty lists say so
        await login(employer, "/login/employer", "employer", "用户名/邮箱")
        await employer.goto(f"/hall/booths/{hall['session_id']}")
        await expect(employer.locator("#waiting-count")).to_have_text("1")
        await expect(employer.locator("#waiting-list li")).to_have_count(1)
        await expect(employer.locator("#waiting-list-empty")).to_be_hidden()
        for name, note in (("late", "没有迟到未进入的学生"), ("noshow", "没有未到的学生"),
                           ("done", "还没有面试完的学生")):
            await expect(employer.locator(f"#{name}-list li")).to_have_count(0)
            await expect(employer.locator(f"#{name}-list-empty")).to_have_text(note)
            await expect(employer.locator(f"#{name}-list-empty")).to_be_visible()

        # --- the call: quality named with the device check's table, announced on change
        await employer.evaluate(WATCH_QUALITY)
        await employer.get_by_role("button", name="呼叫下一位").click()
        await student.get_by_role("button", name="接听").click()
        await student.wait_for_function(FRAMES, timeout=30_000)
        await employer.wait_for_function(FRAMES, timeout=30_000)
        table = browser_table()
        for p in (student, employer):
            await p.wait_for_function("() => document.getElementById('call-quality').dataset.verdict")
            await p.wait_for_function("() => window.figureChanges >= 3")  # a few 2 s rounds
            now = await p.evaluate(QUALITY_NOW)
            stats = now["stats"]
            assert now["text"] == Verdict(judge(stats["rttMs"], stats["lossPct"] / 100)).label, now
            assert now["text"] == table["labels"][now["verdict"]]
            log = now["log"]
            assert log and log[-1] == now["text"]
            assert all(a != b for a, b in zip(log, log[1:])), f"announced again: {log}"
            assert set(log) <= {"连接中", "已连接，正在测量", *table["labels"].values()}, log
            await expect(p.locator("#call-quality-figures")).to_contain_text("延迟")
            # the page's judge is the server's, threshold by threshold
            page_verdicts = await p.evaluate(
                """grid => { const q = window.Quality.fromElement(document.getElementById("call-quality"));
                   return grid.map(([rtt, loss]) => q.judge(rtt, loss)); }""", GRID)
            assert page_verdicts == [judge(rtt, loss).value for rtt, loss in GRID]

        assert errors == [], f"page errors: {errors}"
    finally:
        for c in contexts:
            await c.close()
