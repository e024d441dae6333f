"""A student with two booths in one day, in real Chromium (fake camera and microphone): the
student queues at both from two tabs; both employers call within the same second; one call
rings, naming its employer, while the other booth shows the student as 正在其他单位面试 and
calls its next waiter; after the first interview the second booth calls the student and
video flows both ways. And a booth calling while the student is in another's call never
disturbs that call."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from playwright.async_api import expect

from app.db import Database
from app.tables import hall_tickets
from tests.booths_kit import build_booths
from tests.factories import PASSWORD
from tests.hall_kit import connect, login_cookie

FRAMES_ABOVE = ("n => window.hallCall && window.hallCall.lastStats"
                " && window.hallCall.lastStats.framesDecoded > n")


async def login(page, kind: str, account: str, label: str) -> None:  # noqa: ANN001
    await page.goto(f"/login/{kind}")
    await page.get_by_label(label, exact=True).fill(account)
    await page.get_by_label("密码", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page).not_to_have_url(f"/login/{kind}")


async def frames(page) -> int:  # noqa: ANN001
    return await page.evaluate("() => window.hallCall.lastStats.framesDecoded")


class Fair:
    """The two employers in their rooms, the student's two tabs queued (one per booth)."""

    def __init__(self, browser, live_server, data) -> None:  # noqa: ANN001
        self.browser, self.server, self.data = browser, live_server, data
        self.contexts, self.errors = [], []

    async def open(self) -> None:
        base = str(self.server.make_url("/"))
        for _ in range(3):
            c = await self.browser.new_context(base_url=base, locale="zh-CN")
            c.set_default_timeout(20_000)
            self.contexts.append(c)
        self.employers = []
        for i, booth in enumerate(self.data.booths):
            page = await self._page(self.contexts[i], f"employer{i}")
            await login(page, "employer", booth.username, "用户名/邮箱")
            await page.goto(f"/hall/booths/{booth.session_id}")
            await expect(page.locator("#booth-status")).to_have_text("已连接")
            self.employers.append(page)
        student = self.data.students[0]
        first = await self._page(self.contexts[2], "tab0")
        await login(first, "student", student.email, "学号/邮箱/手机号")
        self.tabs = [first, await self._page(self.contexts[2], "tab1")]
        for i, tab in enumerate(self.tabs):
            await tab.goto(f"/hall/interviews/{self.data.interview(i, 0)}")
            await tab.get_by_role("button", name="开始检测").click()
            # the device check (camera, microphone, a WebRTC probe) first; slow on a busy machine
            await expect(tab.get_by_role("button", name="开始排队")).to_be_enabled(timeout=30_000)
            await tab.get_by_role("button", name="开始排队").click()
            await expect(tab.locator("#queue-position")).to_have_text("1")

    async def _page(self, context, name: str):  # noqa: ANN001, ANN202
        page = await context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(f"{name}: {exc}"))
        return page

    async def close(self) -> None:
        for c in self.contexts:
            await c.close()


async def no_show_tickets(database_url: str) -> list:
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return (await conn.execute(sa.select(hall_tickets.c.id).where(
                hall_tickets.c.status == "no_show"))).all()
    finally:
        await db.dispose()


