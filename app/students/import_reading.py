"""One run's pass over its file: read, clean and check a chunk of rows at a time, holding
a chunk, never the file (200,000 rows: +25 MB peak RSS, was +290 MB; bench/statistics.py).

The runner calls `next_chunk` in a CPU-pool thread, one chunk per call, and writes the
progress between calls. What must span the file is all that is kept: the 学号 seen (a
repeat is an error on the later row), the tally of corrections (cleaning.py) and of the
problems' groups (report.py), and the first MAX_STORED_PROBLEMS problems. The rows that
failed go to their workbook as they fail (workbooks.ErrorRows); the good ones are spilled
to an anonymous temporary file, read back a chunk at a time when the runner writes them.

Why spill rather than write each chunk as soon as it is checked: nothing is written to the
database until the whole file has been read, so a cap struck at row 45,001, a broken quote
in a csv or the time limit still means "本次未导入任何数据", as the refusals say, and the
job's report is complete before its first row is written. The spill costs about half a
second on 200,000 rows; the writing did not overlap the reading before either.
"""

from __future__ import annotations

import pickle
import tempfile
import threading
import time
from itertools import islice
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, Mapping

from .import_spec import ImportSpec
from .report import Tally
from .sheets import ReadLimits
from .workbooks import ErrorRows, error_rows_path

MAX_STORED_PROBLEMS = 5000  # kept on the job row (the CLI prints them); the report has all
# (filename, stored path, limits, cleaner) → the file's rows (ImportRunner.rows)
Rows = Callable[[str, str, ReadLimits, Any], Iterator[tuple[int, dict[str, str]]]]
Check = Callable[[list, Any, dict[str, int]], tuple[list, list]]


class Reading:
    """Its calls come one at a time (the runner awaits each) but from any pool thread."""

    def __init__(self, spec: ImportSpec, stored_path: str, filename: str, *, catalogue: Any,
                 choices: Mapping[str, list[str]], limits: ReadLimits, rows: Rows, check: Check,
                 chunk: int) -> None:
        self.spec = spec
        self.path = stored_path
        self.filename = filename
        self.catalogue = catalogue
        self.limits = limits
        self.chunk = chunk
        self.rows = 0                      # data rows read so far
        self.problems: list[dict[str, object]] = []
        self.tally = Tally()
        self.cleaner = spec.cleaner()
        self.errors = ErrorRows(error_rows_path(stored_path), spec, choices,
                                max_rows=limits.max_rows)
        self._check = check
        self._read = rows
        self._source: Iterator[tuple[int, dict[str, str]]] | None = None
        self._first_seen: dict[str, int] = {}
        self._spill: IO[bytes] | None = None
        self._spilled = 0                  # chunks of good rows in the spill
        self._lock = threading.Lock()
        self._busy = False
        self._close_asked = False
        self._started = False

    @property
    def failed_rows(self) -> int:
        return self.tally.failed_rows

    def next_chunk(self) -> bool:
        """In a pool thread: read and check up to `chunk` rows → True when the file ended."""
        return self._call(self._next_chunk)

    def finish(self) -> dict[str, object]:
        """In a pool thread: the error-rows workbook saved, → the job's report."""
        return self._call(self._finish)

    def good_chunks(self) -> Iterator[list]:
        """The rows that passed, a chunk at a time, in the file's order."""
        if self._spill is None:
            return
        self._spill.seek(0)
        for _ in range(self._spilled):
            yield pickle.load(self._spill)  # written by this process a moment ago, to a nameless file

    def close(self) -> None:
        """Drop the spill and any unsaved error rows; from any thread, without waiting: a
        call still running (its task was cancelled) closes them itself when it returns."""
        with self._lock:
            if self._busy:
                self._close_asked = True
                return
        self._close()

    def _call(self, step: Callable[[], Any]) -> Any:
        with self._lock:
            self._busy = True
        if self._started:
            self.limits.resume()
        else:  # time waiting for a free thread does not count
            self._started = True
            self.limits.started = time.monotonic()
        try:
            self.limits.check()  # cancelled while it waited
            return step()
        finally:
            self.limits.pause()
            with self._lock:
                self._busy = False
                closing = self._close_asked
            if closing:
                self._close()

    def _next_chunk(self) -> bool:
        if self._source is None:
            self._source = self._read(self.filename, self.path, self.limits, self.cleaner)
        rows = list(islice(self._source, self.chunk))
        self.rows += len(rows)
        good, problems = self._check(rows, self.catalogue, self._first_seen)
        if problems:
            self._failed(rows, problems)
        if good:
            if self._spill is None:
                self._spill = tempfile.TemporaryFile(dir=Path(self.path).parent)
            pickle.dump(good, self._spill, protocol=pickle.HIGHEST_PROTOCOL)
            self._spilled += 1
        return len(rows) < self.chunk

    def _failed(self, rows: Iterable[tuple[int, dict[str, str]]], problems: list) -> None:
        self.tally.add(problems)
        room = MAX_STORED_PROBLEMS - len(self.problems)
        self.problems += [p.as_dict() for p in problems[:max(room, 0)]]
        reasons: dict[int, dict[str, None]] = {}
        for p in problems:  # one text per row, each problem once, in the order found
            reasons.setdefault(p.row, {})[f"{p.field}：{p.reason}"] = None
        for number, values in rows:
            if number in reasons:
                self.errors.add(values, "；".join(reasons[number]))

    def _finish(self) -> dict[str, object]:
        error_file = self.errors.save()
        return self.tally.result(self.cleaner.changes(), error_file=error_file)

    def _close(self) -> None:
        self.errors.discard()
        if self._source is not None:
            self._source.close()  # type: ignore[attr-defined]  (a generator: its file closes)
            self._source = None
        if self._spill is not None:
            self._spill.close()
            self._spill = None
