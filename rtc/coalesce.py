"""Coalescing a booth's broadcasts: one booth load and one batch of emits per booth per
short window, however many changes arrive in it, and the last state always delivered.

Three small pure parts (no I/O, no clock of their own: a hypothesis test drives them in
any interleaving, tests/test_hall_coalesce.py) and one asyncio driver:

- `Throttle`: when a booth's next broadcast may be built. The first change after a quiet
  window goes out at once (an isolated call is not delayed); changes during a window, or
  while a broadcast is being built, make exactly one more broadcast after it, built after
  the last of them: the last state is never lost.
- `Latest`: every broadcast is stamped, after the change committed and before the booth is
  loaded, with a number from one counter per booth (in the process, or Redis's INCR across
  processes). A higher stamp therefore means a load that saw every change whose broadcast
  got a lower one; a process delivers a batch only when its stamp is the highest it has
  seen for that booth, so a slow load published late cannot be the last word: the batch
  with the highest stamp saw every change and is delivered everywhere.
- `LastSent`: what each room last received per booth; a payload equal to it is not sent
  again (a join at the back of a queue leaves the places of those ahead as they were).
  A socket entering a room clears the room's entry, so a newcomer always gets the state.
- `Coalescer`: runs the builds as asyncio tasks, one at a time per booth.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Hashable

log = logging.getLogger(__name__)
RETRY_SECONDS = 1.0  # after a failed build (a database hiccup): try again, not at once


class Phase(enum.Enum):
    IDLE = "idle"
    SCHEDULED = "scheduled"  # a build is due (after its delay)
    RUNNING = "running"      # a build is loading and sending


@dataclass
class _Slot:
    phase: Phase = Phase.IDLE
    dirty: bool = False          # a change came after the running build loaded its state
    last_start: float | None = None


class Throttle:
    """At most one build per key per `window` seconds, one at a time, the last change
    always followed by a build that starts after it. Times are given by the caller."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._slots: dict[Hashable, _Slot] = {}

    def phase(self, key: Hashable) -> Phase:
        slot = self._slots.get(key)
        return slot.phase if slot else Phase.IDLE

    def changed(self, key: Hashable, now: float) -> float | None:
        """A change: the delay after which a build should start, or None when one is
        already scheduled or running (a running build is followed by another)."""
        slot = self._slots.setdefault(key, _Slot())
        slot.dirty = True
        if slot.phase is not Phase.IDLE:
            return None
        slot.phase = Phase.SCHEDULED
        return self._delay(slot, now)

    def starting(self, key: Hashable, now: float) -> None:
        """The scheduled build starts: what it loads includes every change so far."""
        slot = self._slots[key]
        if slot.phase is not Phase.SCHEDULED:
            raise RuntimeError(f"build of {key!r} started while {slot.phase.value}")
        slot.phase, slot.dirty, slot.last_start = Phase.RUNNING, False, now

    def finished(self, key: Hashable, now: float, failed: bool = False) -> float | None:
        """The build is done: the delay of the next one when changes came meanwhile (or the
        build failed), else None (the key is idle)."""
        slot = self._slots[key]
        if slot.phase is not Phase.RUNNING:
            raise RuntimeError(f"build of {key!r} finished while {slot.phase.value}")
        if failed:
            slot.dirty = True
        if not slot.dirty:
            slot.phase = Phase.IDLE
            self._forget_quiet(now)
            return None
        slot.phase = Phase.SCHEDULED
        delay = self._delay(slot, now)
        return max(delay, RETRY_SECONDS) if failed else delay

    def _delay(self, slot: _Slot, now: float) -> float:
        if slot.last_start is None:
            return 0.0
        return max(0.0, slot.last_start + self.window - now)

    def _forget_quiet(self, now: float) -> None:
        """Idle keys whose window has passed are the same as unknown ones: drop them (a
        day's booths come and go)."""
        if len(self._slots) < 1000:
            return
        self._slots = {k: s for k, s in self._slots.items()
                       if s.phase is not Phase.IDLE or s.last_start is None
                       or s.last_start + self.window > now}


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
    """Calls `build(key)` for changed keys as the throttle allows, one at a time per key.
    `changed` never waits: the caller's event answers before the booth is sent."""

    def __init__(self, window: float, build: Callable[[Hashable], Awaitable[None]],
                 name: str = "coalesce") -> None:
        self.throttle = Throttle(window)
        self._build = build
        self._name = name
        self._tasks: dict[Hashable, asyncio.Task] = {}

    def changed(self, key: Hashable) -> None:
        loop = asyncio.get_running_loop()
        delay = self.throttle.changed(key, loop.time())
        if delay is not None:
            self._tasks[key] = loop.create_task(self._run(key, delay), name=f"{self._name}-{key}")

    async def _run(self, key: Hashable, delay: float | None) -> None:
        loop = asyncio.get_running_loop()
        try:
            while delay is not None:
                # even with no delay, yield once: changes made in the same tick join this build
                await asyncio.sleep(delay)
                self.throttle.starting(key, loop.time())
                failed = False
                try:
                    await self._build(key)
                except Exception:  # the next round (or change) tries again
                    log.exception("%s: build of %r failed", self._name, key)
                    failed = True
                delay = self.throttle.finished(key, loop.time(), failed)
        finally:
            self._tasks.pop(key, None)

    async def drain(self) -> None:
        """Wait until every pending build has gone out (tests; a clean shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
