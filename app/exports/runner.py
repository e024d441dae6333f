"""Runs export jobs in the background: one workbook per job, written in constant memory
in a worker process (app/exports/worker.py), its progress on the job row, the file kept
for its owner for a day.

Bounded: EXPORT_WORKERS worker processes per server process write at once (the rest wait,
in order), so the server's event loop keeps its core. Leased
(app/joblease.py): one process writes each job; a job whose process died is written again
from the start by another (an export has no partial result worth keeping), once; after a
second interruption it is marked failed, never left 进行中.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import contextlib
import datetime as dt
import logging
import os
import secrets
import socket
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import joblease
from ..clock import CHINA, Clock
from ..config import Settings
from ..db import Database
from ..errorlog import TracebackBudget
from ..joblease import LeaseLost
from ..offload import CpuPool
from ..xlsx import StreamedBook
from . import niceness, worker
from .tables import export_jobs as ej

log = logging.getLogger(__name__)
EXPORTS = web.AppKey("exports", "ExportRunner")
BATCH = 1000          # rows read, written and counted at a time
LEASE = dt.timedelta(seconds=30)
INTERRUPTED = "导出两次被中断（服务重启），已停止；请重新导出"
FAILED = "导出时发生内部错误，请重试"


class ExportRunner:
    def __init__(self, db: Database, settings: Settings, clock: Clock, cpu: CpuPool) -> None:
        self.db, self.clock, self.cpu = db, clock, cpu
        self.folder = Path(settings.data_dir) / "exports"
        self.keep = dt.timedelta(hours=settings.export_keep_hours)
        self.slots_count = max(1, settings.export_workers)
        self.slots = asyncio.Semaphore(self.slots_count)
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self.writers: set[int] = set()  # the worker processes that wrote (observability, tests)
        self.owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
        self.errors = TracebackBudget()
        self._running: dict[int, asyncio.Task] = {}
        self._watcher: asyncio.Task | None = None
        self._closing = False

    def start(self, job_id: int) -> None:
        if self._closing or job_id in self._running:
            return
        task = asyncio.create_task(self.run(job_id), name=f"export-{job_id}")
        self._running[job_id] = task
        task.add_done_callback(lambda _: self._running.pop(job_id, None))

    async def open(self) -> None:
        """At start-up and then every half lease: what nobody runs (new, or left by a
        process that died) is started here."""
        await self.resume_unfinished()
        self._watcher = asyncio.create_task(self._watch(), name="exports-watch")

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(LEASE.total_seconds() / 2)
            try:
                await self.resume_unfinished()
            except Exception as exc:  # the database is away for a moment: look again later
                self.errors.log(log, "looking for unfinished exports failed", exc)

    async def resume_unfinished(self) -> None:
        for job_id in await joblease.claimable_ids(self.db, ej, self.clock.now(), INTERRUPTED):
            self.start(job_id)

    async def drain(self) -> None:
        """Wait until every running job has finished (tests, the CLI)."""
        while self._running:
            await asyncio.gather(*list(self._running.values()), return_exceptions=True)

    async def close(self) -> None:
        """Shutdown: jobs being written are handed back for the next process to write."""
        self._closing = True
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._pool is not None:  # a worker still writing is stopped; its job is handed back
            # (the executor has no public way to stop a running call: its processes are
            # killed, as the worker's parent-death signal would at a crash)
            for process in list(getattr(self._pool, "_processes", {}).values()):
                process.kill()
            self._pool.shutdown(wait=True, cancel_futures=True)

    async def run(self, job_id: int) -> None:
        async with self.slots:
            name = f"{secrets.token_hex(16)}.xlsx"
            job = await joblease.claim(self.db, ej, job_id, self.owner, self.clock.now(), LEASE,
                                       processed_rows=0, total_rows=None, stored_name=name,
                                       started_at=self.clock.now())
            if job is None:
                return  # another process writes it, or it has ended
            path = self.folder / name
            try:
                rows = await self._write(job, path)
            except LeaseLost:
                path.unlink(missing_ok=True)  # taken over: the other process writes its own
            except asyncio.CancelledError:
                path.unlink(missing_ok=True)
                with contextlib.suppress(Exception):
                    await joblease.release(self.db, ej, job_id, self.owner)
                raise
            except Exception:
                log.exception("export job %s failed", job_id)
                path.unlink(missing_ok=True)
                await self._end(job_id, status="failed", message=FAILED, stored_name=None)
            else:
                now = self.clock.now()
                await self._end(job_id, status="done", processed_rows=rows,
                                size_bytes=path.stat().st_size, expires_at=now + self.keep)

    async def _write(self, job: sa.Row, path: Path) -> int:
        """The job's workbook at `path`, written by a worker process (its reads in one read
        transaction, its progress on the job row under this process's claim)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        about = [*[tuple(x) for x in job.params.get("about", [])],
                 ("导出时间", self.clock.now().astimezone(CHINA).strftime("%Y-%m-%d %H:%M"))]
        skew = (self.clock.now() - dt.datetime.now(dt.timezone.utc)).total_seconds()
        # submitted from a thread: a submit may start the worker process (the forkserver's
        # fork and exec, the call's pickling), 40 ms the loop would otherwise stand still
        future = await asyncio.to_thread(
            self._workers().submit, worker.write, self.db.url, job.id, self.owner,
            LEASE.total_seconds(), skew, str(path), job.kind, job.params, job.title, about)
        rows, pid = await asyncio.wrap_future(future)
        self.writers.add(pid)
        return rows

    def _workers(self) -> concurrent.futures.ProcessPoolExecutor:
        """The worker processes, started at the first export (forkserver: a clean process,
        not a fork of this one's threads and sockets)."""
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["app.exports.niceness"])  # lowest priority first
            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=self.slots_count, mp_context=context, initializer=niceness.started)
        return self._pool

    async def _end(self, job_id: int, **values: object) -> None:
        with contextlib.suppress(LeaseLost):
            async with self.db.write() as conn:
                await joblease.hold(conn, ej, job_id, self.owner, **values,
                                    finished_at=self.clock.now(), lease_until=None)


