"""The limiter counts across a window boundary (a sliding estimate, not a reset)."""

import datetime as dt

from app.clock import ManualClock
from app.db import Database
from app.ratelimit import Limit, RateLimiter


async def test_limit_holds_across_the_window_boundary(database_url):
    db = Database(database_url)
    clock = ManualClock(dt.datetime(2026, 6, 1, 9, 59, 30, tzinfo=dt.timezone.utc))
    limiter = RateLimiter(db, clock)
    rule = Limit(5, 3600)
    for _ in range(5):
        assert not await limiter.blocked(rule, "k")
        await limiter.hit(rule, "k")
    assert await limiter.blocked(rule, "k")
    clock.advance(seconds=60)  # 10:00:30, a new fixed window
    assert await limiter.blocked(rule, "k")  # a plain fixed window would let 5 more through
    clock.advance(minutes=50)  # most of the old window has slid out of the last hour
    assert not await limiter.blocked(rule, "k")
    assert not await limiter.blocked(rule, "other")
    clock.advance(hours=2)
    assert not await limiter.blocked(rule, "k")
    await db.dispose()
