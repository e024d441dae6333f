"""Reading an uploaded table (csv or xlsx) row by row, within hard caps.

A spreadsheet is a zip of XML that may claim anything: a 1.6 KB file declaring the range
A1:XFD1048576 once kept a core busy for 46 minutes, because openpyxl pads every row to the
declared width and height. So nothing the file declares is trusted: the zip's declared
uncompressed sizes are checked before openpyxl opens it (Python's zipfile never inflates a
part past its declared size, so that check bounds the real work), the declared dimension is
dropped, and rows are streamed and counted as they come. Between rows the reader checks the
job's deadline and its cancel flag, so a cap, a cancel or a shutdown stops it promptly even
though it runs in a worker thread that cannot be interrupted from outside.

The file is read from where it is stored (or from bytes, for tests), a row at a time: a csv
through its reader over the decoded stream, an xlsx through openpyxl's read-only rows. So
neither the file nor its text is held whole, however many rows it has.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import os
import threading
import time
import zipfile
from dataclasses import dataclass, field
from typing import BinaryIO, Iterable, Iterator, Union

# Where a table is read from: the stored file's path, or its bytes.
Source = Union[bytes, str, os.PathLike]


class FileProblem(ValueError):
    """The file as a whole cannot be imported; the message is for the user."""


class ReadCancelled(Exception):
    """The job was cancelled (by its school admin, or the server is stopping)."""


NOTHING_IMPORTED = "本次未导入任何数据"
NO_DATA_ROWS = "表格中除表头外没有数据行"
ONLY_FORMULAS = ("表格中没有可读取的数据行：公式单元格不会被计算，"
                 "请在 Excel 中将公式另存为数值后再导入")


@dataclass
class ReadLimits:
    """The caps one import job reads within (IMPORT_MAX_* settings)."""
    max_rows: int = 50_000
    max_columns: int = 100
    max_unzipped_bytes: int = 64 * 1024 * 1024
    max_seconds: float = 300.0
    cancelled: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.monotonic)
    paused: float | None = None

    def pause(self) -> None:
        """The reader gives its thread back between chunks: that time is not reading."""
        self.paused = time.monotonic()

    def resume(self) -> None:
        if self.paused is not None:
            self.started += time.monotonic() - self.paused
            self.paused = None

    def check(self) -> None:
        """Called between rows: stop at a cancel or when the job's time is up."""
        if self.cancelled.is_set():
            raise ReadCancelled()
        if time.monotonic() - self.started > self.max_seconds:
            raise FileProblem(f"读取文件超过 {self.max_seconds:g} 秒仍未完成，已停止；"
                              f"{NOTHING_IMPORTED}")

    def too_many_rows(self) -> FileProblem:
        return FileProblem(f"文件超过 {self.max_rows} 行数据（不含表头），请拆分成几个文件分别导入；"
                           f"{NOTHING_IMPORTED}")

    def too_many_columns(self, row: int, width: int, *, empty: bool = False) -> FileProblem:
        from openpyxl.utils import get_column_letter
        where = f"第 {row} 行用到了第 {get_column_letter(width)} 列"
        if empty:
            where += "（带格式的空单元格也算）"
        return FileProblem(f"文件超过 {self.max_columns} 列（{where}），请删除多余的列后再导入；"
                           f"{NOTHING_IMPORTED}")


def table_rows(filename: str, source: Source, limits: ReadLimits) -> Iterator[list[str]]:
    """Every row of the first sheet as text cells, at most `max_columns` wide; raises
    FileProblem for an unreadable file or one over a cap, ReadCancelled on a cancel. A
    generator: the file is open while it runs and closed when it ends or is closed."""
    lower = filename.lower()
    if not lower.endswith((".xlsx", ".csv")):
        raise FileProblem("只支持 .xlsx 或 .csv 文件")
    with _open(source) as file:
        head = file.read(4096)
        file.seek(0)
        if lower.endswith(".xlsx"):
            if not head.startswith(b"PK\x03\x04"):
                raise FileProblem("文件内容不是有效的 xlsx 表格")
            rows = _xlsx_rows(file, limits, data_only=True)
        else:
            if head.startswith(b"PK\x03\x04") or b"\x00" in head:
                raise FileProblem("文件内容不是文本格式的 csv")
            rows = _csv_rows(file)
        with contextlib.closing(rows):  # before its file closes, whoever stops reading
            yield from _capped(rows, limits)


