"""Reading student record files (csv or xlsx) and checking each row.

Pure functions: no database. Every cell is first tidied and its synonyms replaced
(cleaning.py); `check_row` then turns one row into a clean record or a list of (field,
reason) problems, given the school's colleges and majors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Mapping

from .. import codes
from ..validators import Invalid, gender_from_id, normalize_id_number
from .cleaning import Cleaner, table_synonyms
from .import_spec import EXAMPLE_MARK, ImportSpec
from .sheets import NO_DATA_ROWS, FileProblem, ReadLimits, Source, formulas_problem, table_rows

# Column header → field. The first name is the one the template file uses.
COLUMNS: dict[str, tuple[str, ...]] = {
    "student_no": ("学号",),
    "name": ("姓名",),
    "id_number": ("身份证号", "身份证号码", "身份证"),
    "gender": ("性别",),
    "college": ("学院", "院系", "学院名称"),
    "major": ("专业", "专业名称"),
    "education": ("学历", "学历层次"),
    "graduation_year": ("毕业年份", "届别"),
    "class_name": ("班级",),
}
REQUIRED = ("student_no", "name", "id_number", "college", "major", "education", "graduation_year")
LABELS = {field: names[0] for field, names in COLUMNS.items()}

EDUCATION = codes.EDUCATION
EDUCATION_ALIASES = codes.EDUCATION_SYNONYMS  # for callers that check rows they did not clean
GENDERS = {"男": "1", "1": "1", "女": "2", "2": "2"}

STUDENTS = ImportSpec(
    title="学生信息", columns=COLUMNS, required=REQUIRED,
    synonyms={"gender": table_synonyms(codes.GENDER_SYNONYMS),
              "education": table_synonyms(codes.EDUCATION_SYNONYMS)},
    compact=("student_no", "id_number", "gender", "education", "graduation_year"),
    # GB 11643's own sample number: valid, and nobody's
    example={"student_no": EXAMPLE_MARK, "name": "张三", "id_number": "11010519491231002X",
             "gender": "女", "education": "本科生", "graduation_year": "{year}",
             "class_name": "软件工程1班"},
    notes={"student_no": "必填，最多32位；同一学号再次导入会更新原记录",
           "name": "必填", "id_number": "必填，18位，末位X可大写或小写",
           "gender": "可不填（按身份证号判断）；填写时须与身份证号一致",
           "college": "必填，学校已有学院的名称或代码（见下拉选项）",
           "major": "必填，所填学院下已有专业的名称或代码（见下拉选项）",
           "education": f"必填，{'、'.join(codes.EDUCATION)}之一",
           "graduation_year": "必填，四位年份，如2026", "class_name": "可不填"},
    whole_numbers={"graduation_year": (2000, 2100)},
)
EMPTY_FILE = "文件是空的"
MISSING_HEADER = "表头缺少列"
HEADER_PROBLEMS = (EMPTY_FILE, MISSING_HEADER)  # a header of formulas reads as empty too


@dataclass(frozen=True)
class Problem:
    row: int
    field: str
    reason: str
    group: str = ""  # the reason without this row's particulars, for the grouped report

    @property
    def kind(self) -> str:
        return self.group or self.reason

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "field": self.field, "reason": self.reason}


@dataclass(frozen=True)
class RecordIn:
    row: int
    student_no: str
    name: str
    id_number: str
    gender: str
    college_id: int
    major_id: int
    education: str
    graduation_year: int
    class_name: str


@dataclass(frozen=True)
class Catalogue:
    """A school's colleges and majors, looked up by code or by name."""
    colleges: Mapping[str, int]             # code or name → college id
    majors: Mapping[tuple[int, str], int]   # (college id, code or name) → major id


def read_rows(filename: str, source: Source, columns: Mapping[str, tuple[str, ...]] = COLUMNS,
              required: tuple[str, ...] = REQUIRED, limits: ReadLimits | None = None,
              cleaner: Cleaner | None = None) -> list[tuple[int, dict[str, str]]]:
    """Every row `stream_rows` gives, as a list (small files, tests, the demo)."""
    return list(stream_rows(filename, source, columns, required, limits, cleaner))


def stream_rows(filename: str, source: Source, columns: Mapping[str, tuple[str, ...]] = COLUMNS,
                required: tuple[str, ...] = REQUIRED, limits: ReadLimits | None = None,
                cleaner: Cleaner | None = None) -> Iterator[tuple[int, dict[str, str]]]:
    """(sheet row number, {field: text}) for every non-empty data row but the template's
    example, its cells tidied by `cleaner` (which counts what it changed), read a row at a
    time within `limits` (see app/students/sheets.py); a file without data rows is a
    FileProblem that says why, raised when its end is reached.

    `columns`/`required` describe the file's header; other imports (生源) pass their own.
    """
    limits = limits or ReadLimits()
    cleaner = cleaner or Cleaner({f: names[0] for f, names in columns.items()})
    found = False
    try:
        for row in _map_header(table_rows(filename, source, limits), columns, required, cleaner):
            found = True
            yield row
    except FileProblem as problem:
        if str(problem).startswith(HEADER_PROBLEMS):
            raise formulas_problem(filename, source, limits) or problem from None
        raise
    if not found:
        raise formulas_problem(filename, source, limits) or FileProblem(NO_DATA_ROWS)


