"""Hardening of /hall and /monitor with real socket.io clients over a real server: a
flooding socket is refused then cut off while the hall carries on; bad payloads cost one
log line; ending a login session (logout, password reset, another process, a disabled
account) closes its sockets."""

import asyncio
import dataclasses
import logging
import statistics
import time

import pytest
import socketio
import sqlalchemy as sa

from app.state import DB
from app.tables import accounts
from rtc.guard import TOO_FAST, TOO_MANY
from rtc.namespace import SESSION_GONE
from rtc.setup import HALL
from tests.factories import PASSWORD
from tests.hall_kit import build_hall, connect, cookie_of, with_everyone
from tests.test_page_cache import redis_settings
from tests.mailbox import code_in
from tests.test_password_reset import request_code, start


@pytest.fixture
def settings(settings, mailbox):
    return dataclasses.replace(settings, smtp_host=mailbox.host, smtp_port=mailbox.port)


@pytest.fixture
async def hall(world, settings, clock, make_client, sockets):
    return await with_everyone(await build_hall(world, settings, clock), make_client, sockets)


def disconnected(client, namespace: str = "/hall") -> asyncio.Event:
    """Set when the server disconnects this client's namespace."""
    gone = asyncio.Event()
    client.sio.on("disconnect", lambda *_: gone.set(), namespace=namespace)
    return gone


async def ping_ms(client, times: int) -> list[float]:
    took = []
    for _ in range(times):
        started = time.perf_counter()
        assert await client.call("ping", {}) == {"ok": True}
        took.append((time.perf_counter() - started) * 1000)
    return took


async def test_a_flooding_socket_is_cut_off_while_the_hall_carries_on(hall, caplog, clock):
    caplog.set_level(logging.INFO)
    clock.advance(seconds=90)  # the third slot's hall is open too
    ids = hall["interview_ids"]
    emp, s1, s2 = await hall["sock"]("employer"), await hall["sock"]("s1"), await hall["sock"]("s2")
    flooder = await hall["sock"]("s0")
    gone = disconnected(flooder)
    at_rest = statistics.median(await ping_ms(s1, 15))
    # joins of its own invitation mixed with malformed ones: out of range, wrong type, none
    payloads = [{"interview_id": ids[0]}, {"interview_id": 2**70}, {"interview_id": "1 or 1"},
                None, {"interview_id": -5}, ["interview_id"]]
    acks: list = []
    sent = 0

    async def flood() -> None:
        nonlocal sent
        while not gone.is_set() and sent < 20_000:
            try:
                await flooder.sio.emit("join", payloads[sent % len(payloads)], namespace="/hall",
                                       callback=lambda *a: acks.append(a[0] if a else None))
            except socketio.exceptions.SocketIOError:
                return  # the server has cut this client off
            sent += 1
            if sent % 20 == 0:
                await asyncio.sleep(0)  # let the client's writer send what is queued

    flooding = asyncio.create_task(flood())
    during = []
    while not flooding.done() or len(during) < 5:
        during += await ping_ms(s1, 1)
        if len(during) >= 30:
            break
    joined = await s1.call("join", {"interview_id": ids[1]})
    watched = await emp.call("watch", {"session_id": hall["session_id"]})
    await asyncio.wait_for(gone.wait(), 30)
    await asyncio.wait_for(flooding, 30)
    joined2 = await s2.call("join", {"interview_id": ids[2]})
    assert joined["ok"] and watched["ok"] and joined2["ok"], (joined, watched, joined2)
    errors = {a["error"] for a in acks if isinstance(a, dict) and not a.get("ok")}
    assert {TOO_FAST, TOO_MANY} & errors, errors
    assert "请求格式不正确" in errors
    assert len(acks) < 500  # the server answered a few hundred at most, then cut it off
    # What keeps the others served is the fact above: the server handled a bounded number of
    # the flood's events, then cut it off. Their pings' times are shown, not asserted (the
    # machine is shared); before the limits this very flood's pings took 85 ms at the median
    # and 0.4 s at worst, and joins failed after 36–49 s.
    print(f"pings of another student: at rest {at_rest:.1f} ms (median), during the flood "
          f"{statistics.median(during):.1f} ms (median), {max(during):.1f} ms (max)")
    ours = [r for r in caplog.records if r.name.startswith("rtc")]
    assert not [r for r in ours if r.exc_info], "a refused event logged a traceback"
    assert len(ours) <= sent
    assert sum("flooded" in r.getMessage() for r in ours) == 1
    # the flooder may come back (a reload) and is served again
    back = await hall["sock"]("s0")
    assert await back.call("ping", {}) == {"ok": True}


