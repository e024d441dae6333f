"""Test data for the review flows, built through the app's own import and services."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from app.db import Database
from app.reviews.origin.imports import students_of, upsert, check_rows
from app.reviews.tables import origin_records
from app.tables import student_records

ROW = {"political": "03", "origin_area": "500103", "urban_rural": "1", "hardship": "0",
       "normal_student": "2", "mobile": "13800001111", "email": "home@test.example.cn",
       "qq": "", "home_address": "重庆市渝中区解放碑1号", "home_phone": "", "postcode": "400010",
       "hukou_in": "0", "archive_in": "1", "ethnicity": "01", "exam_no": "26500101123456",
       "training_mode": "1"}


async def import_origins(database_url: str, school_id: int, student_nos: list[str],
                         now: dt.datetime, **overrides: str) -> dict[str, int]:
    """Import 生源 rows for these students → {学号: origin id}."""
    db = Database(database_url)
    try:
        async with db.write() as conn:
            students = await students_of(conn, school_id)
            rows = [(i + 2, {"student_no": no, **ROW, **overrides})
                    for i, no in enumerate(student_nos)]
            good, problems = check_rows(rows, students)
            assert problems == [], problems
            await upsert(conn, school_id, good, now)
            ids = {}
            for no in student_nos:
                ids[no] = (await conn.execute(sa.select(origin_records.c.id).where(
                    origin_records.c.student_record_id == students[no].record_id))).scalar_one()
            return ids
    finally:
        await db.dispose()


async def origin_row(database_url: str, origin_id: int) -> sa.Row:
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return (await conn.execute(sa.select(origin_records)
                                       .where(origin_records.c.id == origin_id))).one()
    finally:
        await db.dispose()


async def approved_origin(database_url: str, world, now: dt.datetime, school: int = 0) -> int:  # noqa: ANN001
    """An imported, submitted and counselor-approved 生源 record for the school's active student."""
    from app import workflow
    from app.reviews.flows import ORIGIN_FLOW
    from app.roles import Role

    student = world.active_student(school)
    origin_id = (await import_origins(database_url, world.schools[school].id,
                                      [student.student_no], now))[student.student_no]
    db = Database(database_url)
    try:
        async with db.write() as conn:
            await workflow.transition(conn, ORIGIN_FLOW, origin_id, "submit", at=now,
                                      actor=workflow.Actor(student.account_id, Role.STUDENT))
            await workflow.transition(conn, ORIGIN_FLOW, origin_id, "approve", at=now,
                                      actor=workflow.Actor(world.staff[f"counselor{school}"][1],
                                                           Role.COUNSELOR))
        return origin_id
    finally:
        await db.dispose()


EDUCATIONS = ("本科生", "硕士生", "专科生")


async def submitted_origins(database_url: str, world, now, n: int, school: int = 0):  # noqa: ANN001, ANN201
    """n records of 生源信息 waiting for review (送审) in the school's first 学院, their 学历
    taking turns → [(origin id, 学历)]."""
    sd = world.schools[school]
    db = Database(database_url)
    try:
        async with db.write() as conn:
            out = []
            for i in range(n):
                rid = (await conn.execute(student_records.insert().values(
                    school_id=sd.id, student_no=f"B{school}{i:04d}", name=f"批量{i}",
                    id_number=f"50010320030101{i:04d}", gender="1", college_id=sd.college_ids[0],
                    major_id=sd.major_ids[0], education=EDUCATIONS[i % 3], graduation_year=2026,
                    imported_at=now, updated_at=now).returning(student_records.c.id))).scalar_one()
                data = {"origin_area": "500103"}
                oid = (await conn.execute(origin_records.insert().values(
                    school_id=sd.id, college_id=sd.college_ids[0], student_record_id=rid,
                    status="submitted", roll={}, imported=data, data=data, imported_at=now,
                    updated_at=now, submitted_at=now).returning(origin_records.c.id))).scalar_one()
                out.append((oid, EDUCATIONS[i % 3]))
            return out
    finally:
        await db.dispose()
