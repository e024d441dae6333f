"""Routes of the shared pages: home, health, the role centres and 站内通知."""

from __future__ import annotations

from aiohttp import web

from . import views


def setup_page_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/", views.home, name="home")
    r.add_get("/healthz", views.healthz, name="healthz")
    r.add_get("/favicon.ico", views.favicon, name="favicon")
    # Role centres
    r.add_get("/student", views.student_centre, name="student_centre")
    r.add_get("/employer", views.employer_centre, name="employer_centre")
    r.add_get("/counselor", views.counselor_centre, name="counselor_centre")
    r.add_get("/school", views.school_centre, name="school_centre")
    r.add_get("/platform", views.platform_centre, name="platform_centre")
    r.add_get("/notices", views.notices_page, name="notices")
    r.add_post("/notices/read", views.notices_read, name="notices_read")
