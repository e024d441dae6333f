"""The hall on two processes behind nginx (PostgreSQL or the SQLite file, and Redis): the
students on process A, the employer on process B, every event crossing between them (and
aiortc video through the relayed signaling); then A is killed with SIGKILL while students
wait, they reconnect through nginx (to B) and keep their places in order, and no ticket,
mail or audit row is lost or doubled."""

from __future__ import annotations

import signal

import pytest
import sqlalchemy as sa

from app.db import Database
from app.tables import audit_log, email_outbox, hall_tickets
from tests.hall_kit import HallClient, build_hall, connect, exchange_media, login_cookie
from tests.cluster_kit import HAVE_NGINX, cluster

pytestmark = pytest.mark.skipif(not HAVE_NGINX, reason="nginx missing: `make test` installs it")


login = login_cookie  # the other cluster tests import it from here


async def rows(database_url: str) -> dict[str, list]:
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return {
                "tickets": (await conn.execute(sa.select(
                    hall_tickets.c.id, hall_tickets.c.account_id, hall_tickets.c.status)
                    .order_by(hall_tickets.c.id))).all(),
                "mails": (await conn.execute(sa.select(email_outbox.c.id, email_outbox.c.to_addr,
                                                       email_outbox.c.template)
                                             .order_by(email_outbox.c.id))).all(),
                "audit": (await conn.execute(sa.select(audit_log.c.id)
                                             .order_by(audit_log.c.id))).scalars().all(),
            }
    finally:
        await db.dispose()


async def test_hall_across_two_processes_survives_a_killed_one(tmp_path, settings, clock, world,
                                                               sockets):
    hall = await build_hall(world, settings, clock, students=3)
    # three 5-minute slots from a minute from now: open the hall to the third one too
    async with cluster(tmp_path, settings, HALL_OPEN_MINUTES="30") as c:
        cookies = [await login(c.base, "student", s.email) for s in hall["students"]]
        employer_cookie = await login(c.base, "employer", "employer")

        async def on(url: str, cookie: str, **kw) -> HallClient:  # noqa: ANN003
            client = await connect(url, cookie, **kw)
            sockets.append(client)
            return client
        students = [await on(c.direct(0), cookie) for cookie in cookies]  # process A
        emp = await on(c.direct(1), employer_cookie)                      # process B
        assert (await emp.call("watch", {"session_id": hall["session_id"]}))["ok"]
        tickets = []
        for sock, interview_id in zip(students, hall["interview_ids"]):
            joined = await sock.call("join", {"interview_id": interview_id})
            assert joined["ok"], joined
            tickets.append(joined["ticket_id"])
        # A's joins reach the employer on B through Redis, in slot order
        booth = await emp.events.wait("booth", lambda d: len(d["waiting"]) == 3)
        assert [w["ticket_id"] for w in booth["waiting"]] == tickets
        await students[2].events.wait("queue", lambda d: d.get("position") == 3)

        # B calls; A's student is told, answers; signaling crosses both ways; an outcome
        assert (await emp.call("call_next", {"session_id": hall["session_id"]}))[
            "ticket_id"] == tickets[0]
        await students[0].events.wait("called", lambda d: d["ticket_id"] == tickets[0])
        assert (await students[0].call("answer", {"ticket_id": tickets[0]}))["ok"]
        await emp.events.wait("call_started", lambda d: d["ticket_id"] == tickets[0])
        offer = {"description": {"type": "offer", "sdp": "v=0 cluster"}}
        assert (await emp.call("signal", {"ticket_id": tickets[0], "payload": offer}))["ok"]
        assert await students[0].events.wait("signal") == {"ticket_id": tickets[0],
                                                           "payload": offer}
        answer = {"description": {"type": "answer", "sdp": "v=0 back"}}
        assert (await students[0].call("signal", {"ticket_id": tickets[0],
                                                   "payload": answer}))["ok"]
        await emp.events.wait("signal", lambda d: d["payload"] == answer)
        assert (await emp.call("finish", {"ticket_id": tickets[0], "outcome": "通过",
                                          "release": True}))["ok"]
        await students[0].events.wait("call_ended")
        await students[1].events.wait("queue", lambda d: d.get("position") == 1)
        await students[2].events.wait("queue", lambda d: d.get("position") == 2)
        before = await rows(settings.database_url)

        # A dies mid-wait, without any chance to clean up
        c.procs[0].send_signal(signal.SIGKILL)
        assert await c.procs[0].wait() == -signal.SIGKILL
        for sock in students[1:]:
            await sock.sio.disconnect()  # the client side of the dead sockets
        # the waiters come back through nginx, which can only reach B now
        back = [await on(c.base, cookie, ssl_verify=False) for cookie in cookies[1:]]
        for sock, ticket, place in zip(back, tickets[1:], (1, 2)):
            seen = await sock.events.wait("queue", lambda d, t=ticket: d["ticket_id"] == t)
            assert (seen["status"], seen.get("position")) == ("waiting", place)
        booth = await emp.events.wait("booth", lambda d: [w["ticket_id"] for w in d["waiting"]]
                                      == tickets[1:] and all(w["connected"] for w in d["waiting"]))
        # and the next call from B reaches the student now on B
        assert (await emp.call("call_next", {"session_id": hall["session_id"]}))[
            "ticket_id"] == tickets[1]
        await back[0].events.wait("called", lambda d: d["ticket_id"] == tickets[1])
        assert (await back[0].call("answer", {"ticket_id": tickets[1]}))["ok"]
        await emp.events.wait("call_started", lambda d: d["ticket_id"] == tickets[1])
        after = await rows(settings.database_url)

    # nothing lost or doubled: the same tickets (one per student), mails and audit rows,
    # plus only what the second call itself wrote
    assert [t.id for t in after["tickets"]] == tickets
    assert [t.status for t in before["tickets"]] == ["done", "waiting", "waiting"]
    assert [t.status for t in after["tickets"]] == ["done", "in_call", "waiting"]
    assert after["mails"][:len(before["mails"])] == before["mails"]
    assert len(set(after["mails"])) == len(after["mails"])
    assert after["audit"][:len(before["audit"])] == before["audit"]


async def test_a_call_between_a_student_and_an_employer_on_different_processes(
        tmp_path, settings, clock, world, sockets):
    """The student on A answers; the employer on B is put in the call's room on B, the
    signaling crosses both ways and two aiortc peers exchange video through it."""
    hall = await build_hall(world, settings, clock, students=1)
    async with cluster(tmp_path, settings) as c:
        student = await connect(c.direct(0), await login(c.base, "student",
                                                         hall["students"][0].email))
        emp = await connect(c.direct(1), await login(c.base, "employer", "employer"))
        sockets.extend([student, emp])
        assert (await emp.call("watch", {"session_id": hall["session_id"]}))["ok"]
        ticket = (await student.call("join", {"interview_id": hall["interview_ids"][0]}))[
            "ticket_id"]
        assert (await emp.call("call_next", {"session_id": hall["session_id"]}))[
            "ticket_id"] == ticket
        await student.events.wait("called")
        assert (await student.call("answer", {"ticket_id": ticket}))["ok"]
        await emp.events.wait("call_started", lambda d: d["ticket_id"] == ticket)
        # real media: two aiortc peers whose offer and answer cross the processes
        sizes = await exchange_media(emp, student, ticket)
        assert len(sizes) == 10 and all(w > 0 and h > 0 for w, h in sizes), sizes
        assert (await emp.call("finish", {"ticket_id": ticket, "outcome": "待定"}))["ok"]
        await student.events.wait("call_ended")
