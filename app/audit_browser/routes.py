"""操作日志 route, added to the app by one call from app/web.py."""

from __future__ import annotations

from aiohttp import web

from . import views


def setup_audit_routes(app: web.Application) -> None:
    app.router.add_get("/audit", views.audit_page, name="audit_log")
