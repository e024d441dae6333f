"""The /hall namespace with real socket.io clients over a real server: joining, places,
calls, no-shows, reconnects, a restart, refusals, the signaling relay and the outcome."""

import datetime as dt

import pytest
import socketio
import sqlalchemy as sa

from app.db import Database
from app.state import DB
from app.tables import hall_tickets, interviews
from app.web import create_app
from rtc import tickets
from rtc.setup import sweep_once
from tests.factories import PASSWORD
from tests.hall_kit import build_hall, connect, cookie_of


@pytest.fixture
async def hall(world, settings, clock, aiohttp_client, make_client, sockets):
    data = await build_hall(world, settings, clock)
    data["sockets"] = sockets
    base = None
    people = []
    for s in data["students"]:
        c = await make_client()
        await c.login("student", s.email, PASSWORD)
        people.append(c)
    employer = await make_client()
    await employer.login("employer", "employer", PASSWORD)
    base = str(employer.client.make_url("/"))
    data.update(base=base, students_http=people, employer_http=employer, app=employer.app)
    return data


async def opened(hall, client):
    hall["sockets"].append(client)
    return client


async def student_socket(hall, i):
    return await opened(hall, await connect(hall["base"], cookie_of(hall["students_http"][i])))


async def employer_socket(hall):
    return await opened(hall, await connect(hall["base"], cookie_of(hall["employer_http"])))


async def first_student_called(hall):
    """The employer watching, the first student queued and called: (student, employer, ticket)."""
    s0 = await student_socket(hall, 0)
    emp = await employer_socket(hall)
    await emp.call("watch", {"session_id": hall["session_id"]})
    t0 = (await s0.call("join", {"interview_id": hall["interview_ids"][0]}))["ticket_id"]
    await emp.call("call_next", {"session_id": hall["session_id"]})
    await s0.events.wait("called")
    return s0, emp, t0


async def test_join_places_call_next_and_the_rest_move_up(hall):
    s0, s1 = await student_socket(hall, 0), await student_socket(hall, 1)
    emp = await employer_socket(hall)
    watched = await emp.call("watch", {"session_id": hall["session_id"]})
    assert watched["ok"] and watched["booth"]["waiting"] == []
    a1 = await s1.call("join", {"interview_id": hall["interview_ids"][1], "probe": {"verdict": "good"}})
    a0 = await s0.call("join", {"interview_id": hall["interview_ids"][0]})
    assert a1["ok"] and a0["ok"]
    # s0 has the earlier slot: once both are present s0 is first, s1 second
    place = await s1.events.wait("queue", lambda d: d.get("position") == 2)
    assert place["eta_seconds"] == 300  # one slot length: no interview finished yet
    booth = await emp.events.wait("booth", lambda d: len(d["waiting"]) == 2)
    assert [w["ticket_id"] for w in booth["waiting"]] == [a0["ticket_id"], a1["ticket_id"]]
    assert [w["name"] for w in booth["late"]] == []
    called = await emp.call("call_next", {"session_id": hall["session_id"]})
    assert called == {"ok": True, "ticket_id": a0["ticket_id"]}
    await s0.events.wait("called", lambda d: d["ticket_id"] == a0["ticket_id"])
    await s1.events.wait("queue", lambda d: d.get("position") == 1)
    # one call at a time
    again = await emp.call("call_next", {"session_id": hall["session_id"]})
    assert again["ok"] is False and "请先结束" in again["error"]
    for c in (s0, s1, emp):
        await c.sio.disconnect()


async def test_unanswered_call_becomes_no_show_and_the_next_is_called(hall, clock, settings):
    s0, s1 = await student_socket(hall, 0), await student_socket(hall, 1)
    emp = await employer_socket(hall)
    await emp.call("watch", {"session_id": hall["session_id"]})
    t0 = (await s0.call("join", {"interview_id": hall["interview_ids"][0]}))["ticket_id"]
    t1 = (await s1.call("join", {"interview_id": hall["interview_ids"][1]}))["ticket_id"]
    await emp.call("call_next", {"session_id": hall["session_id"]})
    await s0.events.wait("called")
    clock.advance(seconds=settings.hall_answer_grace_seconds + 1)
    await sweep_once(hall["app"])
    await s1.events.wait("called", lambda d: d["ticket_id"] == t1)
    booth = await emp.events.wait("booth", lambda d: d["no_show"] and d["current"])
    assert [n["ticket_id"] for n in booth["no_show"]] == [t0]
    assert booth["current"]["ticket_id"] == t1
    # the 未到 student cannot answer late
    late = await s0.call("answer", {"ticket_id": t0})
    assert late["ok"] is False
    db = Database(settings.database_url)
    async with db.read() as conn:
        status = (await conn.execute(sa.select(interviews.c.status).where(
            interviews.c.id == hall["interview_ids"][0]))).scalar_one()
    await db.dispose()
    assert status == "no_show"
    for c in (s0, s1, emp):
        await c.sio.disconnect()


