"""Housekeeping, once per cluster and period: expired sessions, email codes and 找回密码
steps, old rate-limit windows, the uploaded files of finished imports and, a day after, their
error-rows workbooks (both hold ID numbers), and sent mail past MAIL_RETENTION_DAYS.

Every process runs the loop; each period one of them wins the lease row with a
conditional UPDATE and does the work, the others see the lease held and sleep. The lease
is not given back after the run: it marks the period as done. A process that dies mid-run
leaves work for the next period, and every step is idempotent, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import AsyncIterator

import sqlalchemy as sa
from aiohttp import web

from ..clock import Clock
from ..config import Settings
from ..db import Database, dialect_insert
from ..exports import service as exports
from ..reviews.tables import origin_import_jobs
from ..state import CLOCK, DB, SETTINGS
from ..students.workbooks import ERROR_ROWS_KEPT, error_rows_path
from ..tables import (email_outbox, files, import_jobs, password_resets, rate_hits, sessions,
                      verification_codes)
from ..uploads import FileStore
from .tables import periodic_leases
from ..errorlog import TracebackBudget

log = logging.getLogger(__name__)
JOB = "housekeeping"
FINISHED_IMPORTS = ("done", "failed", "cancelled")  # a job in these states never reads its file again


@dataclass
class Swept:
    sessions: int = 0
    codes: int = 0
    password_resets: int = 0
    rate_windows: int = 0
    mails: int = 0
    import_files: list[str] = field(default_factory=list)
    error_rows_files: list[str] = field(default_factory=list)
    orphan_files: int = 0
    export_files: int = 0


def process_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


async def claim(db: Database, name: str, owner: str, now: dt.datetime,
                period: dt.timedelta) -> bool:
    """Take this period's lease on `name`; False when another process holds it."""
    t = periodic_leases
    async with db.write() as conn:
        await conn.execute(dialect_insert(db.is_sqlite, t).values(name=name).on_conflict_do_nothing(
            index_elements=[t.c.name]))
        won = await conn.execute(t.update().where(
            t.c.name == name, sa.or_(t.c.lease_until.is_(None), t.c.lease_until <= now))
            .values(claimed_by=owner, lease_until=now + period, last_run_at=now))
        return won.rowcount == 1


async def sweep(db: Database, settings: Settings, now: dt.datetime) -> Swept:
    """Delete what has outlived its use. Safe to run twice (each step is a plain delete)."""
    done = Swept()
    async with db.write() as conn:
        done.sessions = (await conn.execute(
            sessions.delete().where(sessions.c.expires_at <= now))).rowcount
        done.codes = (await conn.execute(
            verification_codes.delete().where(verification_codes.c.expires_at <= now))).rowcount
        done.password_resets = (await conn.execute(
            password_resets.delete().where(password_resets.c.expires_at <= now))).rowcount
        # the limiter drops old windows only when a key opens a new one; idle keys stay
        done.rate_windows = (await conn.execute(rate_hits.delete().where(
            rate_hits.c.window_start < now - dt.timedelta(days=1)))).rowcount
        if settings.mail_retention_days > 0:
            cutoff = now - dt.timedelta(days=settings.mail_retention_days)
            done.mails = (await conn.execute(email_outbox.delete().where(
                email_outbox.c.status == "sent", email_outbox.c.sent_at < cutoff))).rowcount
        paths, error_rows = [], []
        for jobs in (import_jobs, origin_import_jobs):
            paths += (await conn.execute(sa.select(jobs.c.stored_path).where(
                jobs.c.status.in_(FINISHED_IMPORTS)))).scalars().all()
            # kept a day for 【下载错误行】 (app/students/import_pages.py)
            error_rows += [str(error_rows_path(p)) for p in (await conn.execute(
                sa.select(jobs.c.stored_path).where(
                    jobs.c.status.in_(FINISHED_IMPORTS),
                    jobs.c.finished_at < now - ERROR_ROWS_KEPT))).scalars()]
    done.import_files = await asyncio.to_thread(_remove_files, Path(settings.data_dir), paths)
    done.error_rows_files = await asyncio.to_thread(_remove_files, Path(settings.data_dir),
                                                    error_rows)
    done.orphan_files = await sweep_orphans(db, FileStore(settings.data_dir), now)
    async with db.write() as conn:  # finished exports past EXPORT_KEEP_HOURS (personal data)
        done.export_files = await exports.remove_expired(conn, Path(settings.data_dir) / "exports",
                                                         now)
    return done


ORPHAN_AGE = dt.timedelta(hours=1)  # older than any upload's transaction
ORPHAN_BATCH = 500


async def sweep_orphans(db: Database, store: FileStore, now: dt.datetime) -> int:
    """Stored bytes with no `files` row (a process killed between writing the bytes and
    committing the row; files.save takes back what a rollback leaves): removed once they are
    older than any transaction that could still commit their row."""
    on_disk = await asyncio.to_thread(_stored_before, store, now - ORPHAN_AGE)
    removed = 0
    for i in range(0, len(on_disk), ORPHAN_BATCH):
        batch = on_disk[i:i + ORPHAN_BATCH]
        async with db.read() as conn:
            known = set((await conn.execute(sa.select(files.c.id).where(
                files.c.id.in_(batch)))).scalars())
        orphans = [f for f in batch if f not in known]
        await asyncio.to_thread(lambda: [store.remove(f) for f in orphans])
        removed += len(orphans)
    return removed


def _stored_before(store: FileStore, cutoff: dt.datetime) -> list[str]:
    if not store.folder.is_dir():
        return []
    limit = cutoff.timestamp()
    # ctime: a hard-linked copy (files.copy) is as new as its link, however old its bytes
    return [p.name for p in store.folder.iterdir() if p.is_file() and p.stat().st_ctime < limit]


def _remove_files(data_dir: Path, paths: list[str]) -> list[str]:
    """Remove the files that still exist, and only under DATA_DIR (a row is not a licence
    to delete anything else)."""
    root = data_dir.resolve()
    removed = []
    for raw in paths:
        path = Path(raw).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            continue
        with contextlib.suppress(FileNotFoundError):  # another run got there first
            path.unlink()
            removed.append(raw)
    return removed


async def run_once(db: Database, settings: Settings, clock: Clock, owner: str) -> Swept | None:
    """Sweep if this process wins the period's lease; None when another one has it."""
    now = clock.now()
    period = dt.timedelta(seconds=settings.housekeeping_seconds)
    if not await claim(db, JOB, owner, now, period):
        return None
    done = await sweep(db, settings, now)
    log.info("housekeeping: %s", done)
    return done


async def housekeeping_ctx(app: web.Application) -> AsyncIterator[None]:
    owner = process_name()
    errors = TracebackBudget()  # an outage fails every pass the same way: told once a minute

    async def loop() -> None:
        while True:
            try:
                await run_once(app[DB], app[SETTINGS], app[CLOCK], owner)
            except Exception as exc:  # the loop must outlive a database hiccup
                errors.log(log, "housekeeping failed", exc)
            # wake more often than the period: whichever process wakes first after the
            # lease runs out starts the next period, on time even if the last winner died
            await asyncio.sleep(min(60.0, app[SETTINGS].housekeeping_seconds))
    task = asyncio.create_task(loop(), name="housekeeping")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
