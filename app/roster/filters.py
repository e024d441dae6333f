"""The filters every list of students shares (学院, 专业, 学历, 毕业年份, free text), with the
options a viewer is offered: their school's own 学院 and 专业, the years their students
graduate in. A counselor's list is their college's; they are offered no 学院 to pick."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..auth.sessions import Identity
from ..codes import EDUCATION
from ..lists.spec import Choice, Options, Text
from ..roles import Role
from ..tables import colleges, majors, schools, student_records as sr


@dataclass(frozen=True)
class Scope:
    """Which students a viewer may list: one college, one school, or every school."""
    school_id: int | None
    college_id: int | None = None

    def where(self, school: Any = sr.c.school_id, college: Any = sr.c.college_id) -> list[Any]:
        out = []
        if self.school_id is not None:
            out.append(school == self.school_id)
        if self.college_id is not None:
            out.append(college == self.college_id)
        return out


class OutOfScope(Exception):
    """The viewer has no school (or college) to list."""


def scope_of(ident: Identity) -> Scope:
    if ident.role == Role.PLATFORM_ADMIN:
        return Scope(None)
    if ident.school_id is None:
        raise OutOfScope()
    if ident.role == Role.COUNSELOR:
        if ident.college_id is None:
            raise OutOfScope()
        return Scope(ident.school_id, ident.college_id)
    return Scope(ident.school_id)


def _is_id(raw: str | None) -> bool:
    return bool(raw) and raw.isascii() and raw.isdigit() and len(raw) < 12


def student_filters(college: Any = sr.c.college_id, *, platform: bool = False,
                    text_label: str = "学号或姓名",
                    text: tuple[Any, ...] = (sr.c.student_no, sr.c.name)) -> tuple[Any, ...]:
    """学校 (a platform admin's), 学院, 专业, 学历, 毕业年份 and free text over 学号/姓名,
    on a list whose rows join student_records as `sr` (`college`: the row's own college
    column where it has one, so the filter uses the list's index)."""
    return (
        *((Choice("school", "学校", lambda v: sr.c.school_id == int(v), placeholder="全部学校"),)
          if platform else ()),
        Choice("college", "学院", lambda v: college == int(v), placeholder="全部学院"),
        Choice("major", "专业", lambda v: sr.c.major_id == int(v), placeholder="全部专业"),
        Choice("education", "学历", lambda v: sr.c.education == v),
        Choice("year", "毕业年份", lambda v: sr.c.graduation_year == int(v)),
        Text("q", text_label, text),
    )


async def options(conn: AsyncConnection, scope: Scope, query: Mapping[str, str]) -> dict[str, Options]:
    """The viewer's choices. A platform admin picks a school first; 学院 then offers that
    school's, and 专业 the chosen 学院's (or the school's, named with their 学院)."""
    out: dict[str, Options] = {}
    school_id = scope.school_id
    if scope.school_id is None:
        out["school"] = [(str(r.id), r.name) for r in await conn.execute(
            sa.select(schools.c.id, schools.c.name).order_by(schools.c.code))]
        raw = query.get("school", "")
        school_id = int(raw) if _is_id(raw) and raw in {v for v, _ in out["school"]} else None
    if school_id is None:
        out["college"], out["major"] = [], []
    else:
        college_rows = list(await conn.execute(
            sa.select(colleges.c.id, colleges.c.name).where(colleges.c.school_id == school_id)
            .order_by(colleges.c.code, colleges.c.id)))
        # a counselor is offered their own college only: a link that names it still works
        out["college"] = [(str(r.id), r.name) for r in college_rows
                          if scope.college_id in (None, r.id)]
        raw = query.get("college", "")
        college_id = scope.college_id or (
            int(raw) if _is_id(raw) and raw in {v for v, _ in out["college"]} else None)
        stmt = (sa.select(majors.c.id, majors.c.name, colleges.c.name.label("college_name"))
                .join(colleges, colleges.c.id == majors.c.college_id)
                .where(colleges.c.school_id == school_id)
                .order_by(colleges.c.code, colleges.c.id, majors.c.code, majors.c.id))
        if college_id is not None:
            stmt = stmt.where(majors.c.college_id == college_id)
        out["major"] = [(str(r.id), r.name if college_id is not None
                         else f"{r.name}（{r.college_name}）") for r in await conn.execute(stmt)]
    # the years and 学历 the students in scope hold, in one pass over them
    held = list(await conn.execute(
        sa.select(sr.c.graduation_year, sr.c.education)
        .where(*Scope(school_id, scope.college_id).where())
        .group_by(sr.c.graduation_year, sr.c.education)))
    out["year"] = [(str(y), f"{y}届") for y in sorted({r[0] for r in held}, reverse=True)]
    # the code table's 学历 first, then any other value the records hold (imported before
    # the table, or by hand): 就业统计 counts every value, and each of its lines links here
    others = sorted({r[1] for r in held} - set(EDUCATION))
    out["education"] = [(e, e) for e in (*EDUCATION, *others)]
    return out


# The first columns of a student-shaped list's export (its rows carry these names).
STUDENT_COLUMNS = (("学号", lambda r: r.student_no), ("姓名", lambda r: r.name),
                   ("学院", lambda r: r.college_name), ("专业", lambda r: r.major_name),
                   ("毕业年份", lambda r: r.graduation_year))
