"""学校设置 routes, added to the app by one call from app/web.py."""

from __future__ import annotations

from aiohttp import web

from . import views


def setup_school_settings_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/schools/settings", views.index, name="school_settings_index")
    r.add_get("/schools/{school_id:\\d+}/settings", views.page, name="school_settings")
    r.add_post("/schools/{school_id:\\d+}/settings", views.save)
