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
from typing import Any, Mapping

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


class ErrorRows:
    """The rows a job could not import, written as the job finds them: the file's columns
    and an 错误 column, in constant memory (openpyxl's write-only sheet streams each row to
    a temporary file). Only the first SAMPLE rows are held, to size the columns, which a
    write-only sheet takes before its first row. `save` writes the workbook to a temporary
    name and then renames it, so a download never meets half a file; `discard` drops it."""

    SAMPLE = 200

    def __init__(self, path: Path, spec: ImportSpec, choices: Mapping[str, list[str]], *,
                 max_rows: int) -> None:
        self.path = path
        self.spec = spec
        self.choices = choices
        self.max_rows = max_rows
        self.rows = 0
        self._fields: list[str] | None = None
        self._held: list[list[str]] = []
        self._book: Any = None
        self._sheet: Any = None

    def add(self, values: Mapping[str, str], reason: str) -> None:
        """One failed row: its cells as read (and corrected), and why it failed."""
        if self._fields is None:  # every row has the fields the file's header has
            self._fields = [f for f in self.spec.columns if f in values]
        row = [values.get(f, "") for f in self._fields] + [reason]
        self.rows += 1
        if self._sheet is None:
            self._held.append(row)
            if len(self._held) >= self.SAMPLE:
                self._start()
        else:
            self._sheet.append(_text_row(self._sheet, row))

    def _start(self) -> None:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        fields = self._fields or []
        header = [self.spec.labels[f] for f in fields] + [ERROR_COLUMN]
        self._book = book = Workbook(write_only=True)
        self._sheet = sheet = book.create_sheet(ERRORS_SHEET)
        _columns(sheet, [header, *self._held])  # widths from a sample: the rows stream past
        sheet.freeze_panes = "A2"
        self._refs = _lists(book.create_sheet(LISTS_SHEET), self.spec, self.choices, fields,
                            write_only=True)
        bold, red = Font(bold=True), Font(bold=True, color="C00000")
        cells = []
        for n, name in enumerate(header):
            cell = WriteOnlyCell(sheet, name)
            cell.font = red if n == len(fields) else bold
            cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
        for row in self._held:
            sheet.append(_text_row(sheet, row))
        self._held = []

    def save(self) -> bool:
        """Write the workbook, if any row failed (→ True)."""
        if not self.rows:
            return False
        if self._sheet is None:
            self._start()
        # Data validations are written after the rows: their extent is known by now.
        _validations(self._sheet, self.spec, self._refs, self._fields or [],
                     last_row=max(self.max_rows, self.rows) + 1)
        partial = self.path.with_name(self.path.name + ".part")
        try:
            self._book.save(partial)
            os.replace(partial, self.path)
        finally:
            partial.unlink(missing_ok=True)
            self._book = self._sheet = None
        return True

    def discard(self) -> None:
        """Drop what was written (the job stopped): openpyxl would otherwise keep each
        sheet's temporary file until the process ends."""
        book, self._book, self._sheet, self._held = self._book, None, None, []
        for sheet in book.worksheets if book is not None else ():
            if sheet._writer is not None:  # noqa: SLF001 (no public way to drop a sheet)
                if not sheet.closed:
                    sheet.close()
                sheet._writer.cleanup()  # noqa: SLF001


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
        if cell.data_type == "f" or xlsx.looks_like_formula(cell.value):
            cell.data_type = "s"  # openpyxl took the text for a formula: it stays text
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
