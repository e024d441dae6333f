"""Routes of 8.1 手机认证."""

from __future__ import annotations

from aiohttp import web

from . import views


def setup_phone_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/student/signing/phone", views.page, name="signing_phone")
    r.add_post("/student/signing/phone", views.verify)
    r.add_post("/student/signing/phone/code", views.send_code, name="signing_phone_code")
