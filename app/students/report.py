"""An import job's report: its problems grouped by field and message, and the corrections
its cleaning made. Built as the file is checked, a chunk at a time (Tally holds a count and
the first rows per group, not the problems), and kept on the job row, so a page of it costs
a slice of a list: 1,041 problems of three kinds are three lines ("学历：应为… — 1,002 行"),
not one 45,000 px table, and a file where every row is wrong in its own way is still shown
a page of groups at a time.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from .. import paging

GROUPS_PER_PAGE = 20
FIRST_ROWS = 5       # row numbers shown per group (the error-rows workbook has them all)
MAX_GROUPS = 2_000   # kept on the job row; more only when nearly every row differs


class Tally:
    """The groups of the problems added so far, which come in the file's order (a row's
    problems together, rows ascending): per group its number of rows, its first row and
    the first FIRST_ROWS rows with their own reason. Memory grows with the groups, never
    with the rows."""

    def __init__(self) -> None:
        self.failed_rows = 0
        self._groups: dict[tuple[str, str], list[Any]] = {}  # key → [rows, first row, first]
        self._row: int | None = None
        self._row_keys: set[tuple[str, str]] = set()

    def add(self, problems: Iterable[Any]) -> None:
        for p in problems:
            if p.row != self._row:
                self._row, self._row_keys = p.row, set()
                self.failed_rows += 1
            key = (p.field, p.kind)
            if key in self._row_keys:
                continue
            self._row_keys.add(key)
            group = self._groups.get(key)
            if group is None:
                group = self._groups[key] = [0, p.row, []]
            group[0] += 1
            if len(group[2]) < FIRST_ROWS:
                group[2].append([p.row, p.reason if p.reason != p.kind else ""])

    def result(self, changes: list[dict[str, object]], *, error_file: bool) -> dict[str, object]:
        order = sorted(self._groups, key=lambda key: (-self._groups[key][0], self._groups[key][1]))
        groups = [{"field": field, "message": message, "rows": self._groups[(field, message)][0],
                   "first": self._groups[(field, message)][2]}
                  for field, message in order[:MAX_GROUPS]]
        return {"failed_rows": self.failed_rows, "groups": groups,
                "more_groups": max(0, len(order) - MAX_GROUPS), "changes": changes,
                "error_file": error_file}


def build(problems: Sequence[Any], changes: list[dict[str, object]], *,
          error_file: bool) -> dict[str, object]:
    """{"failed_rows", "groups", "changes", "error_file"}: each group is a (field, message)
    with its number of rows and its first rows (and their own reason, when it names more
    than the group's message)."""
    tally = Tally()
    tally.add(sorted(problems, key=lambda p: p.row))  # stable: a row's problems keep their order
    return tally.result(changes, error_file=error_file)


def of_job(job: Any) -> dict[str, object]:
    """The job's report; a job from before reports were kept has its stored problems
    grouped now (the same shape, no corrections, no error-rows workbook)."""
    if job.report is not None:
        return job.report
    from .parsing import Problem
    return build([Problem(e["row"], e["field"], e["reason"]) for e in job.errors], [],
                 error_file=False)


def groups_page(report: Mapping[str, Any], wanted: paging.Params) -> paging.Page:
    groups = report["groups"]
    pages = max(1, -(-len(groups) // GROUPS_PER_PAGE))
    page = min(wanted.page, pages)
    start = (page - 1) * GROUPS_PER_PAGE
    return paging.Page(rows=groups[start:start + GROUPS_PER_PAGE], total=len(groups),
                       page=page, per_page=GROUPS_PER_PAGE)

