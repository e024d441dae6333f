"""Rows in every state a centre's 待办事项 counts, written straight into the tables (the
flows that make them are tested on their own); each builder returns the new row's id."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from app.registration.tables import registrations
from app.reviews.tables import origin_records, recommendations
from app.signing.tables import agreements
from app.tables import (applications, colleges, email_outbox, employers, interview_sessions,
                        interviews, jobs, majors, student_records)
from app.termination.tables import termination_requests
from app.validators import make_id_number
from tests.factories import credit_code

_serial = itertools.count(1)


async def _insert(conn: AsyncConnection, table: sa.Table, **values) -> int:  # noqa: ANN003
    return (await conn.execute(table.insert().values(**values).returning(table.c.id))).scalar_one()


async def second_college(conn: AsyncConnection, school_id: int) -> int:
    """The school's 商学院 (the world's students are all in its first college)."""
    return (await conn.execute(sa.select(colleges.c.id).where(
        colleges.c.school_id == school_id, colleges.c.name == "商学院"))).scalar_one()


async def student(conn: AsyncConnection, school_id: int, college_id: int, now: dt.datetime) -> int:
    n = next(_serial)
    major_id = (await conn.execute(sa.select(majors.c.id).where(
        majors.c.college_id == college_id))).scalars().first()
    return await _insert(conn, student_records, school_id=school_id, student_no=f"T{n:05d}",
                         name=f"待办{n:05d}", id_number=make_id_number("110101", dt.date(2003, 1, 1), n % 1000),
                         gender="1", college_id=college_id, major_id=major_id, education="本科生",
                         graduation_year=2026, imported_at=now, updated_at=now)


async def _where(conn: AsyncConnection, record_id: int) -> dict:
    row = (await conn.execute(sa.select(student_records.c.school_id, student_records.c.college_id)
                              .where(student_records.c.id == record_id))).one()
    return {"school_id": row.school_id, "college_id": row.college_id, "student_record_id": record_id}


async def origin(conn: AsyncConnection, record_id: int, status: str, now: dt.datetime) -> int:
    return await _insert(conn, origin_records, **await _where(conn, record_id), status=status,
                         roll={}, imported={}, data={}, imported_at=now, updated_at=now,
                         submitted_at=now if status != "draft" else None)


async def recommendation(conn: AsyncConnection, record_id: int, status: str, now: dt.datetime) -> int:
    return await _insert(conn, recommendations, **await _where(conn, record_id), status=status,
                         data={}, created_at=now, updated_at=now, submitted_at=now)


async def registration(conn: AsyncConnection, record_id: int, status: str, now: dt.datetime) -> int:
    return await _insert(conn, registrations, **await _where(conn, record_id), status=status,
                         code="46", data={}, files={}, created_at=now, updated_at=now,
                         submitted_at=now)


async def agreement(conn: AsyncConnection, record_id: int, status: str, now: dt.datetime, *,
                    created_by: int, employer_id: int | None = None, channel: str = "online",
                    valid_until: dt.datetime | None = None) -> int:
    return await _insert(conn, agreements, **await _where(conn, record_id), status=status,
                         channel=channel, employer_id=employer_id, created_by=created_by,
                         data={"unit_name": "待办测试单位"}, scans=[], valid_until=valid_until,
                         number=f"TODO{next(_serial):06d}", created_at=now, updated_at=now)


async def termination(conn: AsyncConnection, agreement_id: int, status: str, now: dt.datetime, *,
                      applicant_role: str, applicant_id: int) -> int:
    row = (await conn.execute(sa.select(agreements).where(agreements.c.id == agreement_id))).one()
    return await _insert(conn, termination_requests, agreement_id=agreement_id,
                         student_record_id=row.student_record_id, school_id=row.school_id,
                         college_id=row.college_id, applicant_role=applicant_role,
                         applicant_id=applicant_id, status=status, reason_code="personal_study",
                         reason_text="继续深造", created_at=now, updated_at=now, submitted_at=now)


async def employer(conn: AsyncConnection, status: str, now: dt.datetime) -> int:
    n = next(_serial)
    return await _insert(conn, employers, name=f"待办单位{n:05d}", credit_code=credit_code(1000 + n),
                         status=status, created_at=now, updated_at=now)


async def job(conn: AsyncConnection, employer_id: int, status: str, now: dt.datetime) -> int:
    return await _insert(conn, jobs, employer_id=employer_id, title=f"岗位{next(_serial):05d}",
                         kind="全职", city="重庆", description="待办测试", status=status,
                         created_at=now, updated_at=now)


async def application(conn: AsyncConnection, job_id: int, account_id: int, status: str,
                      now: dt.datetime) -> int:
    return await _insert(conn, applications, job_id=job_id, account_id=account_id, status=status,
                         snapshot={}, created_at=now, updated_at=now)


async def interview(conn: AsyncConnection, application_id: int, starts_at: dt.datetime, status: str,
                    now: dt.datetime) -> int:
    from app.clock import china_date
    app_row = (await conn.execute(
        sa.select(applications.c.account_id, jobs.c.employer_id)
        .join(jobs, jobs.c.id == applications.c.job_id)
        .where(applications.c.id == application_id))).one()
    day = china_date(starts_at)
    session_id = (await conn.execute(sa.select(interview_sessions.c.id).where(
        interview_sessions.c.employer_id == app_row.employer_id,
        interview_sessions.c.day == day))).scalar()
    if session_id is None:
        session_id = await _insert(conn, interview_sessions, employer_id=app_row.employer_id,
                                   day=day, starts_at=starts_at, ends_at=starts_at + dt.timedelta(hours=8),
                                   status="scheduled", created_at=now)
    return await _insert(conn, interviews, session_id=session_id, application_id=application_id,
                         account_id=app_row.account_id, starts_at=starts_at, minutes=20,
                         status=status, created_at=now, updated_at=now)


async def mail(conn: AsyncConnection, status: str, now: dt.datetime) -> int:
    return await _insert(conn, email_outbox, to_addr=f"m{next(_serial):05d}@test.example.cn",
                         subject="待办测试", body_text="正文", template="test", attachments=[],
                         status=status, attempts=0,
                         next_attempt_at=now, created_at=now)


def todos(html: str) -> dict[str, tuple[int, str]]:
    """The 待办事项 of a centre page: key → (count, link)."""
    found = re.findall(r'<a href="([^"]*)" id="todo-([a-z_]+)">[^<]*<span class="badge">(\d+)</span>',
                       html)
    return {key: (int(n), href.replace("&amp;", "&")) for href, key, n in found}
