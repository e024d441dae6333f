"""Leases of server processes on the hall tickets of their sockets.

A ticket's `connected` is written by the process holding the student's socket, and cleared
by the same process when the socket goes. A process killed outright (kill -9, a crash, a
lost machine) clears nothing: its tickets would say "connected" for ever, and the employer
would call students who are not there. So each process keeps a row in hall_processes whose
lease its sweeper extends every second, and each ticket notes the process that holds its
connection. Any process's sweeper finds tickets held by a process whose lease ran out (or by
none it knows) and marks them disconnected since the lease ran out: the waiter grace time
then applies as to any dropped connection, and the sweeper lets them go.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from app.tables import hall_processes, hall_tickets

from .tickets import OPEN_STATES, same_or_null


async def start(conn: AsyncConnection, process_id: str, now: dt.datetime,
                lease: dt.timedelta) -> None:
    await conn.execute(hall_processes.insert().values(id=process_id, started_at=now,
                                                      lease_until=now + lease))


async def refresh(conn: AsyncConnection, process_id: str, now: dt.datetime, lease: dt.timedelta,
                  students: Iterable[int]) -> None:
    """Extend this process's lease. When it was lost meanwhile (the process stalled longer
    than the lease and another released its tickets), take the row and this process's
    students' tickets back."""
    p = hall_processes
    done = await conn.execute(p.update().where(p.c.id == process_id, p.c.lease_until >= now)
                              .values(lease_until=now + lease))
    if done.rowcount == 1:
        return
    await conn.execute(p.delete().where(p.c.id == process_id))
    await start(conn, process_id, now, lease)
    accounts = sorted(set(students))
    if accounts:
        t = hall_tickets
        await conn.execute(t.update().where(t.c.account_id.in_(accounts),
                                            t.c.status.in_(OPEN_STATES))
                           .values(connected=True, last_seen_at=now, process_id=process_id))


@dataclass(frozen=True)
class Dead:
    """Tickets held by processes whose lease ran out, read outside the write lock."""
    leases: dict[str, dt.datetime]  # every process's lease
    tickets: list[sa.Row]           # id, session_id, process_id


async def find_dead(conn: AsyncConnection, now: dt.datetime, own: str) -> Dead:
    """`own`: this process, alive whatever its row says: the same write that releases the
    dead's tickets extends its lease first (refresh)."""
    p, t = hall_processes, hall_tickets
    leases = dict((await conn.execute(sa.select(p.c.id, p.c.lease_until))).all())
    leases.pop(own, None)
    alive = {pid for pid, until in leases.items() if until >= now} | {own}
    rows = list(await conn.execute(sa.select(t.c.id, t.c.session_id, t.c.process_id).where(
        t.c.connected.is_(True), t.c.status.in_(OPEN_STATES),
        sa.or_(t.c.process_id.is_(None), t.c.process_id.not_in(alive) if alive else sa.true()))))
    return Dead(leases, rows)


async def release_dead(conn: AsyncConnection, dead: Dead, now: dt.datetime) -> set[int]:
    """The dead processes' tickets become disconnected since their lease ran out, and their
    rows go. Returns the sessions whose tickets changed."""
    p, t = hall_processes, hall_tickets
    changed = set()
    for r in dead.tickets:
        # conditional on the same holder: a live process may have taken the ticket back
        # (the student reconnected there) since the select
        done = await conn.execute(t.update().where(t.c.id == r.id, t.c.connected.is_(True),
                                                   same_or_null(t.c.process_id, r.process_id))
                                  .values(connected=False,
                                          last_seen_at=dead.leases.get(r.process_id) or now))
        if done.rowcount:
            changed.add(r.session_id)
    gone = [pid for pid, until in dead.leases.items() if until < now]
    if gone:
        await conn.execute(p.delete().where(p.c.id.in_(gone), p.c.lease_until < now))
    return changed


async def stop(conn: AsyncConnection, process_id: str, now: dt.datetime) -> None:
    """A clean shutdown: the lease ends now, so this process's tickets are released at the
    next sweep of any other process (or of the next start) instead of after the lease."""
    await conn.execute(hall_processes.update().where(hall_processes.c.id == process_id)
                       .values(lease_until=now))
