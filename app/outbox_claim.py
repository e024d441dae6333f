"""What every outbox worker shares: claiming due rows, and the wait before the next try.

An outbox table has id, status ("pending" until done), next_attempt_at and claimed_until.
A worker claims due rows with a conditional UPDATE … RETURNING, so several processes can
work one table without two of them taking the same row; a worker that dies holding a claim
loses it when claimed_until passes. The mail outbox (app/notify/outbox.py) and the SMS
outbox (app/sms/outbox.py) both use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection


def backoff_seconds(attempts: int, ceiling: float) -> float:
    """Wait before try number attempts+1: 10 s, 20 s, 40 s … up to the ceiling."""
    return min(ceiling, 10.0 * 2 ** max(0, attempts - 1))


async def claim_due(conn: AsyncConnection, table: sa.Table, now: dt.datetime, *,
                    claim_seconds: float, limit: int) -> list[sa.Row]:
    """Claim up to `limit` pending rows that are due, by priority where the table has one
    (lower first), then oldest first; returns the claimed rows."""
    t = table
    free = sa.or_(t.c.claimed_until.is_(None), t.c.claimed_until < now)
    first = (t.c.priority,) if "priority" in t.c else ()
    due = (await conn.execute(
        sa.select(t.c.id).where(t.c.status == "pending", t.c.next_attempt_at <= now, free)
        .order_by(*first, t.c.next_attempt_at, t.c.id).limit(limit))).scalars().all()
    if not due:
        return []
    # Re-checked in the UPDATE: on PostgreSQL another worker may have claimed some of these
    # since the SELECT; RETURNING gives exactly the rows this one won.
    claimed = await conn.execute(
        t.update().where(t.c.id.in_(due), t.c.status == "pending", free)
        .values(claimed_until=now + dt.timedelta(seconds=claim_seconds))
        .returning(*t.c))
    place = {row_id: i for i, row_id in enumerate(due)}
    return sorted(claimed, key=lambda r: place[r.id])  # in the order they were due


STOP_GRACE_SECONDS = 5.0


class Stoppable(Protocol):
    def stop(self) -> None: ...


async def wind_down(worker: Stoppable, task: asyncio.Task, grace: float = STOP_GRACE_SECONDS) -> None:
    """Shutdown: let the worker finish the batch in hand (each row's outcome is a database
    write that a cancel would cut in the middle, leaving a connection mid-transaction while
    the engine is disposed), and cancel it only when it is still busy after the grace."""
    worker.stop()
    done, _ = await asyncio.wait([task], timeout=grace)
    if not done:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
