"""岗位审核 as a staff list (app/lists): jobs by state (待审核 first, the oldest submission
first), 类型, 单位, 提交日期 and text; sortable, paged, counted."""

from __future__ import annotations

from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..clock import china_time
from ..lists.spec import Choice, Column, DateRange, ListSpec, Resolved, Text, resolve
from ..tables import employers, jobs
from .service import JOB_FLOW, JobState

SPEC = ListSpec(
    route="admin_jobs",
    filters=(
        Choice("state", "状态", lambda v: jobs.c.status == v, options=list(JOB_FLOW.state_labels.items()),
               default=JobState.PENDING.value),
        Choice("kind", "类型", lambda v: jobs.c.kind == v, options=[("全职", "全职"), ("实习", "实习")]),
        DateRange("submitted", "提交日期", jobs.c.updated_at),
        Text("q", "岗位、单位或城市", (jobs.c.title, employers.c.name, jobs.c.city)),
    ),
    columns=(
        Column("title", "岗位", jobs.c.title), Column("employer", "单位", employers.c.name),
        Column("city", "城市", jobs.c.city), Column("submitted", "提交时间", jobs.c.updated_at),
        Column("state", "状态", jobs.c.status),
    ),
    default_sort="submitted", tiebreak=jobs.c.id)


def rows(ident: Any = None) -> sa.Select:
    return (sa.select(jobs.c.id, jobs.c.title, jobs.c.city, jobs.c.kind, jobs.c.status,
                      jobs.c.updated_at, employers.c.name.label("employer_name"))
            .join(employers, employers.c.id == jobs.c.employer_id))


async def read(conn: AsyncConnection, ident: Any, query: Mapping[str, str]) -> Resolved:
    """(The platform admin sees every job: `ident` is the queue's shape, not a scope.)"""
    return resolve(SPEC, query)


def ids(ident: Any, resolved: Resolved) -> sa.Select:
    return (sa.select(jobs.c.id).join(employers, employers.c.id == jobs.c.employer_id)
            .where(*resolved.where()).order_by(*resolved.order_by()))


EXPORT = (("岗位", lambda r: r.title), ("单位", lambda r: r.employer_name), ("城市", lambda r: r.city),
          ("类型", lambda r: r.kind), ("提交时间", lambda r: china_time(r.updated_at)),
          ("状态", lambda r: JOB_FLOW.state_label(r.status)))
