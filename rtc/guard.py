"""Per-connection and per-account limits on socket.io events (rtc/namespace.py applies them
to every event of /hall and /monitor).

- A token bucket per connection (HALL_EVENT_RATE, HALL_EVENT_BURST): a client that sends
  faster than any page does is refused at once, before its event costs any I/O.
- At most HALL_EVENTS_IN_FLIGHT events of one connection handled at once: python-socketio
  runs each event as its own task, so without this a burst becomes thousands of tasks
  queued on the database pool.
- A connection refused HALL_FLOOD_REFUSALS times within FLOOD_WINDOW_SECONDS is a flood
  and is disconnected.
- One semaphore per account (HALL_ACCOUNT_CONCURRENCY) around the handlers: an account's
  events (over all its sockets in this process) hold at most that many database
  connections, so one student's flood waits on itself, not on everyone.

Time here is the event loop's monotonic clock, not the app clock: these are rates of
real traffic, and a test's manual clock must not refill a bucket.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import AsyncIterator

from app.config import Settings

FLOOD_WINDOW_SECONDS = 10.0
TOO_FAST = "操作过于频繁，请稍后再试"
TOO_MANY = "上一个操作还在处理中，请稍后再试"


@dataclass
class TokenBucket:
    rate: float          # tokens added per second
    burst: float         # most tokens held
    tokens: float
    stamp: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@dataclass
class Connection:
    account_id: int
    session_hash: str
    bucket: TokenBucket
    in_flight: int = 0
    refusals: int = 0
    window_start: float = 0.0
    session_checked: float = 0.0  # when its login session was last found alive
    flooding: bool = False


@dataclass(frozen=True)
class Refusal:
    message: str
    disconnect: bool     # this refusal made the connection a flood


@dataclass
class _AccountSlot:
    semaphore: asyncio.Semaphore
    sockets: int = 0


@dataclass
class EventGuard:
    """The limits of one namespace in one process."""
    rate: float
    burst: int
    in_flight: int
    flood_refusals: int
    account_concurrency: int
    session_check_seconds: float
    connections: dict[str, Connection] = field(default_factory=dict)
    accounts: dict[int, _AccountSlot] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, s: Settings) -> "EventGuard":
        return cls(rate=s.hall_event_rate, burst=s.hall_event_burst,
                   in_flight=s.hall_events_in_flight, flood_refusals=s.hall_flood_refusals,
                   account_concurrency=s.hall_account_concurrency,
                   session_check_seconds=s.hall_session_check_seconds)

    def opened(self, sid: str, account_id: int, session_hash: str) -> None:
        now = time.monotonic()
        self.connections[sid] = Connection(
            account_id=account_id, session_hash=session_hash,
            bucket=TokenBucket(self.rate, self.burst, float(self.burst), now),
            window_start=now, session_checked=now)
        slot = self.accounts.get(account_id)
        if slot is None:
            slot = self.accounts[account_id] = _AccountSlot(asyncio.Semaphore(self.account_concurrency))
        slot.sockets += 1

    def closed(self, sid: str) -> None:
        conn = self.connections.pop(sid, None)
        if conn is None:
            return
        slot = self.accounts.get(conn.account_id)
        if slot is not None:
            slot.sockets -= 1
            if slot.sockets <= 0:
                del self.accounts[conn.account_id]

    def is_open(self, sid: str) -> bool:
        return sid in self.connections

    def admit(self, sid: str) -> Refusal | None:
        """None: the event may run (the caller must call done(sid) after it). Synchronous,
        so a burst of events is sorted out before any of them awaits anything."""
        conn = self.connections.get(sid)
        if conn is None:
            return Refusal("连接已失效，请刷新页面", disconnect=False)
        now = time.monotonic()
        if conn.in_flight >= self.in_flight:
            return self._refuse(conn, now, TOO_MANY)
        if not conn.bucket.take(now):
            return self._refuse(conn, now, TOO_FAST)
        conn.in_flight += 1
        return None

    def _refuse(self, conn: Connection, now: float, message: str) -> Refusal:
        if now - conn.window_start > FLOOD_WINDOW_SECONDS:
            conn.window_start, conn.refusals = now, 0
        conn.refusals += 1
        flood = conn.refusals >= self.flood_refusals and not conn.flooding
        conn.flooding = conn.flooding or flood
        return Refusal(message, disconnect=flood)

    def done(self, sid: str) -> None:
        conn = self.connections.get(sid)
        if conn is not None:
            conn.in_flight -= 1

    @contextlib.asynccontextmanager
    async def account_slot(self, sid: str) -> AsyncIterator[None]:
        conn = self.connections.get(sid)
        slot = self.accounts.get(conn.account_id) if conn is not None else None
        if slot is None:
            yield
            return
        async with slot.semaphore:
            yield

    def session_due(self, sid: str) -> Connection | None:
        """The connection, when its login session is due another check (and marks it checked)."""
        conn = self.connections.get(sid)
        if conn is None:
            return None
        now = time.monotonic()
        if now - conn.session_checked < self.session_check_seconds:
            return None
        conn.session_checked = now
        return conn
