"""The statistics queries: every figure is counted by the database (GROUP BY, one query per
breakdown); Python only turns rows into rates. A graduate without a destination row
counts as 70 待就业 (destinations/codes.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import codes
from ..destinations.codes import UNPLACED, label as destination_label
from ..destinations.tables import graduate_destinations as gd
from ..reviews.tables import origin_records
from ..tables import colleges, majors, schools, student_records as sr
from ..roster.filters import Scope
from .groups import GROUPS, NOT_EMPLOYED


CODE = sa.func.coalesce(gd.c.code, UNPLACED)
ORIGIN_AREA = origin_records.c.data["origin_area"].as_string()
PROVINCE = sa.func.substr(sa.func.coalesce(ORIGIN_AREA, ""), 1, 2)


def graduates(year: int, scope: Scope) -> sa.Select:
    """Every graduate of the year in scope, with its destination (when any) joined."""
    return (sa.select().select_from(sr)
            .outerjoin(gd, gd.c.student_record_id == sr.c.id)
            .where(sr.c.graduation_year == year, *scope.where()))


def _counts() -> list[Any]:
    """total, employed and one count per 落实率 group: the columns every breakdown has."""
    cols = [sa.func.count().label("total"),
            sa.func.sum(sa.case((CODE.in_(NOT_EMPLOYED), 0), else_=1)).label("employed")]
    for i, group_codes in enumerate(GROUPS.values()):
        cols.append(sa.func.sum(sa.case((CODE.in_(group_codes), 1), else_=0)).label(f"g{i}"))
    return cols


@dataclass
class Line:
    """One row of a breakdown table."""
    key: str
    label: str
    total: int
    employed: int
    groups: list[int] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return rate(self.employed, self.total)

    def group_rates(self) -> list[float]:
        return [rate(n, self.total) for n in self.groups]


def rate(part: int, whole: int) -> float:
    """A percentage with one decimal, as the reports print it; 0 for an empty set."""
    return round(100 * part / whole, 1) if whole else 0.0


def _line(row: sa.Row, key: Any, label: str) -> Line:
    return Line(key=str(key if key is not None else ""), label=label, total=int(row.total),
                employed=int(row.employed or 0),
                groups=[int(getattr(row, f"g{i}") or 0) for i in range(len(GROUPS))])


@dataclass
class Breakdown:
    name: str
    title: str
    lines: list[Line]


@dataclass
class Statistics:
    year: int | None
    overall: Line
    breakdowns: list[Breakdown]
    destinations: list[tuple[str, str, str, int, float]]   # group, code, label, count, share
    trend: list[tuple[str, int, int, float]]                # week, new, cumulative, rate


async def years(conn: AsyncConnection, scope: Scope) -> list[int]:
    rows = await conn.execute(sa.select(sr.c.graduation_year).where(*scope.where())
                              .group_by(sr.c.graduation_year).order_by(sr.c.graduation_year.desc()))
    return [r[0] for r in rows]


async def _by(conn: AsyncConnection, year: int, scope: Scope, key: Any, label: Any,
              joins: tuple[tuple[sa.Table, Any], ...] = ()) -> list[sa.Row]:
    stmt = graduates(year, scope)
    for table, on in joins:  # outer: a graduate without a 生源 record still counts (未填写)
        stmt = stmt.outerjoin(table, on)
    stmt = stmt.add_columns(key.label("key"), label.label("label"), *_counts())
    # By the output names: PostgreSQL would not match an expression with bound parameters
    # (the JSON key, substr's bounds) in SELECT to its copy in GROUP BY.
    return list(await conn.execute(stmt.group_by(sa.text("key"), sa.text("label"))
                                   .order_by(sa.text("key"))))


async def by_college(conn: AsyncConnection, year: int, scope: Scope) -> list[Line]:
    rows = await _by(conn, year, scope, colleges.c.id, colleges.c.name,
                     ((colleges, colleges.c.id == sr.c.college_id),))
    return [_line(r, r.key, r.label) for r in rows]


async def by_major(conn: AsyncConnection, year: int, scope: Scope) -> list[Line]:
    rows = await _by(conn, year, scope, majors.c.id, colleges.c.name + " · " + majors.c.name,
                     ((majors, majors.c.id == sr.c.major_id),
                      (colleges, colleges.c.id == majors.c.college_id)))
    return [_line(r, r.key, r.label) for r in rows]


async def by_education(conn: AsyncConnection, year: int, scope: Scope) -> list[Line]:
    rows = await _by(conn, year, scope, sr.c.education, sr.c.education)
    return [_line(r, r.key, r.label) for r in rows]


async def by_gender(conn: AsyncConnection, year: int, scope: Scope) -> list[Line]:
    rows = await _by(conn, year, scope, sr.c.gender, sr.c.gender)
    return [_line(r, r.key, codes.GENDER.get(r.key, r.key)) for r in rows]


async def by_province(conn: AsyncConnection, year: int, scope: Scope) -> list[Line]:
    rows = await _by(conn, year, scope, PROVINCE, PROVINCE,
                     ((origin_records, origin_records.c.student_record_id == sr.c.id),))
    table = codes.areas()
    return [_line(r, r.key, table.get(f"{r.key}0000", r.key) if r.key else "未填写")
            for r in rows]


async def by_school(conn: AsyncConnection, year: int) -> list[Line]:
    """Every school side by side (platform admin)."""
    rows = await _by(conn, year, Scope(None), schools.c.id, schools.c.name,
                     ((schools, schools.c.id == sr.c.school_id),))
    return [_line(r, r.key, r.label) for r in rows]


async def destination_counts(conn: AsyncConnection, year: int, scope: Scope) -> dict[str, int]:
    """Graduates per 毕业去向 code (70 for those without a destination row)."""
    stmt = graduates(year, scope).add_columns(CODE.label("dest_code"), sa.func.count().label("n"))
    return {r.dest_code: int(r.n) for r in await conn.execute(stmt.group_by(sa.text("dest_code")))}


def overall_of(counts: dict[str, int]) -> Line:
    """The whole scope's line, summed from its per-code counts (every graduate has one code)."""
    total = sum(counts.values())
    return Line("all", "合计", total, sum(n for c, n in counts.items() if c not in NOT_EMPLOYED),
                [sum(counts.get(c, 0) for c in group_codes) for group_codes in GROUPS.values()])


