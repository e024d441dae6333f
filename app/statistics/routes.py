"""就业统计 routes: the page (its exports are jobs: app/exports/)."""

from __future__ import annotations

from aiohttp import web

from . import views


def setup_statistics_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/statistics", views.statistics_page, name="statistics")
