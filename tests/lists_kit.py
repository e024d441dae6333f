"""The list component in tests: filter examples drawn by hypothesis, and reading its pages: the count a list shows, the count a batch
confirmation names, and what a batch report says was done and not done."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from hypothesis import Phase, given, settings as hsettings, strategies as st

from app.db import Database


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


def drawn(strategy: st.SearchStrategy, n: int) -> list[Any]:
    """n examples of `strategy`, drawn by hypothesis (the checks run on the database, in
    the test's event loop, after the drawing)."""
    out: list[Any] = []

    @hsettings(max_examples=n, database=None, phases=[Phase.generate], deadline=None)
    @given(strategy)
    def collect(value: Any) -> None:
        out.append(value)
    collect()
    return out


async def states(database_url: str, table: sa.Table) -> dict[int, str]:
    """id → status of every row of a reviewed item's table, read from the database."""
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return dict((await conn.execute(sa.select(table.c.id, table.c.status))).all())
    finally:
        await db.dispose()
