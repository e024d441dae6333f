"""就业统计 pages: thin handlers over filters.resolve (who sees what) and service.build (the
figures). Its exports are jobs (app/exports/)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable

import aiohttp_jinja2
from aiohttp import web
from markupsafe import Markup
from yarl import URL

from ..destinations.codes import DESTINATIONS
from ..middleware import require_identity
from ..monitor.charts import bar_chart
from ..roles import Role, allow
from ..state import DB
from .filters import OutOfScope, View, resolve
from .groups import GROUPS
from .service import Line, Statistics, build

STAFF = (Role.COUNSELOR, Role.SCHOOL_ADMIN, Role.PLATFORM_ADMIN)


async def _resolve(request: web.Request, conn: Any) -> View:
    try:
        return await resolve(conn, require_identity(request), request.query)
    except OutOfScope:
        raise web.HTTPForbidden() from None


def _rate_chart(title: str, lines: list[Line]) -> Markup:
    return bar_chart(title, [(ln.label, ln.rate, "normal") for ln in lines], "%")


def charts_for(stats: Statistics) -> dict[str, Markup]:
    out = {part.name: _rate_chart(f"{part.title}就业率", part.lines) for part in stats.breakdowns}
    out["groups"] = bar_chart("落实率分组", [(g, r, "normal") for g, r in
                                         zip(GROUPS, stats.overall.group_rates())], "%")
    out["trend"] = bar_chart("按周累计就业率", [(w, r, "good") for w, _, _, r in stats.trend], "%")
    return out


# a breakdown's lines as filters of 学生信息; the province line without a 生源地 is "-"
LINE_FILTERS = {"school": "school", "college": "college", "major": "major",
                "education": "education", "gender": "gender", "province": "province"}


def drill_links(view: View, stats: Statistics, listing: URL) -> Callable[..., str]:
    """The 学生信息 URL behind a number of this page: the page's year and scope, and the
    number's own filters, so the list counts exactly what the number counted."""
    base = {**view.query(), **({"year": str(stats.year)} if stats.year is not None else {})}

    def url(part: str | None = None, key: str = "", **more: str) -> str:
        query = dict(base)
        if part is not None:
            query[LINE_FILTERS[part]] = key or "-"
        query.update(more)
        return str(listing.with_query(query))
    return url


def week_end(week: str) -> str:
    return (dt.date.fromisoformat(week) + dt.timedelta(days=6)).isoformat()


@allow(*STAFF)
async def statistics_page(request: web.Request) -> web.Response:
    db = request.app[DB]
    async with db.read() as conn:
        view = await _resolve(request, conn)
        stats = await build(conn, view.year, view.scope, is_sqlite=db.is_sqlite,
                            with_schools=view.every_school)
    return aiohttp_jinja2.render_template("statistics/page.html", request, {
        "view": view, "form": view.form, "stats": stats, "groups": list(GROUPS),
        "charts": charts_for(stats), "query": view.query(), "drill": drill_links(view, stats, request.app.router["student_records"].url_for()),
        "year_options": [(y, f"{y}届") for y in view.years], "week_end": week_end,
        "listed_codes": set(DESTINATIONS)})
