"""The limiter counts across a window boundary (a sliding estimate, not a reset), and a
slot is taken atomically: concurrent takers never get more than the limit."""

import asyncio
import datetime as dt

import sqlalchemy as sa

from app.clock import ManualClock
from app.db import Database
from app.ratelimit import Limit, RateLimiter
from app.tables import rate_hits


async def test_limit_holds_across_the_window_boundary(database_url):
    db = Database(database_url)
    clock = ManualClock(dt.datetime(2026, 6, 1, 9, 59, 30, tzinfo=dt.timezone.utc))
    limiter = RateLimiter(db, clock)
    rule = Limit(5, 3600)
    for _ in range(5):
        assert await limiter.take(rule, "k")
    assert await limiter.take(rule, "k") is None
    clock.advance(seconds=60)  # 10:00:30, a new fixed window
    assert await limiter.take(rule, "k") is None  # a plain fixed window would let 5 more through
    clock.advance(minutes=50)  # most of the old window has slid out of the last hour
    assert await limiter.take(rule, "k")
    assert await limiter.take(rule, "other")
    clock.advance(hours=2)
    assert await limiter.take(rule, "k")
    await db.dispose()


async def test_concurrent_takers_get_exactly_the_limit_and_all_keys_or_none(database_url):
    db = Database(database_url)
    clock = ManualClock(dt.datetime(2026, 6, 1, 9, 0, 0, tzinfo=dt.timezone.utc))
    limiter = RateLimiter(db, clock)
    rule = Limit(10, 900)
    slots = await asyncio.gather(*(limiter.take(rule, "ip", f"acct{i % 2}") for i in range(40)))
    assert sum(1 for s in slots if s) == 10
    async with db.read() as conn:
        counts = dict((await conn.execute(sa.select(rate_hits.c.key, rate_hits.c.count))).all())
    # the refused takes left no count behind under the keys that still had room
    assert counts["ip"] == 10 and counts["acct0"] + counts["acct1"] == 10
    # a slot given back is free again
    await limiter.give_back(next(s for s in slots if s))
    assert await limiter.take(rule, "ip")
    assert await limiter.take(rule, "ip") is None
    await db.dispose()
