"""What each role's centre page shows: the data behind 学生中心, 单位中心 and 管理中心."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..auth.sessions import Identity
from ..notify import notices
from . import todo
from ..tables import (accounts, colleges, email_outbox, employers, import_jobs, jobs, majors,
                      schools, student_records)


async def student(conn: AsyncConnection, ident: Identity, now: dt.datetime) -> dict[str, Any]:
    """The record with its 待办事项 counts in one statement, then the latest notices: with the
    session's query, 学生中心 is three queries (tests/test_page_queries.py)."""
    day_start, day_end = todo.day_bounds(now)
    record = (await conn.execute(_STUDENT_CENTRE, {
        "account_id": ident.account_id, "now": now, "day_start": day_start,
        "day_end": day_end})).first()
    return {"record": record, "todos": todo.read(record, _STUDENT_ITEMS) if record else [],
            "notices": await notices.latest(conn, ident.account_id, 5),
            "changes_at": todo.next_change(record, _STUDENT_ITEMS) if record else None}


# Built once with bind parameters: eleven counting subqueries cost more to build than the
# database takes to answer them, on every view of 学生中心.
_STUDENT_ITEMS = todo.student_items(sa.bindparam("account_id"), student_records.c.id,
                                    sa.bindparam("now"),
                                    today=(sa.bindparam("day_start"), sa.bindparam("day_end")))
_STUDENT_CENTRE = todo.with_counts(
    sa.select(student_records, schools.c.name.label("school_name"),
              colleges.c.name.label("college_name"), majors.c.name.label("major_name"),
              accounts.c.email, accounts.c.phone)
    .join(schools, schools.c.id == student_records.c.school_id)
    .join(colleges, colleges.c.id == student_records.c.college_id)
    .join(majors, majors.c.id == student_records.c.major_id)
    .join(accounts, accounts.c.id == student_records.c.account_id)
    .where(student_records.c.account_id == sa.bindparam("account_id")), _STUDENT_ITEMS)


async def employer(conn: AsyncConnection, ident: Identity) -> dict[str, Any]:
    org = (await conn.execute(
        sa.select(employers).where(employers.c.id == ident.employer_id))).first()
    job_rows = list(await conn.execute(
        sa.select(jobs).where(jobs.c.employer_id == ident.employer_id)
        .order_by(jobs.c.created_at.desc())))
    return {"org": org, "jobs": job_rows, "notices": await notices.latest(conn, ident.account_id, 5)}


async def counselor(conn: AsyncConnection, ident: Identity) -> dict[str, Any]:
    college = (await conn.execute(
        sa.select(colleges.c.name, schools.c.name.label("school_name"))
        .join(schools, schools.c.id == colleges.c.school_id)
        .where(colleges.c.id == ident.college_id))).first()
    counts = await _record_counts(conn, student_records.c.college_id == ident.college_id)
    return {"college": college, **counts}


async def school(conn: AsyncConnection, ident: Identity) -> dict[str, Any]:
    school_row = (await conn.execute(
        sa.select(schools).where(schools.c.id == ident.school_id))).first()
    counts = await _record_counts(conn, student_records.c.school_id == ident.school_id)
    recent = list(await conn.execute(
        sa.select(import_jobs).where(import_jobs.c.school_id == ident.school_id)
        .order_by(import_jobs.c.id.desc()).limit(5)))
    return {"school": school_row, "imports": recent, **counts}


async def platform(conn: AsyncConnection, ident: Identity) -> dict[str, Any]:
    def count(table: sa.Table, *where: Any) -> sa.ScalarSelect:
        return sa.select(sa.func.count()).select_from(table).where(*where).scalar_subquery()

    row = (await conn.execute(sa.select(
        count(schools).label("schools"),
        count(employers).label("employers"),
        count(student_records).label("students"),
        count(email_outbox, email_outbox.c.status == "pending").label("pending_mail"),
        count(email_outbox, email_outbox.c.status == "failed").label("failed_mail"),
        count(employers, employers.c.status == "pending").label("pending_employers"),
        count(jobs, jobs.c.status == "pending").label("pending_jobs"),
    ))).one()
    return {"stats": row}


async def _record_counts(conn: AsyncConnection, scope: Any) -> dict[str, int]:
    row = (await conn.execute(sa.select(
        sa.func.count().label("total"),
        sa.func.count(student_records.c.account_id).label("activated"),
    ).where(scope))).one()
    return {"total": row.total, "activated": row.activated}
