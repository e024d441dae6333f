"""Agreements for the review queue's tests, written straight into the tables (the flows
that make them are tested on their own), each with a student of its own and the facts the
list shows, so a test can filter them in plain Python."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.clock import CHINA
from app.db import Database
from app.signing.tables import agreements
from app.tables import employers, student_records
from app.validators import make_id_number

BASE = dt.datetime(2026, 5, 1, 15, 30, tzinfo=dt.timezone.utc)   # 23:30 in China
UNITS = ("重庆示例科技有限公司", "成都云端软件有限公司", "山城物流集团", "Acme 重庆分公司")


@dataclass(frozen=True)
class Made:
    id: int
    record_id: int
    school_id: int
    college_id: int
    major_id: int
    education: str
    year: int
    student_no: str
    name: str
    number: str
    channel: str
    status: str
    unit: str
    updated_at: dt.datetime

    @property
    def day(self) -> dt.date:
        return self.updated_at.astimezone(CHINA).date()


async def _student(conn, school_id: int, college_id: int, major_id: int, education: str,  # noqa: ANN001
                   year: int, n: int, now: dt.datetime) -> tuple[int, str, str]:
    no, name = f"X{n:04d}", f"协议{n:03d}"
    rid = (await conn.execute(student_records.insert().values(
        school_id=school_id, student_no=no, name=name,
        id_number=make_id_number("110101", dt.date(2003, 1, 1), n % 1000), gender="1",
        college_id=college_id, major_id=major_id, education=education, graduation_year=year,
        imported_at=now, updated_at=now).returning(student_records.c.id))).scalar_one()
    return rid, no, name


async def add_agreement(conn, world, n: int, status: str, *, school: int = 0, college: int = 0,  # noqa: ANN001
                        major: int | None = None, education: str = "本科生", year: int = 2026,
                        channel: str = "online", unit: str = UNITS[0], registered: bool = False,
                        updated_at: dt.datetime = BASE) -> Made:
    """An agreement in `status` for a new student of its own (an approval claims the
    student's 毕业去向, so no two share one)."""
    sd = world.schools[school]
    college_id = sd.college_ids[college]
    major_id = major if major is not None else sd.major_ids[college]
    rid, no, name = await _student(conn, sd.id, college_id, major_id, education, year, n, updated_at)
    number = f"AG2026{n:05d}"
    aid = (await conn.execute(agreements.insert().values(
        channel=channel, status=status, student_record_id=rid, school_id=sd.id,
        college_id=college_id, employer_id=world.employer_id if registered else None,
        created_by=world.staff["employer"][1], data={"unit_name": unit}, scans=[], number=number,
        created_at=updated_at, updated_at=updated_at).returning(agreements.c.id))).scalar_one()
    shown = (await conn.execute(sa.select(employers.c.name).where(
        employers.c.id == world.employer_id))).scalar_one() if registered else unit
    return Made(aid, rid, sd.id, college_id, major_id, education, year, no, name, number, channel,
                status, shown, updated_at)


async def make(settings, world, specs: list[dict[str, Any]], first: int = 500) -> list[Made]:  # noqa: ANN001
    db = Database(settings.database_url)
    try:
        async with db.write() as conn:
            return [await add_agreement(conn, world, first + i, **s) for i, s in enumerate(specs)]
    finally:
        await db.dispose()


