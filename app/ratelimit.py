"""Sliding-window counters in the database, so limits hold across processes and restarts.

A caller takes a slot BEFORE doing the work the limit protects (checking a password, a
code, looking an account up), with one conditional upsert per key: the count goes up only
while it is under the limit, so forty concurrent attempts against a limit of ten get ten
slots, on SQLite and on PostgreSQL alike. Reading the count and then adding to it later
would let every concurrent attempt through the read.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Mapping

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .clock import Clock
from .db import Database, dialect_insert
from .tables import rate_hits


@dataclass(frozen=True)
class Limit:
    limit: int
    window_seconds: int


@dataclass(frozen=True)
class Slot:
    """What `take` counted, so that `give_back` returns it to the same window."""
    keys: tuple[str, ...]
    window_start: dt.datetime


class _NoRoom(Exception):
    """Raised inside the transaction to roll back the slots already taken under other keys."""


def _window(moment: dt.datetime, window_seconds: int) -> tuple[dt.datetime, float]:
    """Start of the current window, and how far into it we are (0..1)."""
    now = moment.timestamp()
    start = now - now % window_seconds
    return dt.datetime.fromtimestamp(start, dt.timezone.utc), (now - start) / window_seconds


async def _count(conn: AsyncConnection, now: dt.datetime, window_seconds: int,
                 limits: Mapping[str, int]) -> bool:
    """Count one attempt under every key (raises _NoRoom when a key is used up, having
    counted some: the transaction must then roll back). True when a key opened a window."""
    current, elapsed = _window(now, window_seconds)
    previous = current - dt.timedelta(seconds=window_seconds)
    ordered = tuple(sorted(limits))  # one lock order: two takers never deadlock
    opened_a_window = False
    before = dict((await conn.execute(
        sa.select(rate_hits.c.key, rate_hits.c.count).where(
            rate_hits.c.key.in_(ordered), rate_hits.c.window_start == previous))).all())
    for key in ordered:
        room = math.floor(limits[key] - before.get(key, 0) * (1.0 - elapsed) + 1e-9)
        if room < 1:
            raise _NoRoom
        stmt = dialect_insert(conn, rate_hits).values(key=key, window_start=current, count=1)
        taken = (await conn.execute(stmt.on_conflict_do_update(
            index_elements=[rate_hits.c.key, rate_hits.c.window_start],
            set_={"count": rate_hits.c.count + 1},
            where=rate_hits.c.count < room).returning(rate_hits.c.count))).first()
        if taken is None:
            raise _NoRoom
        opened_a_window |= taken.count == 1
    return opened_a_window


async def take_in(conn: AsyncConnection, now: dt.datetime, window_seconds: int,
                  limits: Mapping[str, int]) -> bool:
    """`RateLimiter.take_each` inside the caller's write transaction, for a limit that
    depends on what the transaction read (the address a mail goes to). On False the caller
    must not commit: raise, and the counts roll back with its work."""
    try:
        await _count(conn, now, window_seconds, limits)
    except _NoRoom:
        return False
    return True


class RateLimiter:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def take(self, rule: Limit, *keys: str) -> Slot | None:
        """Count one attempt under every key, or under none; None when any key is used up."""
        return await self.take_each(rule.window_seconds, {key: rule.limit for key in keys})

    async def take_each(self, window_seconds: int, limits: Mapping[str, int]) -> Slot | None:
        """Like `take`, with a limit of its own per key (one window): an address behind a
        campus NAT or a proxy carries many students, so it gets a larger allowance than
        one account does.

        A sliding-window estimate: this window's count plus the previous window's count
        weighted by how much of it still overlaps the last `window_seconds`. Plain fixed
        windows would let twice the limit through around a window boundary. The previous
        window no longer grows, so its share is read first and the current window's count
        is raised only while it stays under what is left.
        """
        now = self.clock.now()
        current, _ = _window(now, window_seconds)
        try:
            async with self.db.write() as conn:
                opened_a_window = await _count(conn, now, window_seconds, limits)
        except _NoRoom:
            return None
        if opened_a_window:
            # Old windows are useless; drop them when a key starts a new one, in a
            # transaction of its own so that the slots' row locks are not held meanwhile.
            async with self.db.write() as conn:
                await conn.execute(rate_hits.delete().where(
                    rate_hits.c.window_start < current - dt.timedelta(days=1)))
        return Slot(tuple(sorted(limits)), current)

    async def give_back(self, *slots: Slot) -> None:
        """Return slots whose attempt turned out not to count (a right password)."""
        async with self.db.write() as conn:
            await self.give_back_in(conn, *slots)

    @staticmethod
    async def give_back_in(conn: AsyncConnection, *slots: Slot) -> None:
        """give_back inside the caller's write transaction (a login's, which writes its
        session anyway: one write fewer per login, on SQLite's single writer)."""
        for slot in slots:
            await conn.execute(rate_hits.update().where(
                rate_hits.c.key.in_(slot.keys), rate_hits.c.window_start == slot.window_start,
                rate_hits.c.count > 0).values(count=rate_hits.c.count - 1))