def formulas_problem(filename: str, source: Source, limits: ReadLimits) -> FileProblem | None:
    """Why an xlsx gave no header or no data rows, when formulas are the reason. A formula
    cell reads as empty (nothing computes it here, and a file written by a program has no
    saved results), so a sheet of formulas looks empty: look again with formulas as text."""
    if filename.lower().endswith(".xlsx"):
        with _open(source) as file, contextlib.closing(
                _xlsx_rows(file, limits, data_only=False)) as rows:
            for values in _capped(rows, limits):
                if any(v.startswith("=") for v in values):
                    return FileProblem(ONLY_FORMULAS)
    return None


def _open(source: Source) -> BinaryIO:
    return io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else open(source, "rb")


def _capped(rows: Iterable[list[str]], limits: ReadLimits) -> Iterator[list[str]]:
    """Counts non-empty rows (the header included) and refuses a row with text past the
    last allowed column. Empty rows pass as [] (they keep the row numbers right) without
    counting: Excel keeps formatted but empty rows, and one costs next to nothing."""
    seen = 0
    for number, values in enumerate(rows, start=1):
        limits.check()
        if not any(v.strip() for v in values):
            yield []
            continue
        if len(values) > limits.max_columns:
            if any(v.strip() for v in values[limits.max_columns:]):
                last = max(i for i, v in enumerate(values) if v.strip()) + 1
                raise limits.too_many_columns(number, last)
            values = values[:limits.max_columns]
        seen += 1
        if seen > limits.max_rows + 1:  # + the header row
            raise limits.too_many_rows()
        yield values


def _encoding(file: BinaryIO) -> str:
    """utf-8 (with or without its BOM), else gb18030 (Excel's csv on a Chinese Windows):
    the first that decodes the whole file, read a block at a time."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        file.seek(0)
        try:
            while block := file.read(1 << 16):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        file.seek(0)
        return encoding
    raise FileProblem("无法识别文件编码，请保存为 UTF-8 编码的 csv")


def _csv_rows(file: BinaryIO) -> Iterator[list[str]]:
    text = io.TextIOWrapper(file, encoding=_encoding(file), newline="")
    try:
        for values in csv.reader(text):
            yield values  # spaces are the cleaning's to remove, and report (cleaning.py)
    except csv.Error as exc:
        raise FileProblem("csv 文件格式有误（引号不配对或单元格过长），请用 Excel 重新保存") from exc
    finally:
        text.detach()  # the caller closes the file


def check_zip(file: BinaryIO, limits: ReadLimits) -> None:
    """Refuse an xlsx whose parts would inflate past the cap, before anything inflates."""
    try:
        with zipfile.ZipFile(file) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileProblem("无法读取 xlsx 文件，请确认文件未损坏") from exc
    if len(parts) > 10_000 or sum(p.file_size for p in parts) > limits.max_unzipped_bytes:
        raise FileProblem(f"xlsx 文件解压后超过 {_size(limits.max_unzipped_bytes)}，"
                          f"请删除多余的工作表、图片或格式，或另存为 csv 后再导入；{NOTHING_IMPORTED}")


def _size(n: int) -> str:
    return f"{n // 2**20} MB" if n >= 2**20 else f"{max(1, n // 1024)} KB"


def _xlsx_rows(file: BinaryIO, limits: ReadLimits, *, data_only: bool) -> Iterator[list[str]]:
    import openpyxl  # imported here: only imports need it, and it is slow to load

    check_zip(file, limits)
    file.seek(0)
    try:
        book = openpyxl.load_workbook(file, read_only=True, data_only=data_only)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError, SyntaxError) as exc:
        raise FileProblem("无法读取 xlsx 文件，请确认文件未损坏") from exc
    try:
        if not book.worksheets:
            raise FileProblem("xlsx 文件中没有工作表")
        sheet = book.worksheets[0]
        # The declared dimension is the bomb's fuse: without it openpyxl pads no row beyond
        # its last cell and adds no rows after the last one present.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(values_only=True)
        number = 0
        while True:
            try:
                values = next(rows, None)
            except (ValueError, KeyError, TypeError, SyntaxError) as exc:  # malformed sheet XML
                raise FileProblem("无法读取 xlsx 文件，请确认文件未损坏") from exc
            if values is None:
                return
            number += 1
            if len(values) > limits.max_columns:
                # Refused even when the far cells are empty (formatted only): each such
                # row costs its whole width, up to 16384 cells, and a bomb repeats it.
                empty = values[limits.max_columns:].count(None) == len(values) - limits.max_columns
                raise limits.too_many_columns(number, len(values), empty=empty)
            # count(): gap rows come by the million in a bomb; keep each one cheap
            yield [] if values.count(None) == len(values) else [_cell_text(v) for v in values]
    finally:
        book.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 学号 or 年份 typed as numbers in Excel
    return str(value)
