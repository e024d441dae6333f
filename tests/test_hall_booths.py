"""A student with places at several booths on one day, over real socket.io clients: one call
at a time (passed over elsewhere, place kept, told where and when), each page acting on
its own booth only, the one wait across booths, a call at one booth never ending another's,
and the database's own guard of the rule."""

from __future__ import annotations

import asyncio
import datetime as dt

import lxml.html
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.db import Database
from app.state import DB
from app.tables import hall_tickets
from rtc import tickets
from tests.booths_kit import build_booths
from tests.factories import PASSWORD
from tests.hall_kit import connect, cookie_of

GRACE = dt.timedelta(seconds=120)


@pytest.fixture
async def fair(world, settings, clock, make_client, sockets):
    """Two booths (示例科技, 山城会计师事务所), two students invited at both; everyone logged in.
    `sock(key, booth=None)` opens a socket for a login; a student's socket names the booth
    of the page it stands for."""
    data = await build_booths(world, settings, clock, booths=2, students=2)
    http = {}
    for i, s in enumerate(data.students):
        http[f"s{i}"] = await make_client()
        await http[f"s{i}"].login("student", s.email, PASSWORD)
    for i, b in enumerate(data.booths):
        http[f"e{i}"] = await make_client()
        await http[f"e{i}"].login("employer", b.username, PASSWORD)
    base = str(http["e0"].client.make_url("/"))

    async def sock(key: str, booth: int | None = None):
        auth = {"session_id": data.booths[booth].session_id} if booth is not None else None
        c = await connect(base, cookie_of(http[key]), auth=auth)
        sockets.append(c)
        return c
    return {"data": data, "http": http, "sock": sock, "app": http["e0"].app}


async def statuses(app) -> dict[int, str]:  # noqa: ANN001
    async with app[DB].read() as conn:
        return dict((await conn.execute(sa.select(hall_tickets.c.id, hall_tickets.c.status))).all())


async def test_one_call_at_a_time_across_two_booths(fair):
    d, sock = fair["data"], fair["sock"]
    a, b = d.booths
    s0_at_a, s0_at_b, s1 = await sock("s0", 0), await sock("s0", 1), await sock("s1", 1)
    emp_a, emp_b = await sock("e0"), await sock("e1")
    for emp, booth in ((emp_a, a), (emp_b, b)):
        assert (await emp.call("watch", {"session_id": booth.session_id}))["ok"]
    t_a = (await s0_at_a.call("join", {"interview_id": d.interview(0, 0)}))["ticket_id"]
    t_b = (await s0_at_b.call("join", {"interview_id": d.interview(1, 0)}))["ticket_id"]
    u_b = (await s1.call("join", {"interview_id": d.interview(1, 1)}))["ticket_id"]

    # A calls the student: both of the student's pages hear it, naming employer and job
    assert (await emp_a.call("call_next", {"session_id": a.session_id}))["ticket_id"] == t_a
    for page in (s0_at_a, s0_at_b):
        rung = await page.events.wait("called", lambda c: c["ticket_id"] == t_a)
        assert (rung["session_id"], rung["employer"], rung["job"]) == (a.session_id, a.name, "岗位1")
    # B calls within the same second: the student, first in B's line, is passed over and
    # keeps the place; the next waiter is called; the student is told they come when free
    ack = await emp_b.call("call_next", {"session_id": b.session_id})
    assert ack == {"ok": True, "ticket_id": u_b, "passed_over": 1}
    told = await s0_at_a.events.wait("passed_over")
    assert (told["session_id"], told["ticket_id"], told["employer"]) == (b.session_id, t_b, b.name)
    # (a view sent for A's call, before B's, may arrive after B's answer: wait for B's own)
    view = await emp_b.events.wait("booth", lambda v: [w["ticket_id"] for w in v["waiting"]] == [t_b]
                                   and v["waiting"][0]["busy_elsewhere"])
    assert [(w["ticket_id"], w["position"]) for w in view["waiting"]] == [(t_b, 1)]
    assert "示例科技" not in str(view)  # B sees that the student is busy, never where
    place = await s0_at_b.events.wait("queue", lambda q: q["ticket_id"] == t_b and q.get("busy_at"))
    assert place["busy_at"] == a.name and place["position"] == 1
    # a call ringing at A cannot be answered as B's, nor B's place answered at all
    refused = await s0_at_b.call("answer", {"ticket_id": t_b})
    assert refused["ok"] is False

    # the student answers A; B's interview with the other student ends; B calls again:
    # the student is in A's call, so B has nobody to call and says why
    assert (await s0_at_a.call("answer", {"ticket_id": t_a}))["ok"]
    assert (await s1.call("answer", {"ticket_id": u_b}))["ok"]
    assert (await emp_b.call("finish", {"ticket_id": u_b, "outcome": "通过"}))["ok"]
    assert await emp_b.call("call_next", {"session_id": b.session_id}) == \
        {"ok": True, "ticket_id": None, "passed_over": 1}
    # B's wait for the student counts the rest of A's call (a 5-minute slot, none of it gone)
    place = await s0_at_b.events.wait("queue", lambda q: q["ticket_id"] == t_b and q.get("busy_at"))
    assert place["eta_seconds"] >= 300

    # A's interview ends: B's room sees the student free at once, and B's call rings
    s0_at_b.events.clear()
    assert (await emp_a.call("finish", {"ticket_id": t_a, "outcome": "待定"}))["ok"]
    await emp_b.events.wait("booth", lambda v: v["waiting"] and not v["waiting"][0]["busy_elsewhere"])
    assert (await emp_b.call("call_next", {"session_id": b.session_id}))["ticket_id"] == t_b
    await s0_at_b.events.wait("called", lambda c: c["ticket_id"] == t_b)
    assert (await s0_at_b.call("answer", {"ticket_id": t_b}))["ok"]
    assert await statuses(fair["app"]) == {t_a: "done", t_b: "in_call", u_b: "done"}
    # A's page heard of B's call as somebody else's: it never joined B's call room
    assert not any(name == "call_started" and e["ticket_id"] == t_b
                   for name, e in s0_at_a.events.seen)


