"""The workbooks we write, and their one rule for text: it stays text.

openpyxl stores a string starting with "=" as a formula, and a spreadsheet program may run
one starting with + - or @ when a cell is edited: a name or a reason typed by a user must
never become a formula (CSV/formula injection). Every export (StreamedBook) writes every
string as a string, marked as text (quote prefix) when it looks like a formula.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Callable

FORMULA_STARTS = ("=", "+", "-", "@")


def looks_like_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def keep_as_text(cell: Any) -> None:
    """For an openpyxl cell already written (the import's template and 错误行 workbooks): a
    string openpyxl took for a formula goes back to text."""
    if cell.data_type == "f" or looks_like_formula(cell.value):
        cell.data_type = "s"


@dataclass(frozen=True)
class Sheet:
    """One sheet of an export: its title, header, rows (a query streamed in batches, or rows
    in hand) and how a row becomes cells."""
    title: str
    header: list[str]
    query: Any  # sa.Select, or a list of rows
    to_row: Callable[[Any], list[Any]] = list


def display_width(value: Any) -> int:
    """Columns as Excel measures them, roughly: a CJK character is two digits wide."""
    text = value if isinstance(value, str) else str(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


class StreamedBook:
    """An .xlsx written row by row in constant memory, ready for Excel: a bold frozen header
    with an autofilter over the rows, column widths from the content, numbers as numbers,
    dates and times as dates, every string as a string (never a formula; text that looks
    like one is also marked as text, as typing '= does, so it stays text when edited).
    Blocking: the exports call it in the CPU pool.

    The sheet XML is written here, not through a library: measured on 60,000 rows × 53
    columns on this 2-core machine, XlsxWriter's constant-memory mode took 15 s and
    openpyxl's write-only mode 30 s for what this writes in a few (docs/performance.md).
    Each sheet's rows go to a temporary file as they come; at the sheet's end its header
    (widths, frozen row) and the rows are put into the zip, so memory stays flat. Sheets
    are written one after the other."""

    MIN_WIDTH, MAX_WIDTH = 6, 60

    def __init__(self, path: Any) -> None:
        import zipfile
        self.path = Path(path)
        self.zip = zipfile.ZipFile(self.path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self.sheets: list[tuple[str, int, int]] = []  # (name, rows, columns) as written
        self._rows: Any = None

    def sheet(self, title: str, header: list[str]) -> None:
        self._finish()
        self._start(_sheet_name(title), len(header))
        self._write_row([str(h) for h in header], _HEADER)
        self._widths = [_text_width(str(h)) + 2 for h in header]

    def _start(self, name: str, columns: int) -> None:
        import tempfile
        self._rows = tempfile.TemporaryFile(dir=self.path.parent)
        self._name, self._row, self._frozen = name, 0, True
        self._widths = [self.MIN_WIDTH] * columns

    def append(self, rows: Any) -> None:
        for values in rows:
            self._write_row(values, None)

    def _write_row(self, values: Any, style: str | None) -> None:
        """One row's XML (the hot loop: 3 million cells for the province's export)."""
        self._row += 1
        r = str(self._row)
        widths = self._widths
        if len(values) > len(widths):
            widths.extend([self.MIN_WIDTH] * (len(values) - len(widths)))
        letters = _columns(len(values))
        out = [f'<row r="{r}">']
        add = out.append
        for col, value in enumerate(values):
            kind = type(value)
            if kind is str:
                if not value:
                    continue
                # a cheap upper bound first: most cells never widen their column
                if 2 * len(value) + 2 > widths[col]:
                    width = _text_width(value) + 2
                    if width > widths[col]:
                        widths[col] = width
                mark = style or (_TEXT if value.startswith(FORMULA_STARTS) else "")
                add(f'<c r="{letters[col]}{r}"{mark} t="inlineStr"><is><t xml:space="preserve">'
                    f'{_escape(value)}</t></is></c>')
                continue
            if value is None:
                continue
            if kind is bool:
                value = "是" if value else "否"
                add(f'<c r="{letters[col]}{r}" t="inlineStr"><is><t>{value}</t></is></c>')
                continue
            if kind is int or kind is float:
                text = repr(value) if kind is float else str(value)
                add(f'<c r="{letters[col]}{r}"{style or ""}><v>{text}</v></c>')
                width = len(text) + 3
            elif isinstance(value, dt.datetime):
                add(f'<c r="{letters[col]}{r}"{style or _DATETIME}><v>{_serial(value)}</v></c>')
                width = 21
            elif isinstance(value, dt.date):
                add(f'<c r="{letters[col]}{r}"{style or _DATE}><v>{_serial(value)}</v></c>')
                width = 12
            else:  # a Decimal, an enum: its text
                text = str(value)
                add(f'<c r="{letters[col]}{r}" t="inlineStr"><is><t xml:space="preserve">'
                    f'{_escape(text)}</t></is></c>')
                width = _text_width(text) + 2
            if width > widths[col]:
                widths[col] = width
        add("</row>")
        self._rows.write("".join(out).encode())

    def about(self, title: str, lines: list[tuple[str, Any]]) -> None:
        """A first-look sheet: what this workbook is, for whom, filtered how, when."""
        self._finish()
        self._start("说明", 2)
        self._frozen = False
        self._write_row([title], _TITLE)
        self._row += 1  # a blank line under the title
        for label, value in lines:
            self._write_row([label, "" if value is None else value], None)
        self._widths = [14, 60]
        self._finish(autofilter=False)

    def _finish(self, autofilter: bool = True) -> None:
        rows = self._rows
        if rows is None:
            return
        self._rows = None
        columns = max(len(self._widths), 1)
        n = len(self.sheets) + 1
        cols = "".join(f'<col min="{i}" max="{i}" width="{max(self.MIN_WIDTH, min(self.MAX_WIDTH, w))}"'
                       f' customWidth="1"/>' for i, w in enumerate(self._widths, start=1))
        last = f"{_column(columns - 1)}{max(self._row, 1)}"
        pane = ('<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                '<selection pane="bottomLeft"/>') if self._frozen else ""
        selected = 'tabSelected="1" ' if n == 1 else ""
        cols = f"<cols>{cols}</cols>" if cols else ""
        head = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><dimension ref="A1:{last}"/>'
                f'<sheetViews><sheetView {selected}workbookViewId="0">{pane}</sheetView>'
                f'</sheetViews><sheetFormatPr defaultRowHeight="15"/>{cols}<sheetData>')
        tail = "</sheetData>" + (f'<autoFilter ref="A1:{last}"/>' if autofilter else "") + \
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>' \
            "</worksheet>"
        import shutil
        with self.zip.open(f"xl/worksheets/sheet{n}.xml", "w", force_zip64=True) as out:
            out.write(head.encode())
            rows.seek(0)
            shutil.copyfileobj(rows, out, 1 << 20)
            out.write(tail.encode())
        rows.close()
        self.sheets.append((self._name, self._row, columns, autofilter))

    def close(self) -> None:
        self._finish()
        if not self.sheets:
            self._start("Sheet1", 1)
            self._finish(autofilter=False)
        sheets = self.sheets
        self.zip.writestr("[Content_Types].xml", _content_types(len(sheets)))
        self.zip.writestr("_rels/.rels", _ROOT_RELS)
        self.zip.writestr("xl/workbook.xml", _workbook(sheets))
        self.zip.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
        self.zip.writestr("xl/styles.xml", _STYLES)
        self.zip.close()


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
# cell styles (cellXfs in _STYLES): 1 header, 2 date, 3 date and time, 4 text (quote prefix), 5 title
_HEADER, _DATE, _DATETIME, _TEXT, _TITLE = ' s="1"', ' s="2"', ' s="3"', ' s="4"', ' s="5"'
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
    '<fonts count="3"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="14"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFEEF2F7"/><bgColor indexed="64"/>'
    '</patternFill></fill></fills>'
    '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
    '<border><left style="thin"><color auto="1"/></left><right style="thin"><color auto="1"/></right>'
    '<top style="thin"><color auto="1"/></top><bottom style="thin"><color auto="1"/></bottom>'
    '<diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="6"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" '
    'applyBorder="1" applyAlignment="1"><alignment wrapText="1" vertical="top"/></xf>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>'
    '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>')
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')


def _content_types(sheets: int) -> str:
    parts = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for n in range(1, sheets + 1))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f'{parts}</Types>')


def _workbook(sheets: list[tuple[str, int, int, bool]]) -> str:
    listed = "".join(f'<sheet name="{_escape(name)}" sheetId="{n}" r:id="rId{n}"/>'
                     for n, (name, _, _, _) in enumerate(sheets, start=1))
    filters = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
        f"'{_escape(name.replace(chr(39), chr(39) * 2))}'!$A$1:${_column(columns - 1)}${max(rows, 1)}"
        "</definedName>"
        for n, (name, rows, columns, autofilter) in enumerate(sheets) if autofilter)
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><bookViews><workbookView/></bookViews>'
            f'<sheets>{listed}</sheets>'
            f'{_wrapped("definedNames", filters)}</workbook>')


def _wrapped(tag: str, inner: str) -> str:
    return f"<{tag}>{inner}</{tag}>" if inner else ""


def _workbook_rels(sheets: int) -> str:
    rels = "".join(
        f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, sheets + 1))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'{rels}<Relationship Id="rId{sheets + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
            '</Relationships>')


_COLUMNS: list[str] = []


def _columns(count: int) -> list[str]:
    """The letters of the first `count` columns."""
    if len(_COLUMNS) < count:
        _column(count - 1)
    return _COLUMNS


def _text_width(text: str) -> int:
    """display_width, fast: a CJK character is 3 bytes in UTF-8 and 2 digits wide."""
    return len(text) if text.isascii() else len(text) + (len(text.encode()) - len(text)) // 2


def _column(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA …"""
    while len(_COLUMNS) <= index:
        n, name = len(_COLUMNS) + 1, ""
        while n:
            n, rest = divmod(n - 1, 26)
            name = chr(65 + rest) + name
        _COLUMNS.append(name)
    return _COLUMNS[index]


_EPOCH = dt.datetime(1899, 12, 30)


def _serial(value: dt.date) -> str:
    """Excel's day number (days since 1899-12-30, the time as its fraction)."""
    if isinstance(value, dt.datetime):
        delta = value.replace(tzinfo=None) - _EPOCH
        return repr(delta.days + delta.seconds / 86400)
    return str((value - _EPOCH.date()).days)


# XML 1.0 has no place for most control characters: they are dropped
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _escape(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if '"' in text:
        text = text.replace('"', "&quot;")
    if not text.isprintable() and _ILLEGAL.search(text):
        text = _ILLEGAL.sub("", text)
    return text


def _sheet_name(title: str) -> str:
    """Excel's rules for a sheet name: at most 31 characters, none of []:*?/\\ ."""
    for ch in "[]:*?/\\":
        title = title.replace(ch, "·")
    return title[:31] or "Sheet"
