"""Import jobs: a file of student records checked row by row and imported in chunks.

The job row holds the progress and the per-row report, so the page can show progress for
large files and a restart resumes unfinished jobs (re-running one is harmless: importing
the same rows again updates instead of duplicating).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from pathlib import Path

import sqlalchemy as sa

from ..clock import Clock
from ..config import Settings
from ..db import Database
from ..tables import import_jobs
from . import service
from .parsing import FileProblem, check_rows, read_rows

log = logging.getLogger(__name__)
CHUNK = 500
MAX_STORED_PROBLEMS = 5000


class ImportRunner:
    """Runs student-record imports. Other imports (生源) subclass it and override the
    job table and the read/catalogue/check/upsert hooks below."""

    jobs = import_jobs
    folder_name = "imports"

    def __init__(self, db: Database, settings: Settings, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.folder = Path(settings.data_dir) / self.folder_name
        self._tasks: set[asyncio.Task] = set()

    def read(self, filename: str, data: bytes) -> list:
        return read_rows(filename, data)

    async def catalogue(self, conn, school_id: int):  # noqa: ANN001, ANN201
        return await service.catalogue(conn, school_id)

    def check(self, rows: list, catalogue) -> tuple[list, list]:  # noqa: ANN001
        return check_rows(rows, catalogue)

    async def upsert(self, conn, school_id: int, chunk: list, now) -> tuple[int, int]:  # noqa: ANN001
        return await service.upsert(conn, school_id, chunk, now)

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
        task = asyncio.create_task(self.run(job_id), name=f"import-{job_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def resume_unfinished(self) -> None:
        async with self.db.read() as conn:
            ids = (await conn.execute(sa.select(self.jobs.c.id).where(
                self.jobs.c.status.in_(["queued", "running"])))).scalars().all()
        for job_id in ids:
            self.start(job_id)

    async def drain(self) -> None:
        """Wait until every running job has finished (shutdown, CLI, tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _update(self, job_id: int, **values: object) -> None:
        async with self.db.write() as conn:
            await conn.execute(self.jobs.update().where(self.jobs.c.id == job_id).values(**values))

    async def run(self, job_id: int) -> None:
        async with self.db.read() as conn:
            job = (await conn.execute(sa.select(self.jobs).where(self.jobs.c.id == job_id))).one()
        await self._update(job_id, status="running", processed_rows=0, created_rows=0,
                           updated_rows=0, errors=[], message=None)
        try:
            data = Path(job.stored_path).read_bytes()
            rows = await asyncio.to_thread(self.read, job.filename, data)
            async with self.db.read() as conn:
                catalogue = await self.catalogue(conn, job.school_id)
            good, problems = self.check(rows, catalogue)
            failed_rows = len({p.row for p in problems})
            stored_problems = [p.as_dict() for p in problems[:MAX_STORED_PROBLEMS]]
            await self._update(job_id, total_rows=len(rows), errors=stored_problems,
                               processed_rows=failed_rows)
            created = updated = 0
            for start in range(0, len(good), CHUNK):
                chunk = good[start:start + CHUNK]
                async with self.db.write() as conn:
                    c, u = await self.upsert(conn, job.school_id, chunk, self.clock.now())
                    created, updated = created + c, updated + u
                    await conn.execute(self.jobs.update().where(self.jobs.c.id == job_id)
                                       .values(processed_rows=failed_rows + start + len(chunk),
                                               created_rows=created, updated_rows=updated))
            await self._update(job_id, status="done", finished_at=self.clock.now(),
                               processed_rows=len(rows))
        except FileProblem as exc:
            await self._update(job_id, status="failed", message=str(exc),
                               finished_at=self.clock.now())
        except asyncio.CancelledError:
            raise  # left "running": resumed at the next start
        except Exception:
            log.exception("import job %s failed", job_id)
            await self._update(job_id, status="failed", message="导入时发生内部错误，请重试",
                               finished_at=self.clock.now())


async def job(db: Database, job_id: int, school_id: int, table: sa.Table = import_jobs,
              ) -> sa.Row | None:
    """A job, only if it belongs to the given school."""
    async with db.read() as conn:
        return (await conn.execute(sa.select(table).where(
            table.c.id == job_id, table.c.school_id == school_id))).first()
