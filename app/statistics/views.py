"""就业统计 pages: thin handlers over filters.resolve (who sees what), service.build (the
figures) and exports (the workbooks, streamed to a temporary file and served from it)."""

from __future__ import annotations

import asyncio
import contextlib
import urllib.parse
import uuid
from pathlib import Path
from typing import Any, AsyncIterator

import aiohttp_jinja2
from aiohttp import web
from markupsafe import Markup

from ..middleware import require_identity
from ..monitor.charts import bar_chart
from ..roles import Role, allow
from ..state import CPU, DB, SETTINGS
from . import exports
from .filters import OutOfScope, View, resolve
from .groups import GROUPS
from .service import Line, Statistics, build

STAFF = (Role.COUNSELOR, Role.SCHOOL_ADMIN, Role.PLATFORM_ADMIN)
CHUNK = 256 * 1024


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


@allow(*STAFF)
async def statistics_page(request: web.Request) -> web.Response:
    db = request.app[DB]
    async with db.read() as conn:
        view = await _resolve(request, conn)
        stats = await build(conn, view.year, view.scope, is_sqlite=db.is_sqlite,
                            with_schools=view.every_school)
    return aiohttp_jinja2.render_template("statistics/page.html", request, {
        "view": view, "form": view.form, "stats": stats, "groups": list(GROUPS),
        "charts": charts_for(stats), "query": view.query(),
        "year_options": [(y, f"{y}届") for y in view.years]})


@contextlib.asynccontextmanager
async def _temporary_xlsx(request: web.Request) -> AsyncIterator[Path]:
    folder = request.app[SETTINGS].data_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.xlsx"
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


async def _send(request: web.Request, path: Path, filename: str) -> web.StreamResponse:
    """Serve the finished file from disk in chunks (its deletion follows, in _temporary_xlsx)."""
    response = web.StreamResponse(headers={
        "Content-Type": exports.XLSX_TYPE,
        "Content-Disposition": "attachment; filename=\"export.xlsx\"; "
                               f"filename*=UTF-8''{urllib.parse.quote(filename, safe='')}"})
    response.content_length = path.stat().st_size
    await response.prepare(request)
    with path.open("rb") as f:
        while chunk := await asyncio.to_thread(f.read, CHUNK):
            await response.write(chunk)
    await response.write_eof()
    return response


@allow(*STAFF)
async def statistics_export(request: web.Request) -> web.StreamResponse:
    kind = request.match_info["kind"]
    db, cpu = request.app[DB], request.app[CPU]
    async with _temporary_xlsx(request) as path:
        async with cpu.share("export"), db.read() as conn:
            view = await _resolve(request, conn)
            if kind == "tables":
                stats = await build(conn, view.year, view.scope, is_sqlite=db.is_sqlite,
                                    with_schools=view.every_school)
                await exports.write_tables(cpu, path, stats)
                title = "就业统计"
            else:
                export = exports.export_for(kind, view.year, view.scope)
                await exports.write_streamed(conn, cpu, path, export)
                title = export.title
        return await _send(request, path, f"{title}-{view.year or ''}.xlsx")


@allow(Role.EMPLOYER)
async def applicants_export(request: web.Request) -> web.StreamResponse:
    ident = require_identity(request)
    if ident.employer_id is None:
        raise web.HTTPForbidden()
    db, cpu = request.app[DB], request.app[CPU]
    async with _temporary_xlsx(request) as path:
        async with cpu.share("export"), db.read() as conn:
            await exports.write_streamed(conn, cpu, path, exports.applicants_export(ident.employer_id))
        return await _send(request, path, "投递简历.xlsx")
