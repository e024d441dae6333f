"""Export jobs: asked for, found again, listed, and removed when they expire."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Mapping

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..auth.sessions import Identity
from ..joblease import ACTIVE
from ..tables import accounts
from ..workflow import NotAllowed
from .kinds import KINDS
from .tables import export_jobs as ej

LISTED = 30  # 我的导出 shows the latest ones


class TooMany(NotAllowed):
    """This user has as many exports queued or running as allowed."""


def _same_as(kind: str, params: dict) -> str:
    return hashlib.sha256(json.dumps([kind, params], sort_keys=True).encode()).hexdigest()


async def ask(conn: AsyncConnection, ident: Identity, kind_name: str, query: Mapping[str, str],
              *, now: dt.datetime, per_user: int, quota_bytes: int = 0) -> tuple[int, bool]:
    """(the job's id, whether it is new). The same export asked again while one runs is that
    one; past `per_user` queued or running, TooMany; and while the user's finished files
    not yet expired hold `quota_bytes` (STORAGE_QUOTA_BYTES; 0: no limit), TooMany too: an
    export is bytes kept for a day on the server's disk, like an upload. Counted under a
    lock on the user's account row, so concurrent clicks cannot pass the bounds together
    (PostgreSQL; SQLite writes one transaction at a time anyway)."""
    kind = KINDS.get(kind_name)
    if kind is None or ident.role not in kind.roles:
        raise NotAllowed("无权导出")
    asked = await kind.ask(conn, ident, query)
    same_as = _same_as(kind_name, asked.params)
    await conn.execute(sa.select(accounts.c.id).where(accounts.c.id == ident.account_id)
                       .with_for_update())
    active = list(await conn.execute(sa.select(ej.c.id, ej.c.same_as).where(
        ej.c.account_id == ident.account_id, ej.c.status.in_(ACTIVE))))
    for row in active:
        if row.same_as == same_as:
            return row.id, False
    if len(active) >= per_user:
        raise TooMany(f"您已有 {len(active)} 个导出正在进行，请等其中一个完成后再导出")
    if quota_bytes:
        kept = (await conn.execute(sa.select(sa.func.coalesce(sa.func.sum(ej.c.size_bytes), 0))
                                   .where(ej.c.account_id == ident.account_id,
                                          ej.c.status == "done", ej.c.expires_at > now))).scalar_one()
        if kept >= quota_bytes:
            raise TooMany(f"您的导出文件已占用 {kept / 2**20:.1f} MB（上限 {quota_bytes / 2**20:g} MB），"
                          "请等较早的文件过期（导出后保留一天）再导出")
    params = {**asked.params, "about": asked.about}
    job_id = (await conn.execute(ej.insert().values(
        account_id=ident.account_id, kind=kind_name, params=params, same_as=same_as,
        title=asked.title[:200], status="queued", created_at=now).returning(ej.c.id))).scalar_one()
    return job_id, True


async def mine(conn: AsyncConnection, ident: Identity) -> list[sa.Row]:
    return list(await conn.execute(sa.select(ej).where(ej.c.account_id == ident.account_id)
                                   .order_by(ej.c.id.desc()).limit(LISTED)))


async def one(conn: AsyncConnection, ident: Identity, job_id: int) -> sa.Row | None:
    """The job, only for its owner (anyone else: as if it did not exist)."""
    return (await conn.execute(sa.select(ej).where(
        ej.c.id == job_id, ej.c.account_id == ident.account_id))).first()


def eta_seconds(job: sa.Row, now: dt.datetime) -> int | None:
    """Time left at the pace so far, once there is a pace to go by."""
    if job.status != "running" or not job.total_rows or not job.processed_rows \
            or job.started_at is None:
        return None
    spent = (now - job.started_at).total_seconds()
    left = job.total_rows - job.processed_rows
    return max(0, round(spent / job.processed_rows * left))


ORPHAN_AGE = dt.timedelta(hours=1)  # longer than any export takes to write


async def remove_expired(conn: AsyncConnection, folder: Path, now: dt.datetime) -> int:
    """Housekeeping: files past their day are deleted and their rows say so; a file no job
    names (a process killed while writing it) goes after an hour; jobs older than a week
    go. The number of files removed. The folder is listed and the files deleted in a
    thread: no directory I/O on the loop, none while the write lock waits on it."""
    expired = list(await conn.execute(sa.select(ej.c.id, ej.c.stored_name).where(
        ej.c.status == "done", ej.c.expires_at < now)))
    if expired:
        await conn.execute(ej.update().where(ej.c.id.in_([r.id for r in expired]))
                           .values(status="expired", stored_name=None))
    await conn.execute(ej.delete().where(ej.c.created_at < now - dt.timedelta(days=7),
                                         ej.c.status.notin_(ACTIVE)))
    named = set((await conn.execute(sa.select(ej.c.stored_name).where(
        ej.c.stored_name.is_not(None)))).scalars())
    gone = [r.stored_name for r in expired if r.stored_name]
    return len(expired) + await asyncio.to_thread(_remove_files, folder, gone, named,
                                                  now - ORPHAN_AGE)


def _remove_files(folder: Path, gone: list[str], named: set[str], cutoff: dt.datetime) -> int:
    """Delete the expired files, then the ones no job names older than `cutoff`; the
    number of orphans removed."""
    for name in gone:
        (folder / name).unlink(missing_ok=True)
    orphans = [p for p in (folder.iterdir() if folder.is_dir() else ())
               if p.is_file() and p.name not in named
               and dt.datetime.fromtimestamp(p.stat().st_mtime, dt.timezone.utc) < cutoff]
    for path in orphans:
        path.unlink(missing_ok=True)
    return len(orphans)
