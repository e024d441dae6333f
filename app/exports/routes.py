"""导出 routes, and the process's export runner (started and stopped with the app)."""

from __future__ import annotations

from typing import AsyncIterator

from aiohttp import web

from ..state import CLOCK, CPU, DB, SETTINGS
from . import views
from .runner import EXPORTS, ExportRunner


def setup_export_routes(app: web.Application) -> None:
    r = app.router
    r.add_post("/exports", views.ask, name="export_ask")
    r.add_get("/exports", views.mine, name="exports_mine")
    r.add_get("/exports/{job_id:\\d+}", views.job_page, name="export_job")
    r.add_get("/exports/{job_id:\\d+}/status", views.job_status, name="export_status")
    r.add_get("/exports/{job_id:\\d+}/file", views.download, name="export_file")
    app.cleanup_ctx.append(_runner)


async def _runner(app: web.Application) -> AsyncIterator[None]:
    runner = app[EXPORTS] = ExportRunner(app[DB], app[SETTINGS], app[CLOCK], app[CPU])
    await runner.open()
    yield
    await runner.close()
