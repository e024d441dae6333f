"""The workbooks we write, and their one rule for text: it stays text.

openpyxl stores a string starting with "=" as a formula, and a spreadsheet program may run
one starting with + - or @ when a cell is edited: a name or a reason typed by a user must
never become a formula (CSV/formula injection). The exports (StreamedBook) write every
string as a string, marked as text (quote prefix) when it looks like a formula; the
in-memory workbooks (hall report) turn such cells back to text (keep_as_text).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# openpyxl (about 20 MB resident) is loaded by the first workbook written or read, not by
# every server process at start (tests/test_dependencies.py)
if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell

FORMULA_STARTS = ("=", "+", "-", "@")


def looks_like_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def keep_as_text(cell: Cell) -> None:
    """For a cell already written: a string openpyxl took for a formula goes back to text."""
    if cell.data_type == "f" or looks_like_formula(cell.value):
        cell.data_type = "s"


def display_width(value: Any) -> int:
    """Columns as Excel measures them, roughly: a CJK character is two digits wide."""
    text = value if isinstance(value, str) else str(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


class StreamedBook:
    """An .xlsx written row by row in constant memory (XlsxWriter's constant_memory mode: a
    row is on disk once the next one starts), ready for Excel: a bold frozen header with an
    autofilter over the rows, column widths from the content, numbers as numbers, dates and
    times as dates, every string as text (write_string never makes a formula, whatever it
    starts with). Blocking: the exports call it in the CPU pool.

    Sheets are written one after the other (constant memory allows no going back)."""

    MIN_WIDTH, MAX_WIDTH = 6, 60

    def __init__(self, path: Any) -> None:
        import xlsxwriter  # loaded by the first export, not by every process at start
        self.book = xlsxwriter.Workbook(str(path), {"constant_memory": True,
                                                    "strings_to_formulas": False,
                                                    "strings_to_urls": False})
        self.header_format = self.book.add_format({"bold": True, "bg_color": "#EEF2F7",
                                                   "border": 1, "text_wrap": True})
        self.date_format = self.book.add_format({"num_format": "yyyy-mm-dd"})
        self.time_format = self.book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.title_format = self.book.add_format({"bold": True, "font_size": 14})
        # Excel's own mark for "this is text" (what typing '= gives): a cell a user edits
        # later stays text too, not only when the file opens
        self.text_format = self.book.add_format({"quote_prefix": True})
        self._sheet: Any = None

    def sheet(self, title: str, header: list[str]) -> None:
        self._finish()
        ws = self.book.add_worksheet(_sheet_name(title))
        for col, name in enumerate(header):
            ws.write_string(0, col, str(name), self.header_format)
        ws.freeze_panes(1, 0)
        self._sheet, self._row = ws, 1
        self._widths = [display_width(h) + 2 for h in header]

    def append(self, rows: Any) -> None:
        import datetime as dt
        ws = self._sheet
        widths = self._widths
        for values in rows:
            for col, value in enumerate(values):
                if value is None or value == "":
                    continue
                if isinstance(value, bool):
                    ws.write_string(self._row, col, "是" if value else "否")
                    width = 2
                elif isinstance(value, (int, float)):
                    ws.write_number(self._row, col, value)
                    width = len(f"{value:,}") if isinstance(value, int) else len(f"{value:.2f}")
                elif isinstance(value, dt.datetime):
                    ws.write_datetime(self._row, col, value.replace(tzinfo=None), self.time_format)
                    width = 19
                elif isinstance(value, dt.date):
                    ws.write_datetime(self._row, col, value, self.date_format)
                    width = 10
                else:
                    text = str(value)
                    if looks_like_formula(text):
                        ws.write_string(self._row, col, text, self.text_format)
                    else:
                        ws.write_string(self._row, col, text)
                    width = display_width(text)
                if col >= len(widths):
                    widths.extend([self.MIN_WIDTH] * (col + 1 - len(widths)))
                if width + 2 > widths[col]:
                    widths[col] = width + 2
            self._row += 1

    def about(self, title: str, lines: list[tuple[str, Any]]) -> None:
        """A first-look sheet: what this workbook is, for whom, filtered how, when."""
        self._finish()
        ws = self.book.add_worksheet("说明")
        ws.write_string(0, 0, title, self.title_format)
        for n, (label, value) in enumerate(lines, start=2):
            ws.write_string(n, 0, label, self.header_format)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                ws.write_number(n, 1, value)
            else:
                ws.write_string(n, 1, "" if value is None else str(value))
        ws.set_column(0, 0, 14)
        ws.set_column(1, 1, 60)
        self._sheet = None

    def _finish(self) -> None:
        ws = self._sheet
        if ws is None:
            return
        for col, width in enumerate(self._widths):
            ws.set_column(col, col, max(self.MIN_WIDTH, min(self.MAX_WIDTH, width)))
        if self._widths:
            ws.autofilter(0, 0, max(self._row - 1, 0), len(self._widths) - 1)
        self._sheet = None

    def close(self) -> None:
        self._finish()
        self.book.close()


def _sheet_name(title: str) -> str:
    """Excel's rules for a sheet name: at most 31 characters, none of []:*?/\\ ."""
    for ch in "[]:*?/\\":
        title = title.replace(ch, "·")
    return title[:31] or "Sheet"
