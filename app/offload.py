"""CPU-heavy work off the event loop, through one bounded pool per process.

The loop serves every socket in the hall: an argon2 check (tens of ms), an image decode or
a PDF render on it would stall every waiter's updates. Such work goes through
`CpuPool.run`, a thread pool of `CPU_WORKERS` threads (argon2, Pillow, WeasyPrint and
pypdfium2 release the GIL in their C code, so threads give real parallelism). The pool is
bounded so that a burst (forty logins, four image uploads) queues for a worker instead of
starting forty threads that would starve the loop's own thread of the GIL.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import os
import threading
from typing import Any, Callable, TypeVar

T = TypeVar("T")


# Niceness added to each pool thread (Linux schedules threads, and their priority, one by
# one). On a busy machine the event loop's thread then wins the CPU: a wave of logins
# waits a little longer for its hashes instead of every waiter's socket waiting for the
# loop (measured: bench/hall_load.py's phase with 20 logins a second).
POOL_NICENESS = 10


def _yield_to_the_loop() -> None:
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + POOL_NICENESS)
    except (AttributeError, OSError):  # not Linux, or not allowed: the pool works as before
        pass


class CpuBusy(Exception):
    """More work waits for the pool than CPU_QUEUE_LIMIT: answer now, not in seconds."""


class CpuPool:
    def __init__(self, workers: int, queue_limit: int = 0) -> None:
        self.workers = max(1, workers)
        self.queue_limit = queue_limit  # 0: no limit
        self.pending = 0  # submitted and not finished (on this loop: no lock needed)
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=self.workers, thread_name_prefix="cpu", initializer=_yield_to_the_loop)
        self._long: asyncio.Semaphore | None = None

    def share(self, kind: str) -> asyncio.Semaphore:
        """Held around long work (an import reads a file for up to IMPORT_MAX_SECONDS, a
        document renders for a second): every kind of it together takes all threads but
        one, so six uploads and a few papers queue behind each other and a login still finds
        a free thread. One semaphore for all kinds: with a share per kind, an import and a
        paper together could fill a 2-thread pool. `kind` names the work at the call."""
        if self._long is None:
            self._long = asyncio.Semaphore(max(1, self.workers - 1))
        return self._long

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        self.pending += 1
        try:
            return await loop.run_in_executor(self._executor, call)
        finally:
            self.pending -= 1

    async def run_or_refuse(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """`run`, unless the queue is full (CpuBusy). For work a crowd sends at once
        (logins): each waiter past the limit would only wait longer, and every one of them
        holds a request and its memory meanwhile."""
        if self.queue_limit and self.pending >= self.queue_limit:
            raise CpuBusy
        return await self.run(fn, *args, **kwargs)

    def close(self) -> None:
        # Queued work is dropped: at shutdown nobody waits for its answer.
        self._executor.shutdown(wait=False, cancel_futures=True)
