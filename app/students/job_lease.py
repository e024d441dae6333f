"""The import jobs' leases (app/joblease.py): what an import adds to the shared rules is its
message when interrupted twice, the progress a resumed run starts again from, and a
cancel scoped to the school."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from ..db import Database
from ..joblease import ACTIVE, MAX_RUNS, LeaseLost, hold, release, renew  # noqa: F401 (the imports' names)
from .. import joblease

INTERRUPTED = "导入两次被中断（服务重启），已停止；请重新上传文件导入"


async def claim(db: Database, jobs: sa.Table, job_id: int, owner: str, now: dt.datetime,
                lease: dt.timedelta) -> sa.Row | None:
    """joblease.claim; a resumed run reports its rows afresh."""
    return await joblease.claim(db, jobs, job_id, owner, now, lease, processed_rows=0, errors=[])


async def claimable_ids(db: Database, jobs: sa.Table, now: dt.datetime) -> list[int]:
    return await joblease.claimable_ids(db, jobs, now, INTERRUPTED)


async def cancel(db: Database, jobs: sa.Table, job_id: int, school_id: int,
                 now: dt.datetime) -> bool:
    """Mark a queued or running job of the school cancelled; False if it had already ended.
    The process running it notices at its next lease renewal or chunk."""
    async with db.write() as conn:
        done = await conn.execute(jobs.update().where(
            jobs.c.id == job_id, jobs.c.school_id == school_id, jobs.c.status.in_(ACTIVE))
            .values(status="cancelled", finished_at=now, lease_until=None))
    return done.rowcount > 0
