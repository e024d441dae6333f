"""One call at a time across two processes with Redis: the answer/call race.

nginx and two `python -m app serve` processes on the test database (PostgreSQL, or the
SQLite file both share) and Redis. Each socket connects straight to the process chosen for
it (Cluster.direct), so every step says where it runs:

    process 0: booth A's employer, the first student's page of booth A, the second
               student's page of booth B
    process 1: booth B's employer, the first student's page of booth B

The first student holds places at A and B (first in both lines); the second student waits
at B behind them. Each round: A calls the first student; then at the same moment the
student answers A (process 0) and B presses 叫号 (process 1). B never calls the first
student: it passes over them (place kept, told so) and calls the second one; the answer
at A goes through; at no moment does the database hold two calls of one student, and
nobody is marked 未到. B's room (process 1) sees the first student 正在其他单位面试 once A
calls and free again once A's interview ends: re-broadcasts of B made by process 0 (after
A's changes), which the test also reads on the Redis channel itself.

Between rounds the calls end as employers end them (finish with an outcome); then the
three tickets and invitations are put back as they were before the first round by SQL (a
fixture step: the same places are raced again).

The processes use the real clock: the slots start a minute from now and nothing waits for
time to pass; events are awaited (tests/hall_kit.Events), never slept for.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import uuid
from typing import Any, AsyncIterator, Callable

import pytest
import redis.asyncio as aioredis
import sqlalchemy as sa

from app.db import Database
from app.tables import hall_tickets, interviews
from tests.booths_kit import build_booths
from tests.cluster_kit import HAVE_NGINX, NGINX, cluster
from tests.hall_kit import Events, HallClient, connect, login_cookie

pytestmark = pytest.mark.skipif(
    not HAVE_NGINX, reason=f"nginx missing (looked for {NGINX}): `make test` installs it")

ROUNDS = 8
OUTCOMES = ("通过", "待定", "不通过")
REDIS = "redis://127.0.0.1:6379/0"


@contextlib.asynccontextmanager
async def channel_log(channel: str) -> AsyncIterator[Events]:
    """Every message the processes publish on their socket.io channel, by method (emit,
    emit_batch, merge_room …). Subscribed (and confirmed) before anything is published."""
    client = aioredis.from_url(REDIS)
    pubsub = client.pubsub()
    await pubsub.subscribe(channel)
    while (await pubsub.get_message(timeout=10)) is None:  # the subscription's confirmation
        pass
    log = Events()

    async def read() -> None:
        async for message in pubsub.listen():
            if message["type"] == "message":
                data = json.loads(message["data"])
                await log.add(data.get("method"), data)
    reader = asyncio.create_task(read())
    try:
        yield log
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await pubsub.aclose()
        await client.aclose()


async def ticket_states(db: Database) -> dict[int, str]:
    """Every ticket's state, after checking the rule in the database itself: no student
    with two places called or in a call, no place marked 未到."""
    async with db.read() as conn:
        rows = (await conn.execute(sa.select(hall_tickets.c.id, hall_tickets.c.account_id,
                                             hall_tickets.c.status))).all()
    calls = collections.Counter(r.account_id for r in rows if r.status in ("called", "in_call"))
    assert all(n == 1 for n in calls.values()), f"a student with two calls at once: {rows}"
    assert not [r for r in rows if r.status == "no_show"], f"a place marked 未到: {rows}"
    return {r.id: r.status for r in rows}


def shows(ticket_id: int, busy: bool) -> Callable[[dict[str, Any]], bool]:
    """A booth view in which the ticket waits, its student shown busy (or free) elsewhere."""
    return lambda view: any(w["ticket_id"] == ticket_id and w["busy_elsewhere"] is busy
                            for w in view["waiting"])


def batch_of(host: str, session_id: int, view: Callable[[dict[str, Any]], bool],
             after: int = 0) -> Callable[[dict[str, Any]], bool]:
    """A booth's batch published by process `host`, stamped after `after`, whose employers'
    view passes `view`."""
    return lambda m: (m["host_id"] == host and m["key"] == f"booth:{session_id}"
                      and m["stamp"] > after
                      and any(event == "booth" and view(data)
                              for event, _room, data, _tag in m["items"]))


async def test_answer_and_a_call_elsewhere_race_across_two_processes(tmp_path, settings, clock,
                                                                     world, sockets):
    d = await build_booths(world, settings, clock, booths=2, students=2)
    name = f"test-booths-{uuid.uuid4().hex[:10]}"
    db = Database(settings.database_url)
    try:
        async with channel_log(name) as channel, \
                cluster(tmp_path, settings, REDIS_URL=f"{REDIS}?channel={name}") as c:
            try:
                await race_rounds(c, d, db, channel, sockets)
            finally:
                # the pages close before the processes are stopped: an app process with
                # open sockets is not done within cluster_kit's 20 s and gets killed
                for client in sockets:
                    if client.sio.connected:
                        await client.sio.disconnect()
            # neither process logged a failure (a booth build, the sweep, an event)
            for i in (0, 1):
                log = (tmp_path / f"app{i}.log").read_text()
                assert "Traceback" not in log, f"process {i}:\n{log[-5000:]}"
    finally:
        await db.dispose()


async def race_rounds(c, d, db: Database, channel: Events, sockets: list) -> None:  # noqa: ANN001
    a, b = d.booths
    first, second = d.students

    async def on(process: int, cookie: str, booth: int | None = None) -> HallClient:
        auth = {"session_id": d.booths[booth].session_id} if booth is not None else None
        client = await connect(c.direct(process), cookie, auth=auth)
        sockets.append(client)
        return client

    first_cookie = await login_cookie(c.base, "student", first.email)
    second_cookie = await login_cookie(c.base, "student", second.email)
    emp_a = await on(0, await login_cookie(c.base, "employer", a.username))
    emp_b = await on(1, await login_cookie(c.base, "employer", b.username))
    first_at_a = await on(0, first_cookie, booth=0)
    first_at_b = await on(1, first_cookie, booth=1)
    second_at_b = await on(0, second_cookie, booth=1)
    everyone = (emp_a, emp_b, first_at_a, first_at_b, second_at_b)
    for emp, booth in ((emp_a, a), (emp_b, b)):
        assert (await emp.call("watch", {"session_id": booth.session_id}))["ok"]
    joined = []
    for page, interview_id in ((first_at_a, d.interview(0, 0)), (first_at_b, d.interview(1, 0)),
                               (second_at_b, d.interview(1, 1))):
        ack = await page.call("join", {"interview_id": interview_id})
        assert ack["ok"], ack
        joined.append(ack["ticket_id"])
    t_a, t_b, u_b = joined
    # B's line, joined on both processes: the first student ahead of the second
    await emp_b.events.wait("booth", lambda v: [w["ticket_id"] for w in v["waiting"]] == [t_b, u_b])
    waiting = {t_a: "waiting", t_b: "waiting", u_b: "waiting"}
    assert await ticket_states(db) == waiting
    async with db.read() as conn:  # the invitations as they are now, put back between rounds
        invited = (await conn.execute(sa.select(
            interviews.c.id, interviews.c.status, interviews.c.outcome,
            interviews.c.outcome_released, interviews.c.employer_notes, interviews.c.updated_at)
            .where(interviews.c.id.in_([d.interview(0, 0), d.interview(1, 0),
                                        d.interview(1, 1)])))).all()
    process_0 = None  # process 0's host id on the channel, from the first round's call

    for n in range(ROUNDS):
        for events in (*(client.events for client in everyone), channel):
            events.clear()
        # A calls the first student (process 0); both their pages hear it, B's page on
        # process 1 through Redis
        assert await emp_a.call("call_next", {"session_id": a.session_id}) == \
            {"ok": True, "ticket_id": t_a}, n
        for page in (first_at_a, first_at_b):
            await page.events.wait("called", lambda e: e["ticket_id"] == t_a)
        if process_0 is None:
            process_0 = (await channel.wait("emit", lambda m: m["event"] == "called"
                                            and m["data"][0]["ticket_id"] == t_a))["host_id"]
        # B's room shows them 正在其他单位面试: process 0, having sent A's change, sends B
        # again (the batch on the channel), and B's employer on process 1 gets it
        busy = await channel.wait("emit_batch", batch_of(process_0, b.session_id, shows(t_b, True)))
        await emp_b.events.wait("booth", shows(t_b, True))
        assert await ticket_states(db) == {**waiting, t_a: "called"}

        # the race: the answer at A on process 0 and B's 叫号 on process 1 at once (started
        # in either order, by turns)
        answering = first_at_a.call("answer", {"ticket_id": t_a})
        calling = emp_b.call("call_next", {"session_id": b.session_id})
        if n % 2 == 0:
            answered, called = await asyncio.gather(answering, calling)
        else:
            called, answered = await asyncio.gather(calling, answering)
        assert answered == {"ok": True, "ticket_id": t_a}, (n, answered, called)
        # B passes over the first student (never calls their ticket) and calls the second
        assert called == {"ok": True, "ticket_id": u_b, "passed_over": 1}, (n, called)
        assert await ticket_states(db) == {t_a: "in_call", t_b: "waiting", u_b: "called"}
        # the first student, on A's page (process 0), is told by process 1 that B passed
        # them over and keeps the place
        told = await first_at_a.events.wait("passed_over")
        assert (told["session_id"], told["ticket_id"], told["employer"]) == \
            (b.session_id, t_b, b.name)
        passing = await channel.wait("emit", lambda m: m["event"] == "passed_over")
        assert passing["host_id"] != process_0  # two processes indeed
        await emp_a.events.wait("call_started", lambda e: e["ticket_id"] == t_a)

        # the second student (process 0) hears B's call (process 1) and answers it; B's
        # employer joins that call through Redis
        await second_at_b.events.wait("called", lambda e: e["ticket_id"] == u_b)
        assert await second_at_b.call("answer", {"ticket_id": u_b}) == \
            {"ok": True, "ticket_id": u_b}
        await emp_b.events.wait("call_started", lambda e: e["ticket_id"] == u_b)
        view = await emp_b.events.wait("booth", lambda v: v["current"] is not None
                                       and v["current"]["status"] == "in_call")
        assert view["current"]["ticket_id"] == u_b
        assert [(w["ticket_id"], w["busy_elsewhere"]) for w in view["waiting"]] == [(t_b, True)]
        assert await ticket_states(db) == {t_a: "in_call", t_b: "waiting", u_b: "in_call"}

        # A's interview ends (process 0): process 0 sends B again, stamped after the busy
        # view (so loaded after the end), and B's employer on process 1 sees the student free
        emp_b.events.clear()
        assert await emp_a.call("finish", {"ticket_id": t_a,
                                           "outcome": OUTCOMES[n % 3]}) == {"ok": True}
        await channel.wait("emit_batch", batch_of(process_0, b.session_id, shows(t_b, False),
                                                  after=busy["stamp"]))
        view = await emp_b.events.wait("booth", shows(t_b, False))
        assert view["current"]["ticket_id"] == u_b
        await first_at_a.events.wait("call_ended", lambda e: e["ticket_id"] == t_a)
        assert await emp_b.call("finish", {"ticket_id": u_b, "outcome": "通过"}) == {"ok": True}
        assert await ticket_states(db) == {t_a: "done", t_b: "waiting", u_b: "done"}

        # the fixture step: the same places and invitations as before the first round
        async with db.write() as conn:
            await conn.execute(hall_tickets.update().where(hall_tickets.c.id.in_(list(waiting)))
                               .values(status="waiting", called_at=None, call_started_at=None,
                                       finished_at=None))
            for iv in invited:
                await conn.execute(interviews.update().where(interviews.c.id == iv.id).values(
                    **{k: v for k, v in iv._mapping.items() if k != "id"}))
        assert await ticket_states(db) == waiting
