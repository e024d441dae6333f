"""The cycle collector, paced for a hall of thousands of sockets.

CPython collects its young generation when allocations outnumber deallocations by a
threshold. Every hall socket keeps a few dozen objects that live one engine.io heartbeat
(25 s: the ping's sleep, the writer's wait_for, their tasks, timer handles and futures) and
are then replaced by new ones. That churn leaves the count where it was, but each replacement
joins the young generation, and the young generation is only collected when the count says
so. In a quiet hall of 5,000 students it grew by about 10,000 objects a second for as long as
nothing else allocated: the first collection after half a minute (a few logins make it come)
walked 250,000 to 330,000 objects, 200 to 230 ms on the loop's thread, while every socket
waited. (Measured with bench/hall_load.py and a probe on `gc.callbacks`; `GcPauses` below now
reports every pause to the metrics.)

So the collector runs on a clock (`GcPacer`):
- the young generation at least every GC_YOUNG_SECONDS (a quarter of a second), so each
  collection walks that much churn: under 5 ms at 5,000 sockets, where a second's worth took
  up to 25 ms;
- the middle generation every MIDDLE_SECONDS. It holds what survived a young collection,
  mostly churn that dies there by reference counting within a heartbeat without being walked
  again; walking it costs about 100 ms at 5,000 sockets, so not more often than this;
- everything every FULL_SECONDS (about a second at 5,000 sockets): the cycles of sockets
  that lived long and have closed since.
CPython's own count still collects the young generation in a burst of connects, which
allocates faster than the clock; it never goes on to the older generations by itself.
Cyclic garbage therefore waits up to MIDDLE_SECONDS, or FULL_SECONDS once it is old:
memory, bounded, instead of time on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from typing import Any, Callable

from aiohttp import web

from .looptask import LoopTask

# Young collections by count, besides the clock: a burst of connects.
YOUNG_THRESHOLD = 50_000
MIDDLE_SECONDS = 300.0
FULL_SECONDS = 1800.0
NEVER = 1_000_000_000  # CPython's count-driven escalation to older generations: off
# Without the pacer (GC_YOUNG_SECONDS=0): CPython's own escalation, its middle generation
# per 20 young collections and its full one per 20 of those.
UNPACED = (YOUNG_THRESHOLD, 20, 20)


def tune(paced: bool) -> None:
    """For a serving process, once its start-up objects exist: they are frozen out of every
    collection (a full collection of them stalled the loop for ~1.4 s at 2,000 sockets)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*((YOUNG_THRESHOLD, NEVER, NEVER) if paced else UNPACED))


PauseListener = Callable[[int, float], None]


class GcPauses:
    """Times every collection of this process on the thread that ran it (the loop's, for the
    collections that stall sockets). Listeners get (generation, seconds); `ended` holds when
    the last collection of at least each generation ended, for the pacer."""

    def __init__(self) -> None:
        self.listeners: list[PauseListener] = []
        now = time.monotonic()
        self.ended = [now, now, now]
        self.worst: dict[int, float] = {}
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        seconds = time.perf_counter() - self._started
        generation = info["generation"]
        self.mark_ended(generation)
        if seconds > self.worst.get(generation, 0.0):
            self.worst[generation] = seconds
        for listener in self.listeners:
            listener(generation, seconds)

    def mark_ended(self, generation: int) -> None:
        """A collection of `generation` (and so of every younger one) ended now."""
        now = time.monotonic()
        for g in range(generation + 1):
            self.ended[g] = now

    def install(self) -> None:
        if self not in gc.callbacks:
            gc.callbacks.append(self)

    def remove(self) -> None:
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self)


class GcPacer(LoopTask):
    """Runs a collection when none has run for `interval` seconds: of the young generation,
    or of an older one when its own period is up."""

    task_name = "gc-pacer"

    def __init__(self, pauses: GcPauses, interval: float, middle: float = MIDDLE_SECONDS,
                 full: float = FULL_SECONDS) -> None:
        self.pauses = pauses
        self.interval = interval
        self.periods = (interval, middle, full)
        self.paced = [0, 0, 0]  # collections this pacer ran, by generation

    def start(self) -> None:
        if self.interval > 0:
            super().start()

    def due(self, now: float) -> int | None:
        """The oldest generation whose period is up, or None while the young one's is not."""
        ended = self.pauses.ended
        for generation in (2, 1, 0):
            if now - ended[generation] >= self.periods[generation]:
                return generation
        return None

    async def _run(self) -> None:
        while True:
            generation = self.due(time.monotonic())
            if generation is None:
                await asyncio.sleep(self.pauses.ended[0] + self.interval - time.monotonic())
                continue
            gc.collect(generation)
            self.paced[generation] += 1
            self.pauses.mark_ended(generation)  # as its callback does, were it not installed


GC_PACER = web.AppKey("gc_pacer", GcPacer)