def _map_header(table: Iterable[list[str]], columns: Mapping[str, tuple[str, ...]],
                required: tuple[str, ...], cleaner: Cleaner,
                ) -> Iterator[tuple[int, dict[str, str]]]:
    rows = iter(table)
    header = next(rows, None)
    if header is None:
        raise FileProblem(EMPTY_FILE)
    positions: dict[str, int] = {}
    for index, title in enumerate(header):
        title = (title or "").strip()
        for field, names in columns.items():
            if title in names and field not in positions:
                positions[field] = index
    missing = [columns[f][0] for f in required if f not in positions]
    if missing:
        raise FileProblem(f"{MISSING_HEADER}：{'、'.join(missing)}（第一行应为列名）")
    for number, values in enumerate(rows, start=2):
        if not any((v or "").strip() for v in values):
            continue
        if (values[positions["student_no"]] if "student_no" in positions
                and positions["student_no"] < len(values) else "").strip() == EXAMPLE_MARK:
            continue
        yield number, cleaner.row({f: values[i] if i < len(values) else ""
                                   for f, i in positions.items()})


def check_row(number: int, raw: Mapping[str, str], catalogue: Catalogue,
              ) -> RecordIn | list[Problem]:
    problems: list[Problem] = []

    def bad(field: str, reason: str, group: str = "") -> None:
        problems.append(Problem(number, LABELS[field], reason, group))

    for field in REQUIRED:
        if not raw.get(field):
            bad(field, "不能为空")
    id_number = ""
    if raw.get("id_number"):
        try:
            id_number = normalize_id_number(raw["id_number"])
        except Invalid as exc:
            bad("id_number", str(exc))
    gender = gender_from_id(id_number) if id_number else ""
    if raw.get("gender"):
        given = GENDERS.get(raw["gender"])
        if given is None:
            bad("gender", "应为“男”或“女”")
        elif gender and given != gender:
            bad("gender", "与身份证号显示的性别不一致")
    college_id = catalogue.colleges.get(raw.get("college", ""))
    if raw.get("college") and college_id is None:
        bad("college", f"学校没有名为“{raw['college']}”的学院", "学校没有这个学院")
    major_id = catalogue.majors.get((college_id, raw.get("major", ""))) if college_id else None
    if raw.get("major") and college_id and major_id is None:
        bad("major", f"“{raw['college']}”没有“{raw['major']}”专业", "所填学院没有这个专业")
    education = EDUCATION_ALIASES.get(raw.get("education", ""), raw.get("education", ""))
    if raw.get("education") and education not in EDUCATION:
        bad("education", f"应为{'、'.join(EDUCATION)}之一")
    year = raw.get("graduation_year", "")
    if year and not (year.isdigit() and 2000 <= int(year) <= 2100):
        bad("graduation_year", "应为四位年份，如2026")
    if len(raw.get("student_no", "")) > 32:
        bad("student_no", "学号过长（最多32位）")
    if len(raw.get("name", "")) > 64:
        bad("name", "姓名过长")
    if problems:
        return problems
    return RecordIn(row=number, student_no=raw["student_no"], name=raw["name"],
                    id_number=id_number, gender=gender, college_id=college_id or 0,
                    major_id=major_id or 0, education=education, graduation_year=int(year),
                    class_name=raw.get("class_name", ""))


def check_rows(rows: Iterable[tuple[int, dict[str, str]]], catalogue: Catalogue,
               first_seen: dict[str, int] | None = None) -> tuple[list[RecordIn], list[Problem]]:
    """Check every row; a 学号 repeated within the file is an error on the later row.
    `first_seen` (学号 → its row) spans the file when its rows come a chunk at a time."""
    good: list[RecordIn] = []
    problems: list[Problem] = []
    first_seen = {} if first_seen is None else first_seen
    for number, raw in rows:
        result = check_row(number, raw, catalogue)
        if isinstance(result, list):
            problems.extend(result)
            continue
        if result.student_no in first_seen:
            problems.append(Problem(number, LABELS["student_no"],
                                    f"与第{first_seen[result.student_no]}行学号重复",
                                    "与文件中前面一行的学号重复"))
            continue
        first_seen[result.student_no] = number
        good.append(result)
    return good, problems


TEMPLATE_HEADER = [names[0] for names in COLUMNS.values()]