async def test_the_sweep_leaves_a_call_made_again_between_its_look_and_its_write(hall, clock, settings):
    """The sweep looks for unanswered calls outside the write lock and writes after: a call
    made again meanwhile (重新呼叫, a new called_at) is not marked 未到 by the old look."""
    s0, emp, t0 = await first_student_called(hall)
    clock.advance(seconds=settings.hall_answer_grace_seconds + 1)
    grace = dt.timedelta(seconds=settings.hall_answer_grace_seconds)
    db = hall["app"][DB]
    async with db.read() as conn:
        due = await tickets.sweep_due(conn, clock.now(), grace, grace)
    assert [r.id for r in due.no_shows] == [t0]
    async with db.write() as conn:  # meanwhile: called again
        await conn.execute(hall_tickets.update().where(hall_tickets.c.id == t0)
                           .values(called_at=clock.now()))
    async with db.write() as conn:
        result = await tickets.apply_sweep(conn, due, clock.now())
    assert result.no_show_sessions == set()
    async with db.read() as conn:
        status = (await conn.execute(sa.select(hall_tickets.c.status)
                                     .where(hall_tickets.c.id == t0))).scalar_one()
    assert status == "called"
    for c in (s0, emp):
        await c.sio.disconnect()


async def test_reconnect_within_grace_keeps_the_place_and_stale_waiters_leave(hall, clock, settings):
    s0, s1 = await student_socket(hall, 0), await student_socket(hall, 1)
    emp = await employer_socket(hall)
    await emp.call("watch", {"session_id": hall["session_id"]})
    t0 = (await s0.call("join", {"interview_id": hall["interview_ids"][0]}))["ticket_id"]
    await s1.call("join", {"interview_id": hall["interview_ids"][1]})
    await s0.sio.disconnect()
    booth = await emp.events.wait("booth", lambda d: any(
        w["ticket_id"] == t0 and not w["connected"] for w in d["waiting"]))
    assert booth["waiting"][0]["ticket_id"] == t0  # still first while within the grace
    clock.advance(seconds=settings.hall_waiter_grace_seconds - 1)
    await sweep_once(hall["app"])
    s0 = await student_socket(hall, 0)  # back in time: the place is theirs
    back = await s0.events.wait("queue", lambda d: d["ticket_id"] == t0 and d.get("position") == 1)
    assert back["status"] == "waiting"
    emp.events.clear()
    await s0.sio.disconnect()
    await emp.events.wait("booth", lambda d: any(
        w["ticket_id"] == t0 and not w["connected"] for w in d["waiting"]))
    clock.advance(seconds=settings.hall_waiter_grace_seconds + 1)
    await sweep_once(hall["app"])
    await s1.events.wait("queue", lambda d: d.get("position") == 1)
    db = Database(settings.database_url)
    async with db.read() as conn:
        status = (await conn.execute(sa.select(hall_tickets.c.status).where(
            hall_tickets.c.id == t0))).scalar_one()
    await db.dispose()
    assert status == "left"
    for c in (s1, emp):
        await c.sio.disconnect()


async def test_a_restart_keeps_the_queue(hall, settings, clock, aiohttp_client):
    s0, s1 = await student_socket(hall, 0), await student_socket(hall, 1)
    t0 = (await s0.call("join", {"interview_id": hall["interview_ids"][0]}))["ticket_id"]
    t1 = (await s1.call("join", {"interview_id": hall["interview_ids"][1]}))["ticket_id"]
    cookies = [cookie_of(c) for c in hall["students_http"]] + [cookie_of(hall["employer_http"])]
    await s0.sio.disconnect()
    await s1.sio.disconnect()
    await hall["employer_http"].client.server.close()  # the process goes away
    fresh = await aiohttp_client(create_app(settings, clock=clock))
    base = str(fresh.make_url("/"))
    s0 = await opened(hall, await connect(base, cookies[0]))
    s1 = await opened(hall, await connect(base, cookies[1]))
    emp = await opened(hall, await connect(base, cookies[-1]))
    watched = await emp.call("watch", {"session_id": hall["session_id"]})
    assert watched["ok"], watched
    assert [w["ticket_id"] for w in watched["booth"]["waiting"]] == [t0, t1]
    await s1.events.wait("queue", lambda d: d["ticket_id"] == t1 and d.get("position") == 2)
    for c in (s0, s1, emp):
        await c.sio.disconnect()


