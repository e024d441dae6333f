"""A task of the process's own, started with the app and stopped at its cleanup."""

from __future__ import annotations

import asyncio
import contextlib


class LoopTask:
    """Runs `_run()` (a loop of its own) from start() until stop(): the loop-lag probe, the
    cycle collector's pacer."""

    task_name = "loop-task"
    _task: asyncio.Task | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self.task_name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        raise NotImplementedError
