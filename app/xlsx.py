"""The one rule for text in the workbooks we write: it stays text.

openpyxl stores a string starting with "=" as a formula, and a spreadsheet program may run
one starting with + - or @ when a cell is edited: a name or a reason typed by a user must
never become a formula (CSV/formula injection). Both the in-memory workbooks (hall report)
and the write-only exports go through here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# openpyxl (about 20 MB resident) is loaded by the first workbook written or read, not by
# every server process at start (tests/test_dependencies.py)
if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FORMULA_STARTS = ("=", "+", "-", "@")


def looks_like_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def keep_as_text(cell: Cell) -> None:
    """For a cell already written: a string openpyxl took for a formula goes back to text."""
    if cell.data_type == "f" or looks_like_formula(cell.value):
        cell.data_type = "s"


def write_only_row(sheet: WriteOnlyWorksheet, values: list[Any]) -> list[Any]:
    """A row for `sheet.append` in write-only mode, formula-looking text as text cells."""
    from openpyxl.cell import WriteOnlyCell
    out = []
    for value in values:
        if looks_like_formula(value):
            cell = WriteOnlyCell(sheet, value)
            cell.data_type = "s"
            out.append(cell)
        else:
            out.append(value)
    return out