async def test_refusals(hall, make_client, world):
    base = hall["base"]
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(base, None)  # not logged in
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(base, cookie_of(hall["students_http"][0]), origin="http://evil.example")
    admin = await make_client()
    await admin.login("staff", "platform", PASSWORD)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(base, cookie_of(admin))
    s0, s1 = await student_socket(hall, 0), await student_socket(hall, 1)
    emp = await employer_socket(hall)
    t0 = (await s0.call("join", {"interview_id": hall["interview_ids"][0]}))["ticket_id"]
    refused = [
        await s1.call("join", {"interview_id": hall["interview_ids"][0]}),   # someone else's
        await s1.call("join", {"interview_id": "1; drop table"}),           # malformed
        await s1.call("join", None),
        await s0.call("call_next", {"session_id": hall["session_id"]}),    # students do not call
        await s0.call("watch", {"session_id": hall["session_id"]}),
        await s1.call("answer", {"ticket_id": t0}),                          # not theirs
        await s1.call("signal", {"ticket_id": t0, "payload": {"sdp": "x"}}),  # not in the call
        await emp.call("finish", {"ticket_id": t0, "outcome": "通过"}),       # not in a call
        await emp.call("signal", {"ticket_id": t0, "payload": "x" * 10}),
    ]
    assert all(r["ok"] is False and r["error"] for r in refused), refused
    # another employer cannot watch or call this booth
    from tests.test_employers import register
    other = await make_client()
    await register(other)
    other_sock = await opened(hall, await connect(base, cookie_of(other)))
    r = await other_sock.call("call_next", {"session_id": hall["session_id"]})
    assert r == {"ok": False, "error": "无权操作该面试间"}
    for c in (s0, s1, emp, other_sock):
        await c.sio.disconnect()


async def test_call_signaling_relay_and_outcome(hall, settings):
    s0, s1 = await student_socket(hall, 0), await student_socket(hall, 1)
    emp = await employer_socket(hall)
    await emp.call("watch", {"session_id": hall["session_id"]})
    t0 = (await s0.call("join", {"interview_id": hall["interview_ids"][0]}))["ticket_id"]
    await s1.call("join", {"interview_id": hall["interview_ids"][1]})
    await emp.call("call_next", {"session_id": hall["session_id"]})
    await s0.events.wait("called")
    assert (await s0.call("answer", {"ticket_id": t0}))["ok"]
    await emp.events.wait("call_started", lambda d: d["ticket_id"] == t0)
    await s0.events.wait("call_started")
    offer = {"description": {"type": "offer", "sdp": "v=0 test"}}
    assert (await emp.call("signal", {"ticket_id": t0, "payload": offer}))["ok"]
    got = await s0.events.wait("signal")
    assert got == {"ticket_id": t0, "payload": offer}
    assert (await s0.call("signal", {"ticket_id": t0, "payload": {"candidate": {"candidate": "c"}}}))["ok"]
    await emp.events.wait("signal", lambda d: "candidate" in d["payload"])
    assert not [e for e, _ in s1.events.seen if e == "signal"]  # never to a third party
    bad = await emp.call("finish", {"ticket_id": t0, "outcome": "很好"})
    assert bad["ok"] is False and "通过、待定或不通过" in bad["error"]
    done = await emp.call("finish", {"ticket_id": t0, "outcome": "通过", "notes": "沟通清楚",
                                     "release": True})
    assert done["ok"]
    await s0.events.wait("call_ended")
    page = await (await hall["students_http"][0].get(f"/student/interviews/{hall['interview_ids'][0]}")).text()
    assert 'id="interview-outcome">通过' in page and "已面试" in page
    for c in (s0, s1, emp):
        await c.sio.disconnect()


async def test_skip_recall_and_end_session(hall, settings):
    s0, s1 = await student_socket(hall, 0), await student_socket(hall, 1)
    emp = await employer_socket(hall)
    await emp.call("watch", {"session_id": hall["session_id"]})
    t0 = (await s0.call("join", {"interview_id": hall["interview_ids"][0]}))["ticket_id"]
    await s1.call("join", {"interview_id": hall["interview_ids"][1]})
    await emp.call("call_next", {"session_id": hall["session_id"]})
    await s0.events.wait("called")
    skipped = await emp.call("skip", {"session_id": hall["session_id"], "ticket_id": t0})
    assert skipped == {"ok": True}
    await s0.events.wait("queue", lambda d: d["status"] == "no_show")
    # a skipped student comes back only when the employer recalls them
    recalled = await emp.call("recall", {"session_id": hall["session_id"], "ticket_id": t0})
    assert recalled["ok"] and recalled["ticket_id"] == t0
    await s0.events.wait("called", lambda d: d["ticket_id"] == t0)
    assert (await emp.call("skip", {"session_id": hall["session_id"], "ticket_id": t0}))["ok"]
    ended = await emp.call("end_session", {"session_id": hall["session_id"]})
    assert ended == {"ok": True, "told": 1}
    await s1.events.wait("session_ended")
    db = Database(settings.database_url)
    async with db.read() as conn:
        statuses = dict((await conn.execute(sa.select(hall_tickets.c.id, hall_tickets.c.status))).all())
    await db.dispose()
    assert sorted(statuses.values()) == ["left", "no_show"]
    # the ended booth takes nobody any more
    late = await s1.call("join", {"interview_id": hall["interview_ids"][1]})
    assert late["ok"] is False


