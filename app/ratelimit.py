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

    def _window(self, rule: Limit) -> dt.datetime:
        now = self.clock.now().timestamp()
        return dt.datetime.fromtimestamp(now - now % rule.window_seconds, dt.timezone.utc)

    async def blocked(self, rule: Limit, *keys: str) -> bool:
        """True when any key has used up its allowance in the current window."""
        async with self.db.read() as conn:
            counts = (await conn.execute(
                sa.select(rate_hits.c.count).where(
                    rate_hits.c.key.in_(keys), rate_hits.c.window_start == self._window(rule))
            )).scalars().all()
        return any(c >= rule.limit for c in counts)

    async def hit(self, rule: Limit, *keys: str) -> None:
        window = self._window(rule)
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
