"""An import job's report: its problems grouped by field and message, and the corrections
its cleaning made. Built once, when the file has been checked, and kept on the job row, so a
page of it costs a slice of a list: 1,041 problems of three kinds are three lines
("学历：应为… — 1,002 行"), not one 45,000 px table, and a file where every row is wrong in
its own way is still shown a page of groups at a time.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Mapping, Sequence

from .. import paging

GROUPS_PER_PAGE = 20
FIRST_ROWS = 5       # row numbers shown per group (the error-rows workbook has them all)
MAX_GROUPS = 2_000   # kept on the job row; more only when nearly every row differs


def build(problems: Sequence[Any], changes: list[dict[str, object]], *,
          error_file: bool) -> dict[str, object]:
    """{"failed_rows", "groups", "changes", "error_file"}: each group is a (field, message)
    with its number of rows and its first rows (and their own reason, when it names more
    than the group's message)."""
    rows: dict[tuple[str, str], set[int]] = defaultdict(set)
    first: dict[tuple[str, str], list[list[object]]] = defaultdict(list)
    for p in problems:
        key = (p.field, p.kind)
        if p.row in rows[key]:
            continue
        rows[key].add(p.row)
        if len(first[key]) < FIRST_ROWS:
            first[key].append([p.row, p.reason if p.reason != p.kind else ""])
    order = sorted(rows, key=lambda key: (-len(rows[key]), min(rows[key])))
    groups = [{"field": field, "message": message, "rows": len(rows[(field, message)]),
               "first": first[(field, message)]} for field, message in order[:MAX_GROUPS]]
    return {"failed_rows": len({p.row for p in problems}), "groups": groups,
            "more_groups": max(0, len(order) - MAX_GROUPS), "changes": changes,
            "error_file": error_file}


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