async def test_a_reloaded_page_resumes_only_its_own_booths_call(fair):
    d, sock = fair["data"], fair["sock"]
    a, b = d.booths
    s0_at_a, s0_at_b = await sock("s0", 0), await sock("s0", 1)
    emp_a = await sock("e0")
    await emp_a.call("watch", {"session_id": a.session_id})
    t_a = (await s0_at_a.call("join", {"interview_id": d.interview(0, 0)}))["ticket_id"]
    await s0_at_b.call("join", {"interview_id": d.interview(1, 0)})
    await emp_a.call("call_next", {"session_id": a.session_id})
    assert (await s0_at_a.call("answer", {"ticket_id": t_a}))["ok"]
    # both pages reload mid-call: B's page stays out of A's call, A's page resumes it
    await s0_at_b.sio.disconnect()
    await s0_at_a.sio.disconnect()
    again_b, again_a = await sock("s0", 1), await sock("s0", 0)
    await again_a.events.wait("call_resumed", lambda c: c["ticket_id"] == t_a)
    await again_b.events.wait("queue", lambda q: q["session_id"] == b.session_id)
    assert not [e for name, e in again_b.events.seen if name == "call_resumed"]
    assert (await again_b.call("signal", {"ticket_id": t_a, "payload": {"x": 1}}))["ok"] is False


async def test_recall_waits_while_the_student_is_in_another_call(fair, clock):
    d, sock = fair["data"], fair["sock"]
    a, b = d.booths
    s0_at_a, s0_at_b = await sock("s0", 0), await sock("s0", 1)
    emp_a, emp_b = await sock("e0"), await sock("e1")
    t_a = (await s0_at_a.call("join", {"interview_id": d.interview(0, 0)}))["ticket_id"]
    t_b = (await s0_at_b.call("join", {"interview_id": d.interview(1, 0)}))["ticket_id"]
    await emp_b.call("call_next", {"session_id": b.session_id})
    assert (await emp_b.call("skip", {"session_id": b.session_id, "ticket_id": t_b}))["ok"]  # 未到 at B
    assert (await emp_a.call("call_next", {"session_id": a.session_id}))["ticket_id"] == t_a
    refused = await emp_b.call("recall", {"session_id": b.session_id, "ticket_id": t_b})
    assert refused == {"ok": False, "error": "该学生正在其他单位面试，请稍后再呼叫"}
    assert (await s0_at_a.call("answer", {"ticket_id": t_a}))["ok"]
    assert (await emp_a.call("finish", {"ticket_id": t_a, "outcome": "通过"}))["ok"]
    assert (await emp_b.call("recall", {"session_id": b.session_id, "ticket_id": t_b}))["ticket_id"] == t_b


