"""A process killed outright (kill -9) leaves no ghost waiter: two app instances on one
database, the first stops extending its lease without any cleanup, and the second's sweeper
releases its tickets once the lease and the waiter grace have run out; call_next never calls
the ghost meanwhile."""

import asyncio
import contextlib
import datetime as dt

import sqlalchemy as sa

from app.db import Database
from app.tables import hall_processes, hall_tickets
from rtc.setup import HALL, SWEEPER, sweep_once
from tests.conftest import FormClient
from tests.factories import PASSWORD
from tests.hall_kit import build_hall, connect, cookie_of


async def kill(app) -> None:  # noqa: ANN001
    """What kill -9 leaves behind: no more lease refreshes, no shutdown, no disconnects."""
    task = app[SWEEPER]
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def ticket_row(db, ticket_id):  # noqa: ANN001, ANN201
    async with db.read() as conn:
        return (await conn.execute(sa.select(hall_tickets).where(hall_tickets.c.id == ticket_id))).one()


async def test_a_killed_process_leaves_no_ghost_waiter(world, settings, clock, aiohttp_client, sockets):
    data = await build_hall(world, settings, clock)
    from app.web import create_app
    first = FormClient(await aiohttp_client(create_app(settings, clock=clock)))
    second = FormClient(await aiohttp_client(create_app(settings, clock=clock)))
    for c, who in ((first, data["students"][0].email), (second, data["students"][1].email)):
        await c.login("student", who, PASSWORD)
    employer = await _employer_on(second, aiohttp_client)  # another browser, second process
    base1, base2 = str(first.client.make_url("/")), str(second.client.make_url("/"))
    ghost = await connect(base1, cookie_of(first))          # s0's socket is in the first process
    alive = await connect(base2, cookie_of(second))         # s1's in the second
    emp = await connect(base2, cookie_of(employer), namespace="/hall")
    sockets.extend([ghost, alive, emp])
    t0 = (await ghost.call("join", {"interview_id": data["interview_ids"][0]}))["ticket_id"]
    t1 = (await alive.call("join", {"interview_id": data["interview_ids"][1]}))["ticket_id"]
    assert (await emp.call("watch", {"session_id": data["session_id"]}))["ok"]
    db = Database(settings.database_url)
    try:
        row = await ticket_row(db, t0)
        assert row.connected and row.process_id == first.app[HALL].process_id
        await kill(first.app)
        async with db.read() as conn:
            lease_until = (await conn.execute(sa.select(hall_processes.c.lease_until).where(
                hall_processes.c.id == first.app[HALL].process_id))).scalar_one()
        # within the lease the ticket is still held
        await sweep_once(second.app)
        assert (await ticket_row(db, t0)).connected
        # the lease runs out: s0 counts as gone since then, not since now
        lease = dt.timedelta(seconds=settings.hall_process_lease_seconds)
        clock.advance(seconds=lease.total_seconds() + 1)
        await sweep_once(second.app)
        row = await ticket_row(db, t0)
        assert (row.connected, row.status, row.last_seen_at) == (False, "waiting", lease_until)
        # s0 has the earlier slot and is still within the grace, but is not called: s1 is
        called = await emp.call("call_next", {"session_id": data["session_id"]})
        assert called == {"ok": True, "ticket_id": t1}
        await alive.events.wait("called", lambda d: d["ticket_id"] == t1)
        assert not [e for e, _ in ghost.events.seen if e == "called"]
        await alive.call("answer", {"ticket_id": t1})
        assert (await emp.call("finish", {"ticket_id": t1, "outcome": "通过"}))["ok"]
        # the grace runs out, counted from the lease's end: the sweeper lets s0 go
        clock.advance(seconds=settings.hall_waiter_grace_seconds)
        await sweep_once(second.app)
        assert (await ticket_row(db, t0)).status == "left"
        assert await emp.call("call_next", {"session_id": data["session_id"]}) == \
            {"ok": True, "ticket_id": None}
        async with db.read() as conn:
            processes = set((await conn.execute(sa.select(hall_processes.c.id))).scalars())
        assert processes == {second.app[HALL].process_id}  # the dead one's row is gone
    finally:
        await db.dispose()


async def _employer_on(second, aiohttp_client):  # noqa: ANN001, ANN202
    c = FormClient(await aiohttp_client(second.client.server))
    await c.login("employer", "employer", PASSWORD)
    return c


async def test_a_quiet_second_writes_nothing_and_the_lease_is_renewed_in_time(
        world, settings, clock, aiohttp_client):
    """The sweep runs every second but renews the lease (and the watchers' presence) every
    fifth of the lease: a second with nothing due writes nothing, so no call waits behind it."""
    from app.state import DB
    from app.web import create_app
    app = (await aiohttp_client(create_app(settings, clock=clock))).app
    await sweep_once(app)
    written: list[str] = []

    def on_execute(_conn, clause, *_args):  # noqa: ANN001
        # the hall's tables only: the outboxes' workers poll theirs meanwhile
        if isinstance(clause, sa.sql.dml.UpdateBase) and clause.table.name.startswith("hall_"):
            written.append(clause.table.name)
    sa.event.listen(app[DB].engine.sync_engine, "before_execute", on_execute)
    try:
        clock.advance(seconds=settings.hall_process_lease_seconds / 5 - 1)
        await sweep_once(app)
        assert written == []
        clock.advance(seconds=1)
        await sweep_once(app)
        assert "hall_processes" in written
    finally:
        sa.event.remove(app[DB].engine.sync_engine, "before_execute", on_execute)
