"""Importing 生源 records: the file's columns, row checks (pure) and the job runner.

Reuses the student-record import: the same file reading, per-row report, progress and
resumable jobs (ImportRunner), with this module's columns, checks and upsert.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ... import codes
from ...students.cleaning import county_synonyms, table_synonyms
from ...students.import_spec import EXAMPLE_MARK, ImportSpec
from ...students.imports import ImportRunner
from ...students.parsing import Problem
from ...tables import student_records
from ..flows import ORIGIN_FLOW, OriginState
from ..tables import origin_import_jobs, origin_records
from .fields import EDITABLE, ROLL, clean_values

ALIASES = {"mobile": ("手机", "手机号"), "sponsor": ("定向/委培单位", "定向委培单位")}
COLUMNS: dict[str, tuple[str, ...]] = {
    "student_no": ("学号",), "name": ("姓名",),
    **{f.name: ALIASES.get(f.name, (f.label,)) for f in ROLL + EDITABLE},
}
REQUIRED = ("student_no",)
LABELS = {field: names[0] for field, names in COLUMNS.items()}
TEMPLATE_HEADER = [names[0] for names in COLUMNS.values()]
EDITABLE_STATES = (OriginState.DRAFT.value, OriginState.RETURNED.value)
SYNONYMS = {"political": codes.POLITICAL_SYNONYMS, "ethnicity": codes.ETHNICITY_SYNONYMS,
            "training_mode": codes.TRAINING_MODE_SYNONYMS,
            "urban_rural": codes.URBAN_RURAL_SYNONYMS, "hardship": codes.HARDSHIP_SYNONYMS,
            "normal_student": codes.NORMAL_STUDENT_SYNONYMS,
            "hukou_in": codes.YES_NO_SYNONYMS, "archive_in": codes.YES_NO_SYNONYMS}
NOTES = {"student_no": "必填，须已在学生信息中；同一学号再次导入会更新原记录",
         "name": "可不填；填写时须与学生信息中的姓名一致",
         "origin_area": "6位区县代码，或下拉选项中的“代码 名称”",
         "mobile": "11位手机号", "enroll_month": "如 2022-09", "graduation_date": "如 2026-06"}
ORIGINS = ImportSpec(
    title="生源信息", columns=COLUMNS, required=REQUIRED,
    synonyms={"origin_area": county_synonyms,
              **{name: table_synonyms(table) for name, table in SYNONYMS.items()}},
    compact=("student_no", "exam_no", "mobile", "email", "qq", "home_phone", "postcode",
             *SYNONYMS),  # not 生源所在地: "500103 重庆市渝中区" is how its drop-down reads
    example={"student_no": EXAMPLE_MARK, "name": "张三", "ethnicity": "汉族",
             "training_mode": "非定向", "study_years": "4", "enroll_month": "{enrolled}-09",
             "graduation_date": "{year}-06", "political": "共青团员",
             "origin_area": "500103 重庆市渝中区", "urban_rural": "城镇", "hardship": "非困难生",
             "normal_student": "非师范生", "mobile": "13800000000",
             "email": "zhangsan@example.com", "home_address": "重庆市渝中区解放碑1号",
             "postcode": "400010", "hukou_in": "否", "archive_in": "是"},
    notes={**{f.name: "可填代码或名称（见下拉选项）" for f in ROLL + EDITABLE if f.table},
           **NOTES},
)


def choices() -> dict[str, list[str]]:
    """The drop-downs of the template: every code table's labels, and the counties."""
    lists = {f.name: list(f.table.values()) for f in ROLL + EDITABLE if f.table}
    lists["origin_area"] = [f"{code} {name}" for code, name in codes.county_choices()]
    return lists


@dataclass(frozen=True)
class Student:
    record_id: int
    name: str
    college_id: int


@dataclass(frozen=True)
class OriginIn:
    row: int
    student_record_id: int
    college_id: int
    roll: dict[str, str]
    imported: dict[str, str]


