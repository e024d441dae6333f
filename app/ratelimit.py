"""Fixed-window counters in the database, so limits hold across processes and restarts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from .clock import Clock
from .db import Database
from .tables import rate_hits


@dataclass(frozen=True)
class Limit:
    limit: int
    window_seconds: int


class RateLimiter:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def _window(self, rule: Limit) -> tuple[dt.datetime, float]:
        """Start of the current window, and how far into it we are (0..1)."""
        now = self.clock.now().timestamp()
        start = now - now % rule.window_seconds
        return dt.datetime.fromtimestamp(start, dt.timezone.utc), (now - start) / rule.window_seconds

    async def blocked(self, rule: Limit, *keys: str) -> bool:
        """True when any key has used up its allowance.

        A sliding-window estimate: this window's count plus the previous window's count
        weighted by how much of it still overlaps the last `window_seconds`. Plain fixed
        windows would let twice the limit through around a window boundary.
        """
        current, elapsed = self._window(rule)
        previous = current - dt.timedelta(seconds=rule.window_seconds)
        async with self.db.read() as conn:
            rows = await conn.execute(
                sa.select(rate_hits.c.key, rate_hits.c.window_start, rate_hits.c.count).where(
                    rate_hits.c.key.in_(keys), rate_hits.c.window_start.in_([current, previous])))
        totals: dict[str, float] = {}
        for key, start, count in rows:
            weight = 1.0 if start == current else 1.0 - elapsed
            totals[key] = totals.get(key, 0.0) + count * weight
        # Blocked until the estimate leaves room for one whole attempt more.
        return any(total > rule.limit - 1 for total in totals.values())

    async def hit(self, rule: Limit, *keys: str) -> None:
        window, _ = self._window(rule)
        insert = sqlite.insert if self.db.is_sqlite else postgresql.insert
        async with self.db.write() as conn:
            for key in keys:
                stmt = insert(rate_hits).values(key=key, window_start=window, count=1)
                await conn.execute(stmt.on_conflict_do_update(
                    index_elements=[rate_hits.c.key, rate_hits.c.window_start],
                    set_={"count": rate_hits.c.count + 1}))
            # Old windows are useless; drop them now and then to keep the table small.
            await conn.execute(rate_hits.delete().where(
                rate_hits.c.window_start < window - dt.timedelta(days=1)))
