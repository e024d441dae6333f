"""What the .xlsx exports hold: graduates with 生源信息 and destination, the statistics tables,
student records, 生源 review status, and an employer's applicants, as sheets (a
header, a query, how a row becomes cells). The export jobs (app/exports/) write them."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import sqlalchemy as sa

from .. import codes
from ..applications.service import APPLICATION_FLOW
from ..clock import china_time
from ..destinations.codes import DESTINATIONS, label as destination_label
from ..destinations.service import SOURCE_LABELS
from ..destinations.tables import graduate_destinations as gd
from ..fields import FieldSpec
from ..reviews.flows import ORIGIN_FLOW
from ..reviews.origin.fields import EDITABLE, ROLL
from ..reviews.tables import origin_records as orr
from ..tables import applications, colleges, jobs, majors, schools, student_records as sr
from ..xlsx import Sheet
from .groups import GROUPS, group_of, is_employed
from .service import Scope, Statistics

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"




def _coded(spec: FieldSpec) -> bool:
    return spec.area or spec.table is not None


def _origin_header(spec: FieldSpec) -> list[str]:
    return [f"{spec.label}代码", spec.label] if _coded(spec) else [spec.label]


def _origin_cells(spec: FieldSpec, value: str | None) -> list[str]:
    value = value or ""
    if spec.area:
        return [value, codes.area_name(value) if value else ""]
    if spec.table is not None:
        return [value, spec.table.get(value, value)]
    return [value]


# The fixed column order of the graduates export (毕业生去向导出).
GRADUATE_HEADER: list[str] = [
    "学校代码", "学校名称", "学院代码", "学院名称", "专业代码", "专业名称", "学号", "姓名",
    "身份证号", "性别代码", "性别", "学历", "毕业年份", "班级",
    *[h for spec in ROLL + EDITABLE for h in _origin_header(spec)],
    "生源信息状态", "毕业去向代码", "毕业去向", "去向细分代码", "去向细分", "落实率分组", "是否就业",
    "去向来源", "去向生效时间",
]


def _graduate_row(r: Any) -> list[Any]:
    roll, data = r.roll or {}, r.data or {}
    code = r.code or "70"
    sub = DESTINATIONS[code].sub_codes if code in DESTINATIONS else {}
    return [
        r.school_code, r.school_name, r.college_code, r.college_name, r.major_code, r.major_name,
        r.student_no, r.name, r.id_number, r.gender, codes.GENDER.get(r.gender, r.gender),
        r.education, r.graduation_year, r.class_name,
        *[c for spec in ROLL for c in _origin_cells(spec, roll.get(spec.name))],
        *[c for spec in EDITABLE for c in _origin_cells(spec, data.get(spec.name))],
        ORIGIN_FLOW.state_labels.get(r.origin_status, "未导入生源") if r.origin_status else "未导入生源",
        code, destination_label(code), r.sub_code or "", sub.get(r.sub_code or "", ""),
        group_of(code), "是" if is_employed(code) else "否",
        SOURCE_LABELS.get(r.source, r.source or ""), china_time(r.effective_at),
    ]


def _records_query(year: int | None, scope: Scope) -> sa.Select:
    stmt = (sa.select().select_from(sr)
            .join(schools, schools.c.id == sr.c.school_id)
            .join(colleges, colleges.c.id == sr.c.college_id)
            .join(majors, majors.c.id == sr.c.major_id)
            .where(*scope.where())
            .order_by(schools.c.code, colleges.c.code, sr.c.student_no))
    return stmt.where(sr.c.graduation_year == year) if year is not None else stmt


def _student_columns() -> list[Any]:
    return [schools.c.code.label("school_code"), schools.c.name.label("school_name"),
            colleges.c.code.label("college_code"), colleges.c.name.label("college_name"),
            majors.c.code.label("major_code"), majors.c.name.label("major_name"),
            sr.c.student_no, sr.c.name, sr.c.id_number, sr.c.gender, sr.c.education,
            sr.c.graduation_year, sr.c.class_name]


def graduates_query(year: int | None, scope: Scope) -> sa.Select:
    return (_records_query(year, scope)
            .outerjoin(orr, orr.c.student_record_id == sr.c.id)
            .outerjoin(gd, gd.c.student_record_id == sr.c.id)
            .add_columns(*_student_columns(), orr.c.roll, orr.c.data,
                         orr.c.status.label("origin_status"), gd.c.code, gd.c.sub_code,
                         gd.c.source, gd.c.effective_at))


RECORD_HEADER = ["学校代码", "学校名称", "学院代码", "学院名称", "专业代码", "专业名称", "学号", "姓名",
                 "身份证号", "性别代码", "性别", "学历", "毕业年份", "班级", "账号已激活"]


def records_query(year: int | None, scope: Scope) -> sa.Select:
    return _records_query(year, scope).add_columns(*_student_columns(), sr.c.account_id)


def _record_row(r: Any) -> list[Any]:
    return [r.school_code, r.school_name, r.college_code, r.college_name, r.major_code,
            r.major_name, r.student_no, r.name, r.id_number, r.gender,
            codes.GENDER.get(r.gender, r.gender), r.education, r.graduation_year, r.class_name,
            "是" if r.account_id else "否"]


ORIGIN_HEADER = ["学校名称", "学院名称", "专业名称", "学号", "姓名", "生源状态", "送审时间",
                 "审核时间"]


def origin_query(year: int | None, scope: Scope) -> sa.Select:
    return (_records_query(year, scope).outerjoin(orr, orr.c.student_record_id == sr.c.id)
            .add_columns(schools.c.name.label("school_name"), colleges.c.name.label("college_name"),
                         majors.c.name.label("major_name"), sr.c.student_no, sr.c.name,
                         orr.c.status, orr.c.submitted_at, orr.c.reviewed_at))


def _origin_row(r: Any) -> list[Any]:
    return [r.school_name, r.college_name, r.major_name, r.student_no, r.name,
            ORIGIN_FLOW.state_labels.get(r.status, "未导入生源") if r.status else "未导入生源",
            china_time(r.submitted_at), china_time(r.reviewed_at)]


APPLICANT_HEADER = ["岗位", "投递时间", "状态", "姓名", "学号", "学校", "学院", "专业", "学历",
                    "毕业年份", "邮箱", "手机"]


def applicants_query(employer_id: int) -> sa.Select:
    """Applications to this employer's own jobs only."""
    return (sa.select(jobs.c.title, applications.c.created_at, applications.c.status,
                      applications.c.snapshot)
            .join(jobs, jobs.c.id == applications.c.job_id)
            .where(jobs.c.employer_id == employer_id)
            .order_by(jobs.c.id, applications.c.created_at, applications.c.id))


