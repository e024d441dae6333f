"""Reading student record files (csv or xlsx) and checking each row.

Pure functions: no database. `check_row` turns one raw row into a clean record or a list
of (field, reason) problems, given the school's colleges and majors.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from typing import Iterable, Iterator, Mapping

from ..uploads import check_unpacked_size
from ..validators import Invalid, gender_from_id, normalize_id_number

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

EDUCATION = ("博士生", "硕士生", "本科生", "专科生", "二学位")
EDUCATION_ALIASES = {"博士": "博士生", "硕士": "硕士生", "本科": "本科生", "专科": "专科生",
                     "第二学士学位": "二学位"}
GENDERS = {"男": "1", "1": "1", "女": "2", "2": "2"}


class FileProblem(ValueError):
    """The file as a whole cannot be read; the message is for the user."""


@dataclass(frozen=True)
class Problem:
    row: int
    field: str
    reason: str

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


def read_rows(filename: str, data: bytes, columns: Mapping[str, tuple[str, ...]] = COLUMNS,
              required: tuple[str, ...] = REQUIRED) -> list[tuple[int, dict[str, str]]]:
    """(sheet row number, {field: text}) for every non-empty data row.

    `columns`/`required` describe the file's header; other imports (生源) pass their own.
    """
    lower = filename.lower()
    if lower.endswith(".xlsx"):
        if not data.startswith(b"PK\x03\x04"):
            raise FileProblem("文件内容不是有效的 xlsx 表格")
        table = _xlsx_rows(data)
    elif lower.endswith(".csv"):
        if data.startswith(b"PK\x03\x04") or b"\x00" in data[:4096]:
            raise FileProblem("文件内容不是文本格式的 csv")
        table = csv.reader(io.StringIO(_decode(data)))
    else:
        raise FileProblem("只支持 .xlsx 或 .csv 文件")
    return list(_map_header(table, columns, required))


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileProblem("无法识别文件编码，请保存为 UTF-8 编码的 csv")


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    import openpyxl  # imported here: only imports need it, and it is slow to load

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            check_unpacked_size(z)
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Invalid as exc:
        raise FileProblem(str(exc)) from None
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise FileProblem("无法读取 xlsx 文件，请确认文件未损坏") from exc
    try:
        for values in book.worksheets[0].iter_rows(values_only=True):
            yield [_cell_text(v) for v in values]
    finally:
        book.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 学号 or 年份 typed as numbers in Excel
    return str(value).strip()


def _map_header(table: Iterable[list[str]], columns: Mapping[str, tuple[str, ...]],
                required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    rows = iter(table)
    header = next(rows, None)
    if header is None:
        raise FileProblem("文件是空的")
    positions: dict[str, int] = {}
    for index, title in enumerate(header):
        title = (title or "").strip()
        for field, names in columns.items():
            if title in names and field not in positions:
                positions[field] = index
    missing = [columns[f][0] for f in required if f not in positions]
    if missing:
        raise FileProblem(f"表头缺少列：{'、'.join(missing)}（第一行应为列名）")
    for number, values in enumerate(rows, start=2):
        if not any((v or "").strip() for v in values):
            continue
        yield number, {f: (values[i] if i < len(values) else "").strip()
                       for f, i in positions.items()}


def check_row(number: int, raw: Mapping[str, str], catalogue: Catalogue,
              ) -> RecordIn | list[Problem]:
    problems: list[Problem] = []

    def bad(field: str, reason: str) -> None:
        problems.append(Problem(number, LABELS[field], reason))

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
        bad("college", f"学校没有名为“{raw['college']}”的学院")
    major_id = catalogue.majors.get((college_id, raw.get("major", ""))) if college_id else None
    if raw.get("major") and college_id and major_id is None:
        bad("major", f"“{raw['college']}”没有“{raw['major']}”专业")
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


def check_rows(rows: list[tuple[int, dict[str, str]]], catalogue: Catalogue,
               ) -> tuple[list[RecordIn], list[Problem]]:
    """Check every row; a 学号 repeated within the file is an error on the later row."""
    good: list[RecordIn] = []
    problems: list[Problem] = []
    first_seen: dict[str, int] = {}
    for number, raw in rows:
        result = check_row(number, raw, catalogue)
        if isinstance(result, list):
            problems.extend(result)
            continue
        if result.student_no in first_seen:
            problems.append(Problem(number, LABELS["student_no"],
                                    f"与第{first_seen[result.student_no]}行学号重复"))
            continue
        first_seen[result.student_no] = number
        good.append(result)
    return good, problems


TEMPLATE_HEADER = [names[0] for names in COLUMNS.values()]
