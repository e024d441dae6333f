"""An employer's applicants of one job as a staff-style list (app/lists): filtered by state,
school, 学历, 毕业年份, date sent and text, sorted, paged and counted; exported exactly as
filtered. Rows show the resume snapshot as it was sent; filters read the student's record."""

from __future__ import annotations

from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..codes import EDUCATION
from ..lists.spec import Choice, Column, DateRange, ListSpec, Resolved, Text, resolve
from ..tables import applications as ap, jobs, majors, schools, student_records as sr
from .service import APPLICATION_FLOW, ApplicationState

SHOWN_STATES = {k: v for k, v in APPLICATION_FLOW.state_labels.items()
                if k != ApplicationState.WITHDRAWN}   # a withdrawn application is not shown

SPEC = ListSpec(
    route="applicants",
    filters=(
        Choice("status", "状态", lambda v: ap.c.status == v, options=list(SHOWN_STATES.items())),
        Choice("school", "学校", lambda v: sr.c.school_id == int(v), placeholder="全部学校"),
        Choice("education", "学历", lambda v: sr.c.education == v, options=[(e, e) for e in EDUCATION]),
        Choice("year", "毕业年份", lambda v: sr.c.graduation_year == int(v)),
        DateRange("sent", "投递日期", ap.c.created_at),
        Text("q", "姓名、学校或专业", (sr.c.name, schools.c.name, majors.c.name)),
    ),
    columns=(
        Column("name", "姓名", sr.c.name), Column("school", "学校", schools.c.code),
        Column("major", "专业", majors.c.name), Column("education", "学历", sr.c.education),
        Column("year", "毕业年份", sr.c.graduation_year), Column("sent", "投递时间", ap.c.created_at),
        Column("status", "状态", ap.c.status),
    ),
    default_sort="-sent", tiebreak=ap.c.id)


def rows(job_id: int) -> sa.Select:
    """The job's applications (the caller checked the job is the employer's own)."""
    return (sa.select(ap.c.id, ap.c.status, ap.c.created_at, ap.c.snapshot,
                      jobs.c.title)
            .join(jobs, jobs.c.id == ap.c.job_id)
            .join(sr, sr.c.account_id == ap.c.account_id)
            .join(schools, schools.c.id == sr.c.school_id)
            .join(majors, majors.c.id == sr.c.major_id)
            .where(ap.c.job_id == job_id, ap.c.status != ApplicationState.WITHDRAWN))


async def read(conn: AsyncConnection, job_id: int, query: Mapping[str, str]) -> Resolved:
    """The list as asked, the school and year options being those of the job's applicants."""
    mine = rows(job_id).with_only_columns(sr.c.school_id, schools.c.name, sr.c.graduation_year)
    found = list(await conn.execute(mine))
    options = {"school": sorted({(str(r.school_id), r.name) for r in found}, key=lambda o: o[1]),
               "year": [(str(y), f"{y}届") for y in sorted({r.graduation_year for r in found},
                                                           reverse=True)]}
    return resolve(SPEC, query, options)


def filtered(job_id: int, resolved: Resolved) -> sa.Select:
    return rows(job_id).where(*resolved.where()).order_by(*resolved.order_by())


def student(row: Any) -> dict[str, Any]:
    return (row.snapshot or {}).get("student", {})
