"""Student records: the school's catalogue, upserting imported rows, scoped listing."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..codes import EDUCATION, GENDER
from ..tables import colleges, majors, schools, student_records
from .parsing import Catalogue, RecordIn

RECORD_FIELDS = ("name", "id_number", "gender", "college_id", "major_id", "education",
                 "graduation_year", "class_name")


async def school_by_code(conn: AsyncConnection, code: str) -> sa.Row | None:
    return (await conn.execute(sa.select(schools).where(schools.c.code == code))).first()


async def catalogue(conn: AsyncConnection, school_id: int) -> Catalogue:
    college_map: dict[str, int] = {}
    for row in await conn.execute(sa.select(colleges).where(colleges.c.school_id == school_id)):
        college_map[row.code] = row.id
        college_map[row.name] = row.id
    major_map: dict[tuple[int, str], int] = {}
    for row in await conn.execute(
            sa.select(majors).join(colleges, colleges.c.id == majors.c.college_id)
            .where(colleges.c.school_id == school_id)):
        major_map[(row.college_id, row.code)] = row.id
        major_map[(row.college_id, row.name)] = row.id
    return Catalogue(colleges=college_map, majors=major_map)


async def choices(conn: AsyncConnection, school_id: int) -> dict[str, list[str]]:
    """The drop-downs of the import's workbooks: the school's 学院 and 专业 by name (the
    first 学院's 专业 first, so the template's example row names a pair that exists), 性别
    and 学历."""
    college_names = list((await conn.execute(
        sa.select(colleges.c.name).where(colleges.c.school_id == school_id)
        .order_by(colleges.c.code, colleges.c.id))).scalars())
    major_names = (await conn.execute(
        sa.select(majors.c.name).join(colleges, colleges.c.id == majors.c.college_id)
        .where(colleges.c.school_id == school_id)
        .order_by(colleges.c.code, colleges.c.id, majors.c.code, majors.c.id))).scalars()
    return {"college": college_names, "major": list(dict.fromkeys(major_names)),
            "gender": list(GENDER.values()), "education": list(EDUCATION)}


async def upsert(conn: AsyncConnection, school_id: int, records: list[RecordIn],
                 now: dt.datetime) -> tuple[int, int]:
    """Insert new records and update existing ones (same school and 学号). → (created, updated)."""
    if not records:
        return 0, 0
    sr = student_records
    existing = {row.student_no: row for row in await conn.execute(
        sa.select(sr).where(sr.c.school_id == school_id,
                            sr.c.student_no.in_([r.student_no for r in records])))}
    created = updated = 0
    inserts = []
    for rec in records:
        values = {k: getattr(rec, k) for k in RECORD_FIELDS}  # not asdict: it deep-copies
        old = existing.get(rec.student_no)
        if old is None:
            inserts.append({**values, "school_id": school_id, "student_no": rec.student_no,
                            "imported_at": now, "updated_at": now})
            created += 1
        elif any(getattr(old, k) != v for k, v in values.items()):
            await conn.execute(sr.update().where(sr.c.id == old.id)
                               .values(**values, updated_at=now))
            updated += 1
    if inserts:
        await conn.execute(sr.insert(), inserts)
    return created, updated