async def test_employer_absent_after_the_first_slot_gets_one_email(hall, clock, settings):
    from app.tables import email_outbox
    s0 = await student_socket(hall, 0)
    await s0.call("join", {"interview_id": hall["interview_ids"][0]})
    await sweep_once(hall["app"])  # the first slot is still ahead: nothing
    clock.advance(minutes=1 + settings.hall_employer_absent_minutes)
    await sweep_once(hall["app"])
    await sweep_once(hall["app"])  # once only
    db = Database(settings.database_url)
    async with db.read() as conn:
        mails = list(await conn.execute(sa.select(email_outbox).where(
            email_outbox.c.template == "hall_employer_absent")))
    await db.dispose()
    assert [m.to_addr for m in mails] == ["hr@test.example.cn"]
    assert f"/hall/booths/{hall['session_id']}" in mails[0].body_text


async def test_an_employer_in_the_room_gets_no_absence_email(hall, clock, settings):
    from app.tables import email_outbox
    emp = await employer_socket(hall)
    await emp.call("watch", {"session_id": hall["session_id"]})
    s0 = await student_socket(hall, 0)
    await s0.call("join", {"interview_id": hall["interview_ids"][0]})
    clock.advance(minutes=1 + settings.hall_employer_absent_minutes)
    await sweep_once(hall["app"])
    db = Database(settings.database_url)
    async with db.read() as conn:
        n = len(list(await conn.execute(sa.select(email_outbox.c.id).where(
            email_outbox.c.template == "hall_employer_absent"))))
    await db.dispose()
    assert n == 0


async def test_outcome_kept_back_then_released(hall, settings):
    s0, emp, t0 = await first_student_called(hall)
    await s0.call("answer", {"ticket_id": t0})
    assert (await emp.call("finish", {"ticket_id": t0, "outcome": "待定", "release": False}))["ok"]
    student_page = f"/student/interviews/{hall['interview_ids'][0]}"
    assert "interview-outcome" not in await (await hall["students_http"][0].get(student_page)).text()
    db = Database(settings.database_url)
    async with db.read() as conn:
        app_id = (await conn.execute(sa.select(interviews.c.application_id).where(
            interviews.c.id == hall["interview_ids"][0]))).scalar_one()
    await db.dispose()
    page = await (await hall["employer_http"].get(f"/employer/applications/{app_id}")).text()
    assert "结果：<strong>待定</strong>（未发布）" in page
    resp = await hall["employer_http"].post(f"/employer/interviews/{hall['interview_ids'][0]}/release")
    assert resp.status == 303
    assert 'id="interview-outcome">待定' in await (await hall["students_http"][0].get(student_page)).text()


async def test_ping_answers_students_and_employers(hall):
    s0, emp = await student_socket(hall, 0), await employer_socket(hall)
    assert await s0.call("ping", None) == {"ok": True}
    assert await emp.call("ping", {}) == {"ok": True}
    for c in (s0, emp):
        await c.sio.disconnect()


async def test_called_student_who_reloads_is_called_again_with_the_answer_time_left(hall, clock, settings):
    """The countdown on the student's page is the server's: a page opened while the call
    rings gets the call again with the seconds that are really left, not the full grace."""
    s0 = await student_socket(hall, 0)
    emp = await employer_socket(hall)
    await emp.call("watch", {"session_id": hall["session_id"]})
    t0 = (await s0.call("join", {"interview_id": hall["interview_ids"][0]}))["ticket_id"]
    await emp.call("call_next", {"session_id": hall["session_id"]})
    first = await s0.events.wait("called", lambda d: d["ticket_id"] == t0)
    assert first["answer_seconds"] == settings.hall_answer_grace_seconds
    await s0.sio.disconnect()
    clock.advance(seconds=20)
    again = await student_socket(hall, 0)
    told = await again.events.wait("called", lambda d: d["ticket_id"] == t0)
    assert told["answer_seconds"] == settings.hall_answer_grace_seconds - 20
    # and it can still be answered in that time
    assert (await again.call("answer", {"ticket_id": t0}))["ok"] is True
    for c in (again, emp):
        await c.sio.disconnect()