def applicant_row(r: Any) -> list[Any]:
    s = (r.snapshot or {}).get("student", {})
    return [r.title, china_time(r.created_at), APPLICATION_FLOW.state_labels.get(r.status, r.status),
            s.get("name", ""), s.get("student_no", ""), s.get("school", ""), s.get("college", ""),
            s.get("major", ""), s.get("education", ""), s.get("graduation_year", ""),
            s.get("email", ""), s.get("phone", "")]


def statistics_sheets(stats: Statistics) -> list[tuple[str, list[str], list[list[Any]]]]:
    """The page's tables, one sheet each: the same counts and rates."""
    group_names = list(GROUPS)
    header = ["项目", "毕业生人数", "已就业人数", "就业率(%)",
              *[h for g in group_names for h in (f"{g}人数", f"{g}(%)")]]

    def rows(lines: Sequence[Any]) -> list[list[Any]]:
        return [[ln.label, ln.total, ln.employed, ln.rate,
                 *[v for n, pct in zip(ln.groups, ln.group_rates()) for v in (n, pct)]]
                for ln in lines]
    sheets = [("总体", header, rows([stats.overall]))]
    for part in stats.breakdowns:
        sheets.append((part.title, header, rows(part.lines)))
    sheets.append(("按毕业去向", ["落实率分组", "毕业去向代码", "毕业去向", "人数", "占比(%)"],
                   [list(d) for d in stats.destinations]))
    sheets.append(("按周去向落实", ["周（周一）", "新增就业", "累计就业", "累计就业率(%)"],
                   [list(t) for t in stats.trend]))
    return sheets



KINDS: dict[str, tuple[str, Callable[[int | None, Scope], sa.Select], list[str],
                       Callable[[Any], list[Any]]]] = {
    "graduates": ("毕业生去向", graduates_query, GRADUATE_HEADER, _graduate_row),
    "records": ("学生信息", records_query, RECORD_HEADER, _record_row),
    "origin": ("生源审核状态", origin_query, ORIGIN_HEADER, _origin_row),
}


def export_for(kind: str, year: int | None, scope: Scope) -> Sheet:
    title, query, header, to_row = KINDS[kind]
    return Sheet(title, header, query(year, scope), to_row)


def applicants_export(employer_id: int) -> Sheet:
    return Sheet("投递简历", APPLICANT_HEADER, applicants_query(employer_id), applicant_row)


def tables_exports(stats: Statistics) -> list[Sheet]:
    """The statistics tables as sheets of rows in hand."""
    return [Sheet(title, header, rows, list) for title, header, rows in statistics_sheets(stats)]
