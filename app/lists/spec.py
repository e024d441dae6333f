"""A staff list declared as data: its filters, its columns (which sort), its page sizes.

`resolve` reads a request's query against a spec: every filter value is checked (a choice
must be one of the options the viewer was offered, a date a date, a range in order), a
wrong one gets its message next to the field and is not applied, and what is valid comes
back as `Resolved`, whose `where()` and `order_by()` the screen, the export and "select all
N" all use, so the three can never disagree. Everything lives in the URL, so a filtered
list can be bookmarked, shared and drilled into from a number on another page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence, Union

import sqlalchemy as sa

from .. import paging
from ..clock import china_midnight
from ..forms import Form

Options = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Choice:
    """One value out of a list (学院, 状态 …). `options` are fixed here or given per viewer
    at `resolve` (the school's own 学院); `clause` turns the picked value into SQL."""
    name: str
    label: str
    clause: Callable[[str], Any]
    options: Options = ()
    placeholder: str = "全部"
    default: str = ""   # the value when the URL does not name this filter (empty: 全部)


@dataclass(frozen=True)
class Text:
    """Free text: every word found in one of `columns` (app/paging.matches)."""
    name: str
    label: str
    columns: tuple[Any, ...]


@dataclass(frozen=True)
class DateRange:
    """Days in China time, both ends included: `<name>_from` and `<name>_to` in the URL.
    `column` is a UTC time, or a calendar date (`dates=True`: compared as it is)."""
    name: str
    label: str
    column: Any
    dates: bool = False

    @property
    def names(self) -> tuple[str, str]:
        return f"{self.name}_from", f"{self.name}_to"


Filter = Union[Choice, Text, DateRange]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    sort: Any = None   # the expression sorted by; None: the column does not sort


@dataclass(frozen=True)
class ListSpec:
    route: str                 # the list's route name, for its links
    filters: tuple[Filter, ...]
    columns: tuple[Column, ...]
    default_sort: str          # a column key, "-" first for descending
    tiebreak: Any              # a unique column: pages never repeat or skip a row
    sizes: tuple[int, ...] = (20, 50, 100)

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key and c.sort is not None), None)