async def test_bad_payloads_are_answered_with_one_line_each(hall, caplog):
    caplog.set_level(logging.INFO)
    s0, emp = await hall["sock"]("s0"), await hall["sock"]("employer")
    admin = await hall["sock"]("platform", "/monitor")
    bad = [(s0, "join", {"interview_id": 2**63}), (s0, "walk_in", {"session_id": 10**12}),
           (s0, "answer", {"ticket_id": 1.5}), (emp, "call_next", {"session_id": [1]}),
           (emp, "finish", {"ticket_id": 2**40, "outcome": "通过"}),
           (emp, "set_walk_ins", "not a dict"), (s0, "quality", {"ticket_id": 2**33})]
    for client, event, data in bad:
        answer = await client.call(event, data)
        assert answer == {"ok": False, "error": "请求格式不正确"}, (event, answer)
    assert await admin.call("refresh", {}) is not None
    ours = [r for r in caplog.records if r.name.startswith("rtc")]
    assert not [r for r in ours if r.exc_info]
    assert len(ours) == len(bad)


async def reset_code(mailbox, to: str) -> str:
    """The code of the password-reset mail (the invitation mails came before it)."""
    seen = 1
    while True:
        mails = await mailbox.wait_for(to, seen)
        for mail in mails:
            if "找回密码验证码" in mail["Subject"]:
                return code_in(mail)
        seen = len(mails) + 1


async def test_logout_disconnects_the_sockets_of_that_session(hall):
    student, other = await hall["sock"]("s0"), await hall["sock"]("s1")
    second_tab = await hall["sock"]("s0")
    monitor = await hall["sock"]("platform", "/monitor")
    gone = [disconnected(student), disconnected(second_tab), disconnected(monitor, "/monitor")]
    old_cookies = cookie_of(hall["http"]["s0"]), cookie_of(hall["http"]["platform"])
    for key in ("s0", "platform"):
        assert (await hall["http"][key].post("/logout")).status == 303
    for event in gone:
        await asyncio.wait_for(event.wait(), 10)
    assert other.sio.connected and await other.call("ping", {}) == {"ok": True}
    # the old cookie opens nothing: no socket, so no join
    for cookie, namespace in zip(old_cookies, ("/hall", "/monitor")):
        with pytest.raises(socketio.exceptions.ConnectionError):
            await connect(hall["base"], cookie, namespace=namespace)


async def test_a_password_reset_disconnects_every_socket_of_the_account(hall, make_client, mailbox):
    s = hall["students"][0]
    student = await hall["sock"]("s0")
    other = await hall["sock"]("s1")
    gone = disconnected(student)
    cookie = cookie_of(hall["http"]["s0"])
    c = await make_client()
    flow = await start(c, s.student_no, school_id=str(s.school_id))
    await request_code(c, flow, s.email)
    code = await reset_code(mailbox, s.email)
    assert (await c.post(f"{flow}/verify", {"email": s.email, "code": code})).status == 303
    resp = await c.post(f"{flow}/new", {"password": "newpass123", "password2": "newpass123"})
    assert resp.status == 303
    await asyncio.wait_for(gone.wait(), 10)
    assert other.sio.connected
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(hall["base"], cookie)


