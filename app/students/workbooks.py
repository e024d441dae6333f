"""The workbooks an import hands out: its template and the rows a job could not import.

Both are made for the next import to succeed: the first sheet is the one the import reads,
its header the template's column names, and every coded column has a drop-down (data
validation) over the allowed values, kept on a hidden sheet because a school's list of
专业 is far past the 255 characters an inline list may hold. The error-rows workbook adds
an 错误 column that no import reads, so the file, fixed, imports as it is.

Blocking (openpyxl): the pages and the runner call these in the CPU pool. Every text cell
stays text (app/xlsx.py's rule): a name typed as "=1+1" is never a formula.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from .. import xlsx
from .import_spec import ERROR_COLUMN, EXAMPLE_MARK, ImportSpec

DATA_SHEET = "导入数据"
ERRORS_SHEET = "错误行"
NOTES_SHEET = "填写说明"
LISTS_SHEET = "下拉选项"
TEXT = "@"  # Excel's text format: 学号 and 身份证号 keep their digits, and a leading 0
MIN_WIDTH, MAX_WIDTH = 8, 50
# How long a job's error rows can be downloaded after it ends; housekeeping then removes
# the workbook (it holds ID numbers). A module constant, not a setting, for now.
ERROR_ROWS_KEPT = dt.timedelta(days=1)


def error_rows_path(stored_path: str) -> Path:
    """Where a job's error-rows workbook is kept: beside its uploaded file."""
    return Path(stored_path).with_suffix(".errors.xlsx")


def template(spec: ImportSpec, choices: Mapping[str, list[str]], *, year: int,
             max_rows: int) -> bytes:
    """The import's template: header, the example row, notes, drop-downs."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    book = Workbook()
    sheet = book.active
    sheet.title = DATA_SHEET
    fields = list(spec.columns)
    example = spec.example_row(year, choices)
    _columns(sheet, [spec.header, example])
    _put_row(sheet, 1, spec.header, font=Font(bold=True))
    _put_row(sheet, 2, example, font=Font(italic=True, color="808080"),
             fill=PatternFill("solid", fgColor="F2F2F2"))
    sheet.freeze_panes = "A2"
    refs = _lists(book.create_sheet(LISTS_SHEET), spec, choices, fields, write_only=False)
    _validations(sheet, spec, refs, fields, last_row=max_rows + 2)
    _notes(book.create_sheet(NOTES_SHEET, 1), spec, max_rows)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write_error_rows(path: Path, spec: ImportSpec, choices: Mapping[str, list[str]],
                     rows: Sequence[tuple[int, Mapping[str, str]]], reasons: Mapping[int, str],
                     *, max_rows: int) -> None:
    """The failed rows (those in `reasons`) with the file's columns and an 错误 column, in
    constant memory (write-only), written to a temporary name and then renamed, so a
    download never meets half a file. 50,000 failed rows take about 5 s; it is not
    interrupted (openpyxl would leave its temporary sheet behind until the process ends)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    fields = [f for f in spec.columns if rows and f in rows[0][1]]
    header = [spec.labels[f] for f in fields] + [ERROR_COLUMN]
    failed = [[values.get(f, "") for f in fields] + [reasons[number]]
              for number, values in rows if number in reasons]
    book = Workbook(write_only=True)
    sheet = book.create_sheet(ERRORS_SHEET)
    _columns(sheet, [header, *failed[:200]])  # widths from a sample: the rows stream past
    sheet.freeze_panes = "A2"
    refs = _lists(book.create_sheet(LISTS_SHEET), spec, choices, fields, write_only=True)
    _validations(sheet, spec, refs, fields, last_row=max(max_rows, len(failed)) + 1)
    bold, red = Font(bold=True), Font(bold=True, color="C00000")
    cells = []
    for n, name in enumerate(header):
        cell = WriteOnlyCell(sheet, name)
        cell.font = red if n == len(fields) else bold
        cell.data_type = "s"
        cells.append(cell)
    sheet.append(cells)
    for values in failed:
        sheet.append(_text_row(sheet, values))
    partial = path.with_name(path.name + ".part")
    try:
        book.save(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _text_row(sheet: Any, values: list[Any]) -> list[Any]:
    """A write-only row whose formula-looking text is a text cell."""
    from openpyxl.cell import WriteOnlyCell
    out = []
    for value in values:
        if xlsx.looks_like_formula(value):
            value = WriteOnlyCell(sheet, value)
            value.data_type = "s"
        out.append(value)
    return out


def _put_row(sheet: Any, number: int, values: list[str], **style: Any) -> None:
    for col, value in enumerate(values, start=1):
        cell = sheet.cell(row=number, column=col, value=value)
        xlsx.keep_as_text(cell)
        for name, v in style.items():
            setattr(cell, name, v)


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)  # a CJK character: two digits