def destination_lines(counts: dict[str, int], total: int) -> list[tuple[str, str, str, int, float]]:
    """(group, code, label, count, share of all graduates) for every 毕业去向 code, in group order."""
    found = dict(counts)
    out = []
    for group, group_codes in GROUPS.items():
        for code in group_codes:
            n = found.pop(code, 0)
            out.append((group, code, destination_label(code), n, rate(n, total)))
    for code, n in sorted(found.items()):  # a code outside the table still shows, not vanishes
        out.append(("", code, code, n, rate(n, total)))
    return out


def _week_expr(is_sqlite: bool) -> Any:
    """The Monday (China time) of the week a destination became effective."""
    if is_sqlite:
        return sa.func.date(gd.c.effective_at, "+8 hours", "-6 days", "weekday 1")
    return sa.cast(sa.func.date_trunc("week", sa.func.timezone("Asia/Shanghai", gd.c.effective_at)),
                   sa.Date)


async def trend(conn: AsyncConnection, year: int, scope: Scope, total: int,
                is_sqlite: bool) -> list[tuple[str, int, int, float]]:
    """Per week: graduates newly employed, the cumulative count and the 就业率 it made."""
    week = _week_expr(is_sqlite)
    stmt = (sa.select(week.label("week"), sa.func.count().label("n")).select_from(gd)
            .join(sr, sr.c.id == gd.c.student_record_id)
            .where(sr.c.graduation_year == year, gd.c.code.not_in(NOT_EMPLOYED), *scope.where())
            .group_by(sa.text("week")).order_by(sa.text("week")))
    out, running = [], 0
    for row in await conn.execute(stmt):
        running += int(row.n)
        day = row.week if isinstance(row.week, str) else row.week.isoformat()
        out.append((day, int(row.n), running, rate(running, total)))
    return out


BREAKDOWNS = (("college", "按学院", by_college), ("major", "按专业", by_major),
              ("education", "按学历", by_education), ("gender", "按性别", by_gender),
              ("province", "按生源所在地（省）", by_province))


async def build(conn: AsyncConnection, year: int | None, scope: Scope, *,
                is_sqlite: bool, with_schools: bool = False) -> Statistics:
    if year is None:
        empty = Line("all", "合计", 0, 0, [0] * len(GROUPS))
        return Statistics(None, empty, [], [], [])
    counts = await destination_counts(conn, year, scope)
    total_line = overall_of(counts)
    parts = []
    if with_schools:
        parts.append(Breakdown("school", "按学校", await by_school(conn, year)))
    for name, title, query in BREAKDOWNS:
        if name == "college" and scope.college_id is not None:
            continue
        # Across every school the 按学校 table takes their place: a college or major is one
        # school's, and a province-wide list of them is read school by school.
        if name in ("college", "major") and scope.school_id is None:
            continue
        parts.append(Breakdown(name, title, await query(conn, year, scope)))
    return Statistics(
        year=year, overall=total_line, breakdowns=parts,
        destinations=destination_lines(counts, total_line.total),
        trend=await trend(conn, year, scope, total_line.total, is_sqlite))


async def colleges_of(conn: AsyncConnection, school_id: int) -> list[tuple[int, str]]:
    rows = await conn.execute(sa.select(colleges.c.id, colleges.c.name)
                              .where(colleges.c.school_id == school_id).order_by(colleges.c.code))
    return [(r.id, r.name) for r in rows]


async def all_schools(conn: AsyncConnection) -> list[tuple[int, str]]:
    rows = await conn.execute(sa.select(schools.c.id, schools.c.name).order_by(schools.c.code))
    return [(r.id, r.name) for r in rows]