async def test_a_socket_whose_session_died_elsewhere_is_refused_on_its_next_event(hall, settings):
    """The second net: an account disabled by a plain update (no disconnect hook ran) loses
    its socket at its next event once the session check is due. The check reads the session
    from the logged-in cache while no write touched it: the first checks read and keep it
    (the next ones make no query), and the update drops it."""
    student = await hall["sock"]("s0")
    gone = disconnected(student)
    hall["app"][HALL].guard.session_check_seconds = 0  # due at every event
    for _ in range(3):
        assert await student.call("ping", {}) == {"ok": True}
    db = hall["app"][DB]
    seen: list[str] = []

    def on_execute(_conn, _cursor, statement, *_args):  # noqa: ANN001
        if "FROM sessions" in statement:
            seen.append(statement)
    sa.event.listen(db.engine.sync_engine, "before_cursor_execute", on_execute)
    try:
        assert await student.call("ping", {}) == {"ok": True}
    finally:
        sa.event.remove(db.engine.sync_engine, "before_cursor_execute", on_execute)
    assert seen == []
    async with db.write() as conn:
        await conn.execute(accounts.update().where(accounts.c.id == hall["students"][0].account_id)
                           .values(is_active=False))
    answer = await student.call("join", {"interview_id": hall["interview_ids"][0]})
    assert answer == {"ok": False, "error": SESSION_GONE}
    await asyncio.wait_for(gone.wait(), 10)


async def test_logout_in_one_process_disconnects_the_socket_in_another(world, settings, clock,
                                                                       aiohttp_client):
    """With REDIS_URL the disconnect reaches the process holding the socket."""
    from app.web import create_app
    from tests.conftest import FormClient
    shared = await redis_settings(settings)
    data = await build_hall(world, settings, clock)
    one = FormClient(await aiohttp_client(create_app(shared, clock=clock)))
    two = FormClient(await aiohttp_client(create_app(shared, clock=clock)))
    await two.login("student", data["students"][0].email, PASSWORD)
    await one.get("/")
    cookie = cookie_of(two)
    student = await connect(str(one.client.make_url("/")), cookie)  # the socket is in process one
    gone = disconnected(student)
    try:
        assert (await student.call("join", {"interview_id": data["interview_ids"][0]}))["ok"]
        assert (await two.post("/logout")).status == 303  # the session ends in process two
        await asyncio.wait_for(gone.wait(), 10)
    finally:
        await student.sio.disconnect()


async def test_a_call_spans_two_processes(world, settings, clock, aiohttp_client):
    """The student answers on one process, the interviewer watches on another (Redis): the
    interviewer joins the call there, and signals pass both ways."""
    from app.web import create_app
    from tests.conftest import FormClient
    shared = await redis_settings(settings)
    data = await build_hall(world, settings, clock)
    one = FormClient(await aiohttp_client(create_app(shared, clock=clock)))
    two = FormClient(await aiohttp_client(create_app(shared, clock=clock)))
    await one.login("employer", "employer", PASSWORD)
    await two.login("student", data["students"][0].email, PASSWORD)
    employer = await connect(str(one.client.make_url("/")), cookie_of(one))
    student = await connect(str(two.client.make_url("/")), cookie_of(two))
    try:
        assert (await employer.call("watch", {"session_id": data["session_id"]}))["ok"]
        ticket = (await student.call("join", {"interview_id": data["interview_ids"][0]}))["ticket_id"]
        await employer.events.wait("booth", lambda b: len(b["waiting"]) == 1)
        assert (await employer.call("call_next", {"session_id": data["session_id"]}))["ok"]
        await student.events.wait("called", lambda d: d["ticket_id"] == ticket)
        assert (await student.call("answer", {"ticket_id": ticket}))["ok"]
        await employer.events.wait("call_started", lambda d: d["ticket_id"] == ticket)
        offer = {"description": {"type": "offer", "sdp": "v=0"}}
        assert (await employer.call("signal", {"ticket_id": ticket, "payload": offer}))["ok"]
        got = await student.events.wait("signal", lambda d: d["ticket_id"] == ticket)
        assert got["payload"] == offer
        answer = {"description": {"type": "answer", "sdp": "v=0"}}
        assert (await student.call("signal", {"ticket_id": ticket, "payload": answer}))["ok"]
        assert (await employer.events.wait("signal", lambda d: d["payload"] == answer))["ticket_id"] == ticket
    finally:
        for c in (employer, student):
            await c.sio.disconnect()
