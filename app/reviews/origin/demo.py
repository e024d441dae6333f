"""Demo 生源 records, so the demo student can try 【生源信息核对】 at once (app/demo.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncConnection

from .imports import check_rows, students_of, upsert

COUNTIES = ("500103", "500106", "500112", "510107", "500229")


async def load_origins(conn: AsyncConnection, school_id: int, now: dt.datetime) -> None:
    students = await students_of(conn, school_id)
    rows = [(i + 2, {"student_no": no, "ethnicity": "01", "political": "03",
                     "origin_area": COUNTIES[i % len(COUNTIES)], "urban_rural": str(1 + i % 2),
                     "hardship": "0", "normal_student": "2", "mobile": f"1380000{i + 1:04d}",
                     "email": f"home{i + 1}@demo.example.cn", "home_address": "重庆市渝中区民族路1号",
                     "postcode": "400010", "hukou_in": "0", "archive_in": "1",
                     "training_mode": "1", "study_years": "4",
                     "enroll_month": f"{now.year - 4 if now.month < 9 else now.year - 3}-09"})
            for i, no in enumerate(sorted(students))]
    good, problems = check_rows(rows, students)
    if problems:  # demo data is ours: a problem here is a bug
        raise RuntimeError(f"demo 生源 rows rejected: {problems[:3]}")
    await upsert(conn, school_id, good, now)