async def write_workbook(conn: AsyncConnection, cpu: CpuPool, path: Path, sheets: list,
                         title: str, about: list[tuple[str, Any]],
                         progress: Callable[..., Awaitable[None]] | None = None) -> int:
    """Count the sheets' rows, then write them to an .xlsx at `path` in constant memory (a
    说明 sheet first: what, for whom, filtered how, when, how many rows), `BATCH` rows at a
    time through the CPU pool; `progress(total_rows=…)` once and `progress(processed_rows=…)`
    after each batch. The rows written."""
    total = 0
    for sheet in sheets:
        total += len(sheet.query) if isinstance(sheet.query, list) else \
            (await conn.execute(sa.select(sa.func.count()).select_from(
                sheet.query.order_by(None).subquery()))).scalar_one()
    if progress is not None:
        await progress(total_rows=total)
    book = await cpu.run(StreamedBook, path)
    written = 0
    try:
        await cpu.run(book.about, title, [("导出内容", title), *about, ("行数", total)])
        for sheet in sheets:
            await cpu.run(book.sheet, sheet.title, sheet.header)
            async for rows in _batches(conn, sheet.query):
                await cpu.run(_append, book, rows, sheet.to_row)
                written += len(rows)
                if progress is not None:
                    await progress(processed_rows=written)
    finally:
        await cpu.run(book.close)
    return written


def _append(book: StreamedBook, rows: list, to_row: Callable[[Any], list[Any]]) -> None:
    """In a pool thread: the rows made cells (53 columns of codes and labels each) and
    written; the loop only waits."""
    book.append([to_row(r) for r in rows])


async def _batches(conn: AsyncConnection, query: sa.Select | list) -> AsyncIterator[list]:
    """The sheet's rows in batches: rows in hand as one, a query streamed from the database
    (a server-side cursor on PostgreSQL)."""
    if isinstance(query, list):
        yield query
        return
    result = await conn.stream(query.execution_options(yield_per=BATCH))
    async for part in result.partitions(BATCH):
        yield part