async def test_the_database_refuses_a_second_call_for_one_student(fair):
    d, sock = fair["data"], fair["sock"]
    s0_at_a, s0_at_b = await sock("s0", 0), await sock("s0", 1)
    t_a = (await s0_at_a.call("join", {"interview_id": d.interview(0, 0)}))["ticket_id"]
    t_b = (await s0_at_b.call("join", {"interview_id": d.interview(1, 0)}))["ticket_id"]
    db = fair["app"][DB]
    async with db.write() as conn:
        await conn.execute(hall_tickets.update().where(hall_tickets.c.id == t_a).values(status="in_call"))
    with pytest.raises(IntegrityError):
        async with db.write() as conn:
            await conn.execute(hall_tickets.update().where(hall_tickets.c.id == t_b).values(status="called"))
    assert (await statuses(fair["app"]))[t_b] == "waiting"


async def test_two_booths_calling_one_student_at_the_same_moment(fair, settings, clock):
    """Both booths' calls in separate transactions started together, ten times over: on
    PostgreSQL they really overlap (the student's row is where they take turns); exactly one
    rings for the student each time, and the other booth calls its next waiter."""
    d, sock = fair["data"], fair["sock"]
    a, b = d.booths
    joined = []
    for key in ("s0", "s1"):
        for booth in (0, 1):
            page = await sock(key, booth)
            student = int(key[1])
            joined.append((await page.call("join", {"interview_id": d.interview(booth, student)}))["ticket_id"])
    t_a, t_b, u_a, u_b = joined
    db = Database(settings.database_url)
    try:
        for _ in range(10):
            async def call(session_id: int):  # noqa: ANN202
                async with db.write() as conn:
                    return await tickets.call_next(conn, session_id, clock.now(), GRACE)
            got_a, got_b = await asyncio.gather(call(a.session_id), call(b.session_id))
            called = {got_a.ticket.id, got_b.ticket.id}
            # the student first in both lines rings at one booth, the other student at the other
            assert called in ({t_a, u_b}, {t_b, u_a}), called
            passed = got_b.passed_over if t_a in called else got_a.passed_over
            assert [r.id for r in passed] == [t_b if t_a in called else t_a]
            async with db.write() as conn:  # both calls given up: everyone waits again
                await conn.execute(hall_tickets.update().values(status="waiting", called_at=None))
    finally:
        await db.dispose()


async def test_my_interviews_lists_todays_places_with_their_states(fair):
    d, sock = fair["data"], fair["sock"]
    a, b = d.booths
    s0_at_a, s0_at_b = await sock("s0", 0), await sock("s0", 1)
    emp_a = await sock("e0")
    t_a = (await s0_at_a.call("join", {"interview_id": d.interview(0, 0)}))["ticket_id"]
    await s0_at_b.call("join", {"interview_id": d.interview(1, 0)})
    await emp_a.call("call_next", {"session_id": a.session_id})
    assert (await s0_at_a.call("answer", {"ticket_id": t_a}))["ok"]
    html = await (await fair["http"]["s0"].get("/student/interviews")).text()
    doc = lxml.html.fromstring(html)
    today = [" ".join(li.text_content().split()) for li in doc.xpath('//*[@id="hall-today"]//li')]
    assert len(today) == 2
    assert today[0].startswith(f"{a.name} · 岗位1") and "面试中" in today[0]
    assert today[1].startswith(f"{b.name} · 岗位2") and "排队中：第 1 位" in today[1]
    assert f"你正在 {a.name} 面试" in today[1]
    links = doc.xpath('//*[@id="hall-today"]//a/@href')
    assert links == [f"/hall/interviews/{d.interview(0, 0)}", f"/hall/interviews/{d.interview(1, 0)}"]
    # another student's page lists only their own (none today)
    other = await (await fair["http"]["s1"].get("/student/interviews")).text()
    assert 'id="hall-today"' not in other


async def test_a_hall_page_for_an_interview_that_is_over_says_so(fair):
    d, sock = fair["data"], fair["sock"]
    a = d.booths[0]
    page, emp_a = await sock("s0", 0), await sock("e0")
    t_a = (await page.call("join", {"interview_id": d.interview(0, 0)}))["ticket_id"]
    await emp_a.call("call_next", {"session_id": a.session_id})
    assert (await emp_a.call("skip", {"session_id": a.session_id, "ticket_id": t_a}))["ok"]
    html = await (await fair["http"]["s0"].get(f"/hall/interviews/{d.interview(0, 0)}")).text()
    status = lxml.html.fromstring(html).get_element_by_id("hall-status").text_content()
    assert status == "该面试未到，面试大厅不再开放。可在【我的面试】中查看。"
    assert "开放。" in status and "将于" not in status
