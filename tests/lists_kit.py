"""Reading the list component's pages in tests: the count a list shows, the count a batch
confirmation names, and what a batch report says was done and not done."""

from __future__ import annotations

import re


def total(page: str) -> int:
    """共 N 条符合条件 (templates/_list.html's count_line)."""
    return int(re.search(r'data-total="(\d+)"', page).group(1))


def count_on(page: str) -> int:
    """The count a batch confirmation names (templates/lists/batch_confirm.html)."""
    return int(re.search(r'data-count="(\d+)"', page).group(1))


def done_failed(page: str) -> tuple[int, int]:
    """(done, not done) of a batch report (templates/lists/batch_report.html)."""
    done = int(re.search(r'data-done="(\d+)"', page).group(1))
    failed = re.search(r'data-failed="(\d+)"', page)
    return done, int(failed.group(1)) if failed else 0
