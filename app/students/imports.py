"""Import jobs: a file of student records checked row by row and imported in chunks.

The job row holds the progress and the per-row report, so the page can show progress for
large files. Reading and checking the file runs in the CPU pool (app/offload.py), a chunk of
rows per call (import_reading.py), within the IMPORT_MAX_* caps and a cancel flag
(app/students/sheets.py), so neither a bomb nor a big file stalls the event loop or holds a
pool thread for long, and memory stays flat however many rows the file has. Which process
runs a job is decided by a lease on its row (job_lease.py): an interrupted job is resumed
once, by one process, and re-running it is harmless (the same rows again update instead of
duplicating).

Before checking, every cell is tidied and its synonyms replaced (cleaning.py); the job keeps
a report of the problems grouped by message and of those corrections (report.py), and the
rows it could not import as a workbook to fix and import again (workbooks.py), removed by
housekeeping a day after the job ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import secrets
import socket
import threading
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa

from ..clock import Clock
from ..config import Settings
from ..db import Database
from ..offload import CpuPool
from ..tables import import_jobs
from . import job_lease, service
from .cleaning import Cleaner
from .import_reading import Reading
from .import_spec import ImportSpec
from .job_lease import LeaseLost
from .parsing import STUDENTS, check_rows, stream_rows
from .sheets import FileProblem, ReadCancelled, ReadLimits
from ..errorlog import TracebackBudget

log = logging.getLogger(__name__)
CHUNK = 500  # rows read and checked per pool call, and written per transaction
SHUTDOWN_GRACE_SECONDS = 2.0


class ImportRunner:
    """Runs student-record imports. Other imports (生源) subclass it and override the
    job table, the spec and the catalogue/choices/check/upsert hooks below."""

    jobs = import_jobs
    folder_name = "imports"
    spec: ImportSpec = STUDENTS

    def __init__(self, db: Database, settings: Settings, clock: Clock, cpu: CpuPool) -> None:
        self.db = db
        self.clock = clock
        self.cpu = cpu
        self.settings = settings
        self.folder = Path(settings.data_dir) / self.folder_name
        self.lease = dt.timedelta(seconds=settings.import_lease_seconds)
        self.owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
        self.errors = TracebackBudget()  # an outage fails every pass alike: told once a minute
        self._running: dict[int, asyncio.Task] = {}
        self._stops: dict[int, threading.Event] = {}
        self._watcher: asyncio.Task | None = None
        self._closing = False

    # Hooks: what kind of rows, checked against what, written how.
    def rows(self, filename: str, path: str, limits: ReadLimits, cleaner: Cleaner,
             ) -> Iterator[tuple[int, dict[str, str]]]:
        return stream_rows(filename, path, self.spec.columns, self.spec.required, limits, cleaner)

    async def catalogue(self, conn, school_id: int):  # noqa: ANN001, ANN201
        return await service.catalogue(conn, school_id)

    async def choices(self, conn, school_id: int) -> dict[str, list[str]]:  # noqa: ANN001
        """The drop-downs of the template and of the error-rows workbook."""
        return await service.choices(conn, school_id)

    def check(self, rows: list, catalogue, first_seen: dict[str, int],  # noqa: ANN001
              ) -> tuple[list, list]:
        """A chunk of rows → (good records, problems); `first_seen` spans the file."""
        return check_rows(rows, catalogue, first_seen)

    async def upsert(self, conn, school_id: int, chunk: list, now) -> tuple[int, int]:  # noqa: ANN001
        return await service.upsert(conn, school_id, chunk, now)

    def limits(self, stop: threading.Event) -> ReadLimits:
        s = self.settings
        return ReadLimits(max_rows=s.import_max_rows, max_columns=s.import_max_columns,
                          max_unzipped_bytes=s.import_max_unzipped_bytes,
                          max_seconds=s.import_max_seconds, cancelled=stop)

    async def create(self, *, school_id: int, account_id: int | None, filename: str,
                     data: bytes) -> int:
        """Store the file under a server-chosen name and queue a job for it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        suffix = ".xlsx" if filename.lower().endswith(".xlsx") else ".csv"
        stored = self.folder / f"{secrets.token_hex(16)}{suffix}"
        stored.write_bytes(data)
        async with self.db.write() as conn:
            return (await conn.execute(self.jobs.insert().values(
                school_id=school_id, created_by=account_id, filename=Path(filename).name[:200],
                stored_path=str(stored), status="queued", errors=[],
                created_at=self.clock.now()).returning(self.jobs.c.id))).scalar_one()

    def start(self, job_id: int) -> None:
        if self._closing or job_id in self._running:
            return
        task = asyncio.create_task(self.run(job_id), name=f"import-{job_id}")
        self._running[job_id] = task
        task.add_done_callback(lambda _: self._running.pop(job_id, None))

    async def open(self) -> None:
        """At start-up: resume what an earlier process left, and keep looking, since a
        job of a process that died is free only once its lease runs out."""
        await self.resume_unfinished()
        self._watcher = asyncio.create_task(self._watch(), name=f"{self.folder_name}-watch")

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(max(self.lease.total_seconds() / 2, 0.5))
            try:
                await self.resume_unfinished()
            except Exception as exc:  # the database is away for a moment: look again later
                self.errors.log(log, "looking for unfinished imports failed", exc)

    async def resume_unfinished(self) -> None:
        for job_id in await job_lease.claimable_ids(self.db, self.jobs, self.clock.now()):
            self.start(job_id)

    async def cancel(self, job_id: int, school_id: int) -> bool:
        """Cancel a job of the school. Stops it at once when it runs here; another process
        running it stops at its next lease renewal."""
        cancelled = await job_lease.cancel(self.db, self.jobs, job_id, school_id, self.clock.now())
        if cancelled and job_id in self._stops:
            self._stops[job_id].set()
        return cancelled

    async def drain(self) -> None:
        """Wait until every running job has finished (CLI, tests)."""
        while self._running:
            await asyncio.gather(*list(self._running.values()), return_exceptions=True)

    async def close(self) -> None:
        """Shutdown: stop every job at its next row or chunk and hand it back (queued) for the
        next start; a job still busy after a short grace is cancelled where it waits."""
        self._closing = True
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        for stop in self._stops.values():
            stop.set()
        tasks = list(self._running.values())
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_SECONDS)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def run(self, job_id: int) -> None:
        job = await job_lease.claim(self.db, self.jobs, job_id, self.owner, self.clock.now(),
                                    self.lease)
        if job is None:
            return  # another process runs it, or it has ended
        if self._closing:
            await job_lease.release(self.db, self.jobs, job_id, self.owner)
            return
        stop = self._stops[job_id] = threading.Event()
        keeper = asyncio.create_task(self._keep_lease(job_id, stop), name=f"lease-{job_id}")
        try:
            await self._work(job, stop)
        except (ReadCancelled, LeaseLost):
            if self._closing:
                await job_lease.release(self.db, self.jobs, job_id, self.owner)
            # else: cancelled (the row says so already) or taken over by another process
        except asyncio.CancelledError:
            stop.set()  # the worker thread stops at its next row
            await job_lease.release(self.db, self.jobs, job_id, self.owner)
            raise
        except Exception:
            log.exception("import job %s failed", job_id)
            await self._end(job_id, status="failed", message="导入时发生内部错误，请重试")
        finally:
            keeper.cancel()
            self._stops.pop(job_id, None)

    async def _keep_lease(self, job_id: int, stop: threading.Event) -> None:
        """Renew the claim while the job runs; a failed renewal means the job was cancelled
        (perhaps from another process) or taken over: stop reading."""
        while not stop.is_set():
            await asyncio.sleep(max(self.lease.total_seconds() / 3, 0.1))
            try:
                held = await job_lease.renew(self.db, self.jobs, job_id, self.owner,
                                             self.clock.now() + self.lease)
            except Exception:  # the database is away for a moment: the next try may do
                log.exception("renewing the lease of import job %s failed", job_id)
                continue
            if not held:
                stop.set()

    async def _work(self, job: sa.Row, stop: threading.Event) -> None:
        async with self.db.read() as conn:
            catalogue = await self.catalogue(conn, job.school_id)
            choices = await self.choices(conn, job.school_id)
        reading = Reading(self.spec, job.stored_path, job.filename, catalogue=catalogue,
                          choices=choices, limits=self.limits(stop), rows=self.rows,
                          check=self.check, chunk=CHUNK)
        try:
            try:
                async with self.cpu.share("imports"):  # one kind for both runners (学生, 生源)
                    while not await self.cpu.run(reading.next_chunk):
                        async with self.db.write() as conn:  # rows found so far, failed so far
                            await job_lease.hold(conn, self.jobs, job.id, self.owner,
                                                 total_rows=reading.rows,
                                                 processed_rows=reading.failed_rows)
                    found = await self.cpu.run(reading.finish)
            except FileProblem as exc:
                await self._end(job.id, status="failed", message=str(exc), report=None)
                return
            await self._write(job, stop, reading, found)
        finally:
            reading.close()

    async def _write(self, job: sa.Row, stop: threading.Event, reading: Reading,
                     found: dict[str, object]) -> None:
        """The whole file has been read within its caps: now its good rows are written."""
        async with self.db.write() as conn:
            await job_lease.hold(conn, self.jobs, job.id, self.owner, total_rows=reading.rows,
                                 errors=reading.problems, report=found,
                                 processed_rows=reading.failed_rows)
        # Counts carry over from an interrupted run: rows it wrote are unchanged now.
        created, updated = job.created_rows, job.updated_rows
        done = reading.failed_rows
        for chunk in reading.good_chunks():
            if stop.is_set():
                raise ReadCancelled()
            async with self.db.write() as conn:
                now = self.clock.now()
                await job_lease.hold(conn, self.jobs, job.id, self.owner, lease_until=now + self.lease)
                c, u = await self.upsert(conn, job.school_id, chunk, now)
                created, updated, done = created + c, updated + u, done + len(chunk)
                await conn.execute(self.jobs.update().where(self.jobs.c.id == job.id).values(
                    processed_rows=done, created_rows=created, updated_rows=updated))
        await self._end(job.id, status="done", processed_rows=reading.rows)

    async def _end(self, job_id: int, **values: object) -> None:
        with contextlib.suppress(LeaseLost):  # cancelled meanwhile: the row says so
            async with self.db.write() as conn:
                await job_lease.hold(conn, self.jobs, job_id, self.owner, **values,
                                     finished_at=self.clock.now(), lease_until=None)


async def job(db: Database, job_id: int, school_id: int, table: sa.Table = import_jobs,
              ) -> sa.Row | None:
    """A job, only if it belongs to the given school."""
    async with db.read() as conn:
        return (await conn.execute(sa.select(table).where(
            table.c.id == job_id, table.c.school_id == school_id))).first()