def _day(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        return None


@dataclass
class Resolved:
    spec: ListSpec
    form: Form                                  # what was typed, and a message per wrong field
    values: dict[str, str]                      # the valid filter values (URL names)
    options: dict[str, list[tuple[str, str]]]   # each choice's options as offered
    sort: str
    descending: bool
    size: int
    page: int = 1

    def where(self) -> list[Any]:
        out = []
        for f in self.spec.filters:
            if isinstance(f, Choice) and f.name in self.values:
                out.append(f.clause(self.values[f.name]))
            elif isinstance(f, Text) and f.name in self.values:
                out.append(paging.matches(self.values[f.name], *f.columns))
            elif isinstance(f, DateRange):
                start, end = f.names
                if start in self.values:
                    day = dt.date.fromisoformat(self.values[start])
                    out.append(f.column >= (day if f.dates else china_midnight(day)))
                if end in self.values:
                    day = dt.date.fromisoformat(self.values[end])
                    out.append(f.column <= day if f.dates
                               else f.column < china_midnight(day + dt.timedelta(days=1)))
        return out

    def order_by(self) -> list[Any]:
        column = self.spec.column(self.sort)
        assert column is not None  # resolve() only keeps a sortable key
        expr = column.sort
        # NULLs last both ways, the same on SQLite and PostgreSQL
        ordered = [expr.is_(None), expr.desc() if self.descending else expr.asc()]
        return [*ordered, self.spec.tiebreak]

    @property
    def sort_param(self) -> str:
        return ("-" if self.descending else "") + self.sort

    def filter_query(self) -> dict[str, str]:
        """The filters alone, as URL parameters: what an export or "select all" re-reads.
        A filter with a default that the viewer set to 全部 is kept as empty, or the next
        page would bring the default back."""
        kept_empty = {f.name: "" for f in self.spec.filters
                      if isinstance(f, Choice) and f.default and f.name not in self.values}
        return {**kept_empty, **self.values}

    def query(self, **changes: Any) -> dict[str, str]:
        """The list's whole URL query (filters, sort, size, page) with `changes` applied;
        defaults are left out so URLs stay short."""
        out = self.filter_query()
        if self.sort_param != self.spec.default_sort:
            out["sort"] = self.sort_param
        if self.size != self.spec.sizes[0]:
            out["size"] = str(self.size)
        if self.page != 1:
            out["page"] = str(self.page)
        defaulted = {f.name for f in self.spec.filters if isinstance(f, Choice) and f.default}
        for key, value in changes.items():
            if value == "" and key in defaulted:
                out[key] = ""      # 全部 of a filter with a default: said, or the default returns
            elif value in (None, ""):
                out.pop(key, None)
            else:
                out[key] = str(value)
        return out

    def export_query(self) -> dict[str, str]:
        """What 导出筛选结果 sends: the filters and the order, so the file is the screen's."""
        return self.query(page=None, size=None)

    def sort_query(self, key: str) -> dict[str, str]:
        """The link of a column header: sort by it, or turn its order round; back to page 1."""
        descending = not self.descending if key == self.sort else False
        return self.query(sort=("-" if descending else "") + key, page=None)

    def sorted_as(self, key: str) -> str | None:
        """aria-sort of a column header."""
        if key != self.sort:
            return None
        return "descending" if self.descending else "ascending"

    def chosen(self) -> list[tuple[str, str]]:
        """(filter label, value as shown) of every filter in force: for 说明 and the page."""
        out = []
        for f in self.spec.filters:
            if isinstance(f, Choice) and f.name in self.values:
                shown = dict(self.options.get(f.name, ())).get(self.values[f.name], self.values[f.name])
                out.append((f.label, shown))
            elif isinstance(f, Text) and f.name in self.values:
                out.append((f.label, self.values[f.name]))
            elif isinstance(f, DateRange):
                start, end = (self.values.get(n, "") for n in f.names)
                if start or end:
                    out.append((f.label, f"{start or '…'} 至 {end or '…'}"))
        return out

    @property
    def paging(self) -> paging.Params:
        return paging.Params(page=self.page)


def resolve(spec: ListSpec, query: Mapping[str, str],
            options: Mapping[str, Options] | None = None) -> Resolved:
    """`query` as the viewer sent it; `options` the per-viewer choices."""
    form = Form(query)
    values: dict[str, str] = {}
    offered: dict[str, list[tuple[str, str]]] = {}
    for f in spec.filters:
        if isinstance(f, Choice):
            offered[f.name] = [(str(v), t) for v, t in ((options or {}).get(f.name) or f.options)]
            raw = (form.values[f.name] if f.name in form.values else f.default).strip()
            if f.default:
                form.values.setdefault(f.name, f.default)
            if raw:
                if raw in {v for v, _ in offered[f.name]}:
                    values[f.name] = raw
                else:
                    form.error(f.name, f"请选择列表中的{f.label}")
        elif isinstance(f, Text):
            q = paging.params({"q": form.get(f.name)}).q
            if q:
                values[f.name] = q
        else:
            days = {}
            for name in f.names:
                raw = form.get(name).strip()
                if raw:
                    day = _day(raw)
                    if day is None:
                        form.error(name, "请输入日期，如 2026-06-30")
                    else:
                        days[name] = day
            start, end = f.names
            if start in days and end in days and days[start] > days[end]:
                form.error(end, "结束日期不能早于开始日期")
                days.pop(end)
            values.update({n: d.isoformat() for n, d in days.items()})
    raw_sort = form.get("sort").strip()
    descending = raw_sort.startswith("-")
    sort = raw_sort.lstrip("-")
    if spec.column(sort) is None:
        descending = spec.default_sort.startswith("-")
        sort = spec.default_sort.lstrip("-")
    raw_size = form.get("size").strip()
    size = int(raw_size) if raw_size in {str(s) for s in spec.sizes} else spec.sizes[0]
    return Resolved(spec=spec, form=form, values=values, options=offered, sort=sort,
                    descending=descending, size=size, page=paging.params(query).page)


async def fetch(conn: Any, resolved: Resolved, stmt: sa.Select) -> paging.Page:
    """One page of `stmt` narrowed and sorted as the viewer asked, and the count of all
    that match."""
    return await paging.fetch(conn, stmt.where(*resolved.where()).order_by(*resolved.order_by()),
                              resolved.paging, per_page=resolved.size)
