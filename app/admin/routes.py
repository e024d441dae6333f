"""Routes of the platform admin's 邮件发件箱."""

from __future__ import annotations

from aiohttp import web

from . import views


def setup_admin_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/platform/outbox", views.outbox, name="outbox")
    r.add_get("/platform/outbox/{mail_id:\\d+}", views.outbox_mail, name="outbox_mail")
    r.add_post("/platform/outbox/{mail_id:\\d+}/resend", views.outbox_resend,
               name="outbox_resend")
