"""One kind of import (学生信息, 生源信息) described once: the file's columns, how its cells are
corrected, and what its template shows (example row, notes, drop-downs). The runner, the
template, the error-rows workbook and the pages all read it, so both imports get the same
treatment from the same code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from .cleaning import Cleaner, Synonyms

# The template's example row carries this as its 学号: a row with it is skipped on import,
# so the template can be filled below its example and sent back as it is.
EXAMPLE_MARK = "示例"
ERROR_COLUMN = "错误"  # the error-rows workbook's last column; no import reads it


@dataclass(frozen=True)
class ImportSpec:
    title: str                                   # 学生信息 … (names the files)
    columns: Mapping[str, tuple[str, ...]]       # field → header names, the first the template's
    required: tuple[str, ...]
    synonyms: Mapping[str, Synonyms] = field(default_factory=dict)
    compact: tuple[str, ...] = ()                # fields where a space never belongs
    example: Mapping[str, str] = field(default_factory=dict)  # "{year}": this year
    notes: Mapping[str, str] = field(default_factory=dict)    # how to fill each column
    whole_numbers: Mapping[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def labels(self) -> dict[str, str]:
        return {f: names[0] for f, names in self.columns.items()}

    @property
    def header(self) -> list[str]:
        return [names[0] for names in self.columns.values()]

    def cleaner(self) -> Cleaner:
        return Cleaner(self.labels, self.synonyms, self.compact)

    def example_row(self, year: int, choices: Mapping[str, list[str]]) -> list[str]:
        """The example row for this year; a column with a drop-down shows its first choice
        unless the example names one of them (a school's own 学院 and 专业)."""
        row = []
        for f in self.columns:
            value = self.example.get(f, "").format(year=year, enrolled=year - 4)
            offered = choices.get(f)
            if offered and value not in offered:
                value = offered[0]
            row.append(value)
        return row
