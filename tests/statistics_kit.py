"""A generated population of graduates whose statistics are known by construction: records,
生源 and destinations written straight to the database with a fixed seed, and the expected
figures computed here from the same list. Shared by tests/test_statistics.py and
bench/statistics.py."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db import Database
from app.destinations.codes import DESTINATIONS
from app.destinations.tables import graduate_destinations
from app.reviews.tables import origin_records
from app.tables import colleges, majors, schools, student_records

AREAS = ("500103", "500112", "110101", "510104", "520102")   # 重庆×2, 北京, 四川, 贵州
EDUCATIONS = ("本科生", "硕士生", "专科生")
STATUSES = ("draft", "submitted", "returned", "approved")
FIRST_WEEK = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.timezone.utc)   # a Monday, 10:00 in China


@dataclass
class Grad:
    record_id: int
    school_id: int
    college_id: int
    major_id: int
    education: str
    gender: str
    year: int
    area: str | None            # None: no 生源 record
    code: str | None            # None: no destination row (counts as 70)
    sub_code: str | None
    effective_at: dt.datetime | None
    origin_status: str | None = None   # None: no 生源 record


async def make_schools(conn: AsyncConnection, n_schools: int, n_colleges: int, n_majors: int,
                       first: int = 0) -> list[tuple[int, list[tuple[int, int]]]]:
    """[(school id, [(college id, major id) …])]"""
    out = []
    for s in range(first, first + n_schools):
        sid = (await conn.execute(schools.insert().values(code=f"9{s:04d}", name=f"生成大学{s}")
                                  .returning(schools.c.id))).scalar_one()
        pairs = []
        for c in range(n_colleges):
            cid = (await conn.execute(colleges.insert().values(
                school_id=sid, code=f"C{c:02d}", name=f"学院{c}").returning(colleges.c.id))).scalar_one()
            for m in range(n_majors):
                mid = (await conn.execute(majors.insert().values(
                    college_id=cid, code=f"M{c:02d}{m}", name=f"专业{c}-{m}")
                    .returning(majors.c.id))).scalar_one()
                pairs.append((cid, mid))
        out.append((sid, pairs))
    return out


def _code(rng: random.Random) -> tuple[str | None, str | None]:
    pick = rng.choice([None, None, *DESTINATIONS])
    if pick is None:
        return None, None
    subs = list(DESTINATIONS[pick].sub_codes)
    return pick, (rng.choice(subs) if subs else None)


async def populate(conn: AsyncConnection, school_id: int, pairs: list[tuple[int, int]], n: int, *,
                   seed: int, now: dt.datetime, prefix: str = "G",
                   years: tuple[int, ...] = (2026, 2026, 2026, 2025), batch: int = 2000) -> list[Grad]:
    rng = random.Random(seed)
    grads: list[Grad] = []
    for start in range(0, n, batch):
        rows, extra = [], []
        for i in range(start, min(n, start + batch)):
            cid, mid = rng.choice(pairs)
            code, sub = _code(rng)
            area = rng.choice((*AREAS, None))
            when = (FIRST_WEEK + dt.timedelta(days=rng.randrange(0, 63), hours=rng.randrange(0, 14))
                    if code else None)
            rows.append(dict(school_id=school_id, student_no=f"{prefix}{i:06d}", name=f"学生{i}",
                             id_number=f"{seed % 1000:03d}{i:015d}"[:18], gender=rng.choice("12"),
                             college_id=cid, major_id=mid, education=rng.choice(EDUCATIONS),
                             graduation_year=rng.choice(years), class_name=f"{i % 7 + 1}班",
                             imported_at=now, updated_at=now))
            extra.append((area, code, sub, when, rng.choice(STATUSES)))
        ids = [r.id for r in await conn.execute(
            student_records.insert().returning(student_records.c.id, sort_by_parameter_order=True), rows)]
        origins, dests = [], []
        for rid, row, (area, code, sub, when, status) in zip(ids, rows, extra):
            grads.append(Grad(rid, school_id, row["college_id"], row["major_id"], row["education"],
                              row["gender"], row["graduation_year"], area, code, sub, when,
                              status if area is not None else None))
            if area is not None:
                data = {"origin_area": area, "political": "03", "home_address": "重庆市渝中区"}
                # the times the flow writes: 送审 once sent, 审核 once decided
                sent = now if status != "draft" else None
                decided = now if status in ("returned", "approved") else None
                origins.append(dict(school_id=school_id, college_id=row["college_id"],
                                    student_record_id=rid, status=status, roll={"ethnicity": "01"},
                                    imported=data, data=data, imported_at=now, updated_at=now,
                                    submitted_at=sent, reviewed_at=decided))
            if code is not None:
                dests.append(dict(student_record_id=rid, school_id=school_id, college_id=row["college_id"],
                                  code=code, sub_code=sub, source="registration", source_id=rid,
                                  effective_at=when))
        if origins:
            await conn.execute(origin_records.insert(), origins)
        if dests:
            await conn.execute(graduate_destinations.insert(), dests)
    return grads


def week_of(moment: dt.datetime) -> str:
    local = (moment + dt.timedelta(hours=8)).date()
    return (local - dt.timedelta(days=local.weekday())).isoformat()


async def count_rows(conn: AsyncConnection, table: sa.Table) -> int:
    return (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()


def world_grads(world, school: int) -> list[Grad]:  # noqa: ANN001
    sd = world.schools[school]
    return [Grad(s.record_id, sd.id, sd.college_ids[0], sd.major_ids[0], "本科生", "1", 2026,
                 None, None, None, None) for s in world.students if s.school_id == sd.id]


@pytest.fixture
async def population(settings, world, clock):  # noqa: ANN001, ANN201
    """300 generated graduates in school 0 and 200 in school 1, beside the world's own."""
    db = Database(settings.database_url)
    try:
        async with db.write() as conn:
            out = {}
            for i, n in ((0, 300), (1, 200)):
                sd = world.schools[i]
                out[i] = world_grads(world, i) + await populate(
                    conn, sd.id, list(zip(sd.college_ids, sd.major_ids)), n, seed=11 + i,
                    now=clock.now(), prefix=f"P{i}")
        return out
    finally:
        await db.dispose()
