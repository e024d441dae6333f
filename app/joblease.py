"""Which process runs a background job, until when: the job row's lease.

Several processes share one database (and a restarted process is a new one). A job is run
by the process whose conditional UPDATE claimed it: `status='queued'`, or `'running'` with
a lease that ran out because its process died. The claim counts runs, so an interrupted job
is resumed once and then given up, never retried forever. Every write the runner makes
afterwards first re-proves the claim on the job row (in the same transaction), so a process
that lost its lease, or whose job was cancelled, writes nothing more.

Any table with `status`, `claimed_by`, `lease_until`, `runs`, `message` and `finished_at`
columns can be leased: the export jobs (app/exports/) and the imports (app/students/).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .db import Database

MAX_RUNS = 2  # the first run and one resume after an interruption
ACTIVE = ("queued", "running")


class LeaseLost(Exception):
    """The job is no longer this process's to run: cancelled, or taken over."""


def _claimable(jobs: sa.Table, now: dt.datetime) -> sa.ColumnElement[bool]:
    expired = sa.or_(jobs.c.lease_until.is_(None), jobs.c.lease_until < now)
    return sa.or_(jobs.c.status == "queued", sa.and_(jobs.c.status == "running", expired))


async def claim(db: Database, jobs: sa.Table, job_id: int, owner: str, now: dt.datetime,
                lease: dt.timedelta, **fresh: Any) -> sa.Row | None:
    """The job row if this process now runs it (with `fresh` values: a resumed job starts
    its progress again); None if another one does, or it is over."""
    async with db.write() as conn:
        return (await conn.execute(
            jobs.update()
            .where(jobs.c.id == job_id, _claimable(jobs, now), jobs.c.runs < MAX_RUNS)
            .values(status="running", claimed_by=owner, lease_until=now + lease,
                    runs=jobs.c.runs + 1, message=None, **fresh)
            .returning(*jobs.c))).first()


async def claimable_ids(db: Database, jobs: sa.Table, now: dt.datetime, interrupted: str,
                        ) -> list[int]:
    """Jobs nobody runs: first the interrupted ones that had their one resume are failed,
    with the message `interrupted`."""
    async with db.write() as conn:
        await conn.execute(
            jobs.update().where(_claimable(jobs, now), jobs.c.runs >= MAX_RUNS)
            .values(status="failed", message=interrupted, finished_at=now, lease_until=None))
        return list((await conn.execute(
            sa.select(jobs.c.id).where(_claimable(jobs, now)).order_by(jobs.c.id))).scalars())


async def hold(conn: AsyncConnection, jobs: sa.Table, job_id: int, owner: str,
               **values: object) -> None:
    """Write to a job this process still runs, or raise LeaseLost. Called first in a write
    transaction, it also locks the job row (PostgreSQL) until the transaction ends, so a
    cancel cannot slip between the check and the rows written after it."""
    done = await conn.execute(jobs.update().where(
        jobs.c.id == job_id, jobs.c.claimed_by == owner, jobs.c.status == "running")
        .values(**values))
    if done.rowcount == 0:
        raise LeaseLost()


async def renew(db: Database, jobs: sa.Table, job_id: int, owner: str, until: dt.datetime,
                ) -> bool:
    try:
        async with db.write() as conn:
            await hold(conn, jobs, job_id, owner, lease_until=until)
    except LeaseLost:
        return False
    return True


async def release(db: Database, jobs: sa.Table, job_id: int, owner: str) -> None:
    """Hand a job back (this process is stopping): the next process to start resumes it."""
    async with db.write() as conn:
        await conn.execute(jobs.update().where(
            jobs.c.id == job_id, jobs.c.claimed_by == owner, jobs.c.status == "running")
            .values(status="queued", claimed_by=None, lease_until=None))