def check_rows(rows: Iterable[tuple[int, dict[str, str]]], students: Mapping[str, Student],
               first_seen: dict[str, int] | None = None) -> tuple[list[OriginIn], list[Problem]]:
    """Check every row against the school's students; `first_seen` (学号 → its row) spans
    the file when its rows come a chunk at a time (see app/students/parsing.py)."""
    good: list[OriginIn] = []
    problems: list[Problem] = []
    first_seen = {} if first_seen is None else first_seen
    for number, raw in rows:
        found: list[Problem] = []
        no = raw.get("student_no", "")
        student = students.get(no)
        if not no:
            found.append(Problem(number, "学号", "不能为空"))
        elif student is None:
            found.append(Problem(number, "学号", f"学校没有学号为“{no}”的学生，请先导入学生信息",
                                 "学校没有这个学号的学生，请先导入学生信息"))
        elif raw.get("name") and raw["name"] != student.name:
            found.append(Problem(number, "姓名", "与学生信息中的姓名不一致"))
        elif no in first_seen:
            found.append(Problem(number, "学号", f"与第{first_seen[no]}行学号重复",
                                 "与文件中前面一行的学号重复"))
        roll, roll_errors = clean_values(raw, ROLL, complete=False)
        imported, edit_errors = clean_values(raw, EDITABLE, complete=False)
        for name, reason in {**roll_errors, **edit_errors}.items():
            found.append(Problem(number, LABELS[name], reason))
        if found:
            problems.extend(found)
            continue
        first_seen[no] = number
        good.append(OriginIn(number, student.record_id, student.college_id, roll, imported))
    return good, problems


async def students_of(conn: AsyncConnection, school_id: int) -> dict[str, Student]:
    sr = student_records
    rows = await conn.execute(sa.select(sr.c.id, sr.c.student_no, sr.c.name, sr.c.college_id)
                              .where(sr.c.school_id == school_id))
    return {r.student_no: Student(r.id, r.name, r.college_id) for r in rows}


async def upsert(conn: AsyncConnection, school_id: int, records: list[OriginIn],
                 now: dt.datetime) -> tuple[int, int]:
    """New records start in the flow's first state; a re-import updates 学籍 and the
    imported values, and the student's values only where the student left them as imported
    and the record is still being edited (a submitted or approved record is not touched)."""
    if not records:
        return 0, 0
    o = origin_records
    existing = {r.student_record_id: r for r in await conn.execute(
        sa.select(o).where(o.c.student_record_id.in_([r.student_record_id for r in records])))}
    created = updated = 0
    inserts = []
    for rec in records:
        old = existing.get(rec.student_record_id)
        if old is None:
            inserts.append({"school_id": school_id, "college_id": rec.college_id,
                            "student_record_id": rec.student_record_id,
                            "status": ORIGIN_FLOW.initial.value, "roll": rec.roll,
                            "imported": rec.imported, "data": dict(rec.imported),
                            "imported_at": now, "updated_at": now})
            created += 1
            continue
        data = dict(old.data)
        if old.status in EDITABLE_STATES:
            for name, value in rec.imported.items():
                if (data.get(name) or "") == (old.imported.get(name) or ""):
                    data[name] = value
        if old.roll != rec.roll or old.imported != rec.imported or old.data != data:
            await conn.execute(o.update().where(o.c.id == old.id).values(
                roll=rec.roll, imported=rec.imported, data=data, college_id=rec.college_id,
                imported_at=now, updated_at=now))
            updated += 1
    if inserts:
        await conn.execute(o.insert(), inserts)
    return created, updated


class OriginImportRunner(ImportRunner):
    jobs = origin_import_jobs
    folder_name = "origin-imports"
    spec = ORIGINS

    async def catalogue(self, conn, school_id: int):  # noqa: ANN001, ANN201
        return await students_of(conn, school_id)

    async def choices(self, conn, school_id: int) -> dict[str, list[str]]:  # noqa: ANN001
        return choices()

    def check(self, rows: list, catalogue, first_seen: dict[str, int],  # noqa: ANN001
              ) -> tuple[list, list]:
        return check_rows(rows, catalogue, first_seen)

    async def upsert(self, conn, school_id: int, chunk: list, now) -> tuple[int, int]:  # noqa: ANN001
        return await upsert(conn, school_id, chunk, now)
