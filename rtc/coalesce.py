"""Coalescing a booth's broadcasts: one booth load and one batch of emits per booth per
short window, however many changes arrive in it, and the last state always delivered.

Three small pure parts (no I/O, no clock of their own: a hypothesis test drives them in
any interleaving, tests/test_hall_coalesce.py) and one asyncio driver:

- `Throttle`: when the next build may start and which booths it covers (all changed since
  the last one: they are loaded together). The first change after a quiet window goes out
  at once (an isolated call is not delayed); changes during a window, or while a build
  runs, make exactly one more build after it, started after the last of them: the last
  state is never lost.
- `Latest`: every broadcast is stamped, after the change committed and before the booth is
  loaded, with a number from one counter per booth (in the process, or Redis's INCR across
  processes). A higher stamp therefore means a load that saw every change whose broadcast
  got a lower one; a process delivers a batch only when its stamp is the highest it has
  seen for that booth, so a slow load published late cannot be the last word: the batch
  with the highest stamp saw every change and is delivered everywhere.
- `LastSent`: what each room last received per booth; a payload equal to it is not sent
  again (a join at the back of a queue leaves the places of those ahead as they were).
  A socket entering a room clears the room's entry, so a newcomer always gets the state.
- `Coalescer`: runs the builds in one asyncio task, one at a time.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Hashable, Iterable

log = logging.getLogger(__name__)
RETRY_SECONDS = 1.0  # after a failed build (a database hiccup): try again, not at once


class Phase(enum.Enum):
    IDLE = "idle"
    SCHEDULED = "scheduled"  # a build is due (after its delay)
    RUNNING = "running"      # a build is loading and sending


class Throttle:
    """At most one build per `window` seconds, one at a time, of every key changed since
    the last build started; the last change is always followed by a build that starts
    after it. Times are given by the caller.

    One build covers all changed keys (booths): at 5,000 students over 250 booths a booth
    changes only every few seconds, but the hall as a whole many times a second, so the
    saving comes from loading the changed booths together (a fixed number of queries)."""

    def __init__(self, window: float) -> None:
        self.window = window
        self.phase = Phase.IDLE
        self.pending: set[Hashable] = set()  # changed since the running build loaded
        self._last_start: float | None = None

    def changed(self, key: Hashable, now: float) -> float | None:
        """A change: the delay after which a build should start, or None when one is
        already scheduled or running (a running build is followed by another)."""
        self.pending.add(key)
        if self.phase is not Phase.IDLE:
            return None
        self.phase = Phase.SCHEDULED
        return self._delay(now)

    def starting(self, now: float) -> frozenset[Hashable]:
        """The scheduled build starts: the keys it must load, each with every change so far."""
        if self.phase is not Phase.SCHEDULED:
            raise RuntimeError(f"a build started while {self.phase.value}")
        keys, self.pending = frozenset(self.pending), set()
        self.phase, self._last_start = Phase.RUNNING, now
        return keys

    def finished(self, now: float, failed: Iterable[Hashable] = ()) -> float | None:
        """The build is done: the delay of the next one when changes came meanwhile (or
        keys failed, which are tried again), else None (idle)."""
        if self.phase is not Phase.RUNNING:
            raise RuntimeError(f"a build finished while {self.phase.value}")
        failed = set(failed)
        self.pending |= failed
        if not self.pending:
            self.phase = Phase.IDLE
            return None
        self.phase = Phase.SCHEDULED
        delay = self._delay(now)
        return max(delay, RETRY_SECONDS) if failed else delay

    def _delay(self, now: float) -> float:
        if self._last_start is None:
            return 0.0
        return max(0.0, self._last_start + self.window - now)


class Latest:
    """The highest stamp delivered per key: an older batch is dropped."""

    def __init__(self) -> None:
        self._seen: dict[Hashable, int] = {}

    def accept(self, key: Hashable, stamp: int) -> bool:
        if stamp < self._seen.get(key, stamp):
            return False
        self._seen[key] = stamp
        return True


class LastSent:
    """What each room last received, per (event, tag): repeats are skipped."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[tuple[str, Hashable], Any]] = {}

    def is_repeat(self, room: str, event: str, tag: Hashable, data: Any) -> bool:
        """True when `data` is what the room last got; otherwise it is recorded as sent."""
        kept = self._rooms.setdefault(room, {})
        if kept.get((event, tag)) == data:
            return True
        kept[(event, tag)] = data
        return False

    def forget(self, room: str) -> None:
        """Someone entered the room (or it emptied): the next payload goes out whatever it is."""
        self._rooms.pop(room, None)


@dataclass(frozen=True)
class Delivery:
    """One emit of a batch: `event` with `data` to `room`; `tag` tells apart what one room
    gets from several booths (a student queued at two booths)."""
    event: str
    room: str
    data: Any
    tag: Hashable


def to_deliver(latest: Latest, last_sent: LastSent, key: Hashable, stamp: int,
               items: list[Delivery], present: Callable[[str], bool]) -> list[Delivery]:
    """What one process sends of a batch: nothing when a fresher batch of `key` came first;
    else the items for rooms with a member here that are not a repeat of their last."""
    if not latest.accept(key, stamp):
        return []
    out = []
    for d in items:
        if not present(d.room):
            last_sent.forget(d.room)
        elif not last_sent.is_repeat(d.room, d.event, d.tag, d.data):
            out.append(d)
    return out


class Coalescer:
    """Calls `build(keys)` for the keys changed since the last build, as the throttle
    allows, one build at a time. `changed` never waits: the caller's event answers first."""

    def __init__(self, window: float, build: Callable[[list[Hashable]], Awaitable[None]],
                 name: str = "coalesce") -> None:
        self.throttle = Throttle(window)
        self._build = build
        self._name = name
        self._task: asyncio.Task | None = None

    def changed(self, key: Hashable) -> None:
        loop = asyncio.get_running_loop()
        delay = self.throttle.changed(key, loop.time())
        if delay is not None:
            self._task = loop.create_task(self._run(delay), name=self._name)

    async def _run(self, delay: float | None) -> None:
        loop = asyncio.get_running_loop()
        while delay is not None:
            # even with no delay, yield once: changes made in the same tick join this build
            await asyncio.sleep(delay)
            keys = sorted(self.throttle.starting(loop.time()), key=repr)
            failed: list[Hashable] = []
            try:
                await self._build(keys)
            except Exception:  # tried again after RETRY_SECONDS
                log.exception("%s: build of %d keys failed", self._name, len(keys))
                failed = keys
            delay = self.throttle.finished(loop.time(), failed)

    async def drain(self) -> None:
        """Wait until every pending build has gone out (tests; a clean shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.gather(self._task, return_exceptions=True)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