def _columns(sheet: Any, sample: list[list[str]]) -> None:
    """Widths from the sample, and every column formatted as text."""
    from openpyxl.utils import get_column_letter
    for col in range(max((len(r) for r in sample), default=0)):
        widest = max(_width(str(r[col])) for r in sample if col < len(r))
        dim = sheet.column_dimensions[get_column_letter(col + 1)]
        dim.width = max(MIN_WIDTH, min(MAX_WIDTH, widest + 2))
        dim.number_format = TEXT


def _lists(sheet: Any, spec: ImportSpec, choices: Mapping[str, list[str]], fields: list[str],
           *, write_only: bool) -> dict[str, str]:
    """One column of allowed values per coded field on a hidden sheet → field: its range."""
    from openpyxl.utils import get_column_letter
    offered = [f for f in fields if choices.get(f)]
    sheet.sheet_state = "hidden"
    refs = {}
    for col, f in enumerate(offered, start=1):
        letter = get_column_letter(col)
        refs[f] = f"'{LISTS_SHEET}'!${letter}$2:${letter}${len(choices[f]) + 1}"
    table = [[spec.labels[f] for f in offered]]
    for i in range(max((len(choices[f]) for f in offered), default=0)):
        table.append([choices[f][i] if i < len(choices[f]) else None for f in offered])
    for number, values in enumerate(table, start=1):
        if write_only:
            sheet.append(_text_row(sheet, values))
        else:
            _put_row(sheet, number, values)
    return refs


def _validations(sheet: Any, spec: ImportSpec, refs: Mapping[str, str], fields: list[str],
                 *, last_row: int) -> None:
    """A drop-down on every coded column, a range on whole-number ones. A value outside the
    list is warned about, not refused: the import also takes codes and common synonyms."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    for col, f in enumerate(fields, start=1):
        where = f"{get_column_letter(col)}2:{get_column_letter(col)}{last_row}"
        if f in refs:
            rule = DataValidation(type="list", formula1=refs[f], allow_blank=True,
                                  showErrorMessage=True, errorStyle="warning",
                                  errorTitle="不在下拉选项中",
                                  error=f"{spec.labels[f]}：请从下拉选项中选择（导入时会核对）")
        elif f in spec.whole_numbers:
            low, high = spec.whole_numbers[f]
            rule = DataValidation(type="whole", operator="between", formula1=str(low),
                                  formula2=str(high), allow_blank=True, showErrorMessage=True,
                                  errorStyle="warning", errorTitle="超出范围",
                                  error=f"{spec.labels[f]}：应为 {low} 到 {high} 之间的整数")
        else:
            continue
        rule.add(where)
        sheet.data_validations.append(rule)


def _notes(sheet: Any, spec: ImportSpec, max_rows: int) -> None:
    from openpyxl.styles import Font

    general = [
        f"{spec.title}导入模板：填写说明",
        "",
        f"1. 在“{DATA_SHEET}”工作表填写，第1行是列名，请勿修改；每行填写一人。",
        f"2. 第2行是示例（学号为“{EXAMPLE_MARK}”），导入时会跳过，可保留、改写或删除。",
        "3. 带下拉箭头的列请从选项中选择。常见写法（如“硕士研究生”“男性”）、全角数字和多余的空格"
        "也可以，导入时会自动更正，并在导入结果中逐项列出。",
        "4. 学号、身份证号等已设为文本格式，请勿改为数字格式（会丢失开头的0或变成科学计数法）。",
        f"5. 每个文件最多 {max_rows:,} 行。导入结果页可【下载错误行】：改正后直接上传该文件即可，"
        f"其中的“{ERROR_COLUMN}”列不会被读取。",
        "",
    ]
    for number, line in enumerate(general, start=1):
        sheet.cell(row=number, column=1, value=line)
    sheet["A1"].font = Font(bold=True, size=14)
    top = len(general) + 1
    _put_row(sheet, top, ["列名", "是否必填", "填写说明"], font=Font(bold=True))
    for n, (f, label) in enumerate(spec.labels.items(), start=top + 1):
        _put_row(sheet, n, [label, "必填" if f in spec.required else "选填",
                            spec.notes.get(f, "")])
    for letter, width in (("A", 18), ("B", 10), ("C", 70)):
        sheet.column_dimensions[letter].width = width
