"""Event-loop lag probe: how late the loop runs a callback it scheduled for a known time.

A task sleeps `interval` seconds again and again; whatever it wakes up later than asked is
time the loop spent on something else (a blocking call, a long burst of callbacks). The
probe keeps the largest lag since the last `reset()` and a running total, so a test can
compare the worst stall under load with the worst at rest, and the metrics can export it.
Enabled with `LOOP_LAG_PROBE_SECONDS` (0: off).
"""

from __future__ import annotations

import asyncio
import time

from .looptask import LoopTask


class LoopLagProbe(LoopTask):
    task_name = "loop-lag"

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.max_lag = 0.0      # seconds, since the last reset()
        self.last_lag = 0.0
        self.samples = 0
        self.total_lag = 0.0

    def reset(self) -> float:
        """The largest lag seen since the last reset; starts a new window."""
        worst, self.max_lag = self.max_lag, 0.0
        return worst

    async def _run(self) -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(self.interval)
            lag = max(0.0, time.perf_counter() - asked - self.interval)
            self.last_lag = lag
            self.samples += 1
            self.total_lag += lag
            if lag > self.max_lag:
                self.max_lag = lag