async def test_two_booths_call_at_once_one_rings_then_the_other(browser, live_server, world,
                                                                settings, clock, sockets):
    data = await build_booths(world, settings, clock, booths=2, students=2)
    fair = Fair(browser, live_server, data)
    try:
        await fair.open()
        # the other student waits at both booths too (a socket client, as a page would be)
        other = await live_server_student(live_server, data, sockets)
        for i in (0, 1):
            await expect(fair.employers[i].locator("#waiting-count")).to_have_text("2")

        # both employers press 呼叫下一位 within the same second
        await asyncio.gather(*(e.get_by_role("button", name="呼叫下一位").click()
                               for e in fair.employers))
        # the booth that lost the student calls its next waiter: the other student
        rung = await other.events.wait("called")
        loser = next(i for i, b in enumerate(data.booths) if b.session_id == rung["session_id"])
        winner = 1 - loser
        won, lost = fair.tabs[winner], fair.tabs[loser]
        await expect(won.locator("#stage-called")).to_be_visible()
        await expect(won.locator("#called-by")).to_contain_text(data.booths[winner].name)
        # one call rings: the other tab names where, and does not ring itself
        await expect(lost.locator("#stage-called")).to_be_hidden()
        await expect(lost.locator("#busy-note")).to_contain_text(data.booths[winner].name)
        await expect(fair.employers[loser].locator("#waiting-list")).to_contain_text("正在其他单位面试")
        await expect(fair.employers[loser].locator("#current-call")).to_contain_text(
            data.students[1].name)

        # the student takes the call; the other student's interview runs and ends meanwhile
        await won.get_by_role("button", name="接听").click()
        await won.wait_for_function(FRAMES_ABOVE, arg=0)
        await fair.employers[winner].wait_for_function(FRAMES_ABOVE, arg=0)
        assert (await other.call("answer", {"ticket_id": rung["ticket_id"]}))["ok"]
        await finish(fair.employers[loser], "待定")
        await finish(fair.employers[winner], "通过")
        await expect(won.locator("#stage-ended")).to_be_visible()

        # now free: the second booth calls the student, and video flows both ways
        await expect(fair.employers[loser].locator("#waiting-list")).not_to_contain_text("正在其他单位面试")
        await fair.employers[loser].get_by_role("button", name="呼叫下一位").click()
        await expect(lost.locator("#called-by")).to_contain_text(data.booths[loser].name)
        await lost.get_by_role("button", name="接听").click()
        await lost.wait_for_function(FRAMES_ABOVE, arg=0)
        await fair.employers[loser].wait_for_function(FRAMES_ABOVE, arg=0)
        assert await no_show_tickets(settings.database_url) == []  # no 未到 anywhere
        assert fair.errors == []
    finally:
        await fair.close()


async def test_a_call_elsewhere_never_disturbs_the_running_one(browser, live_server, world,
                                                               settings, clock):
    data = await build_booths(world, settings, clock, booths=2, students=1)
    fair = Fair(browser, live_server, data)
    try:
        await fair.open()
        a_tab, a_room, b_room = fair.tabs[0], fair.employers[0], fair.employers[1]
        await a_room.get_by_role("button", name="呼叫下一位").click()
        await expect(a_tab.locator("#called-by")).to_contain_text(data.booths[0].name)
        await a_tab.get_by_role("button", name="接听").click()
        await a_tab.wait_for_function(FRAMES_ABOVE, arg=0)
        await a_room.wait_for_function(FRAMES_ABOVE, arg=0)

        # B calls while the student is in A's call: nobody rings, B is told why
        await b_room.get_by_role("button", name="呼叫下一位").click()
        await expect(b_room.locator("#booth-status")).to_contain_text("正在其他单位面试")
        await expect(b_room.locator("#waiting-list")).to_contain_text("正在其他单位面试")
        # A's page says B comes when free, beside the call, which goes on
        await expect(a_tab.locator("#elsewhere-notice")).to_contain_text(data.booths[1].name)
        await expect(a_tab.locator("#stage-call")).to_be_visible()
        await expect(a_tab.locator("#hall-status")).to_have_text("面试进行中")
        for page in (a_tab, a_room):  # video keeps decoding on both sides
            await page.wait_for_function(FRAMES_ABOVE, arg=await frames(page) + 10)
        await expect(fair.tabs[1].locator("#stage-called")).to_be_hidden()
        await expect(fair.tabs[1].locator("#busy-note")).to_contain_text(data.booths[0].name)
        assert await no_show_tickets(settings.database_url) == []
        assert fair.errors == []
    finally:
        await fair.close()


async def finish(room, outcome: str) -> None:  # noqa: ANN001
    await room.get_by_label(outcome, exact=True).check()
    await room.get_by_role("button", name="结束面试").click()
    await expect(room.locator("#call-panel")).to_be_hidden()


async def live_server_student(live_server, data, sockets):  # noqa: ANN001, ANN202
    """The second student logged in over HTTP, queued at both booths by socket."""
    base = str(live_server.make_url("/")).rstrip("/")
    client = await connect(base, await login_cookie(base, "student", data.students[1].email))
    sockets.append(client)
    for i in (0, 1):
        assert (await client.call("join", {"interview_id": data.interview(i, 1)}))["ok"]
    return client
