"""One way to page and search every long list: ?page= and ?q= read with bounds, a select
counted and cut to one page, and the page links drawn by templates/_pager.html.

Offset paging, not keyset: staff jump to a page number and filter by state, and each list's
filter runs on an index, so the offset stays within one school's or one college's rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

PER_PAGE = 20
MAX_PAGE = 10_000   # a bigger number is a typo or a probe, not someone paging by hand
Q_MAX = 50          # characters of a search
MAX_WORDS = 5       # space-separated words of a search that count


@dataclass(frozen=True)
class Params:
    page: int = 1
    q: str = ""


def params(query: Mapping[str, str]) -> Params:
    """?page= and ?q= of a request. Anything but a plain number is page 1 (never a 500)."""
    raw = query.get("page", "")
    page = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 6 else 1  # not "²"
    return Params(page=min(max(page, 1), MAX_PAGE), q=" ".join(query.get("q", "").split())[:Q_MAX])


def matches(q: str, *columns: Any) -> sa.ColumnElement[bool]:
    """Every word of `q` is a substring of one of the columns (Chinese names have no spaces
    to split on, so a word is matched inside the text), case-insensitive, `%` and `_` literal."""
    words = q.split()[:MAX_WORDS]
    return sa.and_(sa.true(), *(sa.or_(*(c.icontains(w, autoescape=True) for c in columns))
                                for w in words))


@dataclass(frozen=True)
class Page:
    rows: list[sa.Row]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        """The position (from 1) of the page's first row."""
        return (self.page - 1) * self.per_page + 1


async def fetch(conn: AsyncConnection, stmt: sa.Select, wanted: Params, *,
                per_page: int = PER_PAGE) -> Page:
    """One page of `stmt` and the number of all its rows. `stmt` must end its ORDER BY on a
    unique column (an id), or rows could repeat or go missing between pages. A page past
    the end shows the last page."""
    total = (await conn.execute(
        sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery()))).scalar_one()
    page = min(wanted.page, max(1, -(-total // per_page)))
    rows = list(await conn.execute(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Page(rows=rows, total=total, page=page, per_page=per_page)
