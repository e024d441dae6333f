"""就业统计 routes: the page and its exports, and the employer's applicants export."""

from __future__ import annotations

from aiohttp import web

from . import views


def setup_statistics_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/statistics", views.statistics_page, name="statistics")
    r.add_get("/statistics/exports/{kind:graduates|records|origin|tables}.xlsx",
              views.statistics_export, name="statistics_export")
    r.add_get("/employer/applicants.xlsx", views.applicants_export, name="applicants_export")
