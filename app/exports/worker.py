"""An export written in a process of its own.

Writing a workbook is Python work from the first row to the last (rows made cells, cells
made XML): in a thread of the server it held the GIL against the event loop, and the
statistics page took 3.7 times as long at p99 while the province's export ran (bench/
statistics.py). In its own process it takes its own core. The server process keeps the
job's lease; the worker writes the progress on the job row under the same claim (so a
worker whose job was taken over stops at its next batch), and dies with its server
(PR_SET_PDEATHSIG): nothing keeps writing for a process that crashed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from pathlib import Path
from typing import Any

from .. import joblease
from ..db import Database
from .tables import export_jobs as ej

class _Inline:
    """The CpuPool's interface, run in place: this process does nothing else."""

    async def run(self, fn: Any, *args: Any) -> Any:
        return fn(*args)


def write(database_url: str, job_id: int, owner: str, lease_seconds: float, skew_seconds: float,
          path: str, kind: str, params: dict, title: str, about: list) -> tuple[int, int]:
    """(rows written, this process's id). Raises joblease.LeaseLost when the job stopped
    being this server's to write."""
    return asyncio.run(_write(database_url, job_id, owner, lease_seconds, skew_seconds,
                              Path(path), kind, params, title, about)), os.getpid()


async def _write(database_url: str, job_id: int, owner: str, lease_seconds: float,
                 skew_seconds: float, path: Path, kind: str, params: dict, title: str,
                 about: list) -> int:
    from .kinds import KINDS
    from .runner import write_workbook
    db = Database(database_url)
    lease = dt.timedelta(seconds=lease_seconds)

    def now() -> dt.datetime:  # the server's clock (a test's may be set apart from ours)
        return dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=skew_seconds)

    async def progress(**values: object) -> None:
        async with db.write() as conn:
            await joblease.hold(conn, ej, job_id, owner, lease_until=now() + lease, **values)
    try:
        async with db.read() as conn:
            sheets = await KINDS[kind].sheets(conn, params, db.is_sqlite)
            return await write_workbook(conn, _Inline(), path, sheets, title,
                                        [tuple(x) for x in about], progress)
    finally:
        await db.dispose()
