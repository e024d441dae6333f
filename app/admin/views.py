"""Platform admin: 邮件发件箱, where mail kept without SMTP (or not yet sent) can be read,
and a mail that failed for good can be sent again (【重发】, back to the same filtered list)."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
import sqlalchemy as sa
from aiohttp import web

from ..lists.spec import fetch, resolve
from ..middleware import require_identity
from ..notify import outbox as outbox_service
from ..roles import Role, allow
from ..state import CLOCK, DB, OUTBOX
from ..tables import email_outbox
from . import listing


@allow(Role.PLATFORM_ADMIN)
async def outbox(request: web.Request) -> web.Response:
    r = resolve(listing.SPEC, request.query)
    async with request.app[DB].read() as conn:
        page = await fetch(conn, r, listing.rows())
    return aiohttp_jinja2.render_template("admin/outbox.html", request, {
        "r": r, "page": page, "status_label": listing.status_label,
        "template_label": listing.template_label, "failed": outbox_service.FAILED,
        "can_send": request.app[OUTBOX].can_send}, status=400 if r.form.errors else 200)


@allow(Role.PLATFORM_ADMIN)
@aiohttp_jinja2.template("admin/outbox_mail.html")
async def outbox_mail(request: web.Request) -> dict[str, Any]:
    async with request.app[DB].read() as conn:
        row = (await conn.execute(sa.select(email_outbox).where(
            email_outbox.c.id == int(request.match_info["mail_id"])))).first()
    if row is None:
        raise web.HTTPNotFound()
    return {"mail": row, "status_label": listing.status_label,
            "template_label": listing.template_label, "failed": outbox_service.FAILED}


@allow(Role.PLATFORM_ADMIN)
async def outbox_resend(request: web.Request) -> web.Response:
    app = request.app
    async with app[DB].write() as conn:
        await outbox_service.resend(conn, int(request.match_info["mail_id"]),
                                    actor_id=require_identity(request).account_id,
                                    now=app[CLOCK].now())
    # back to the list as it was filtered (the form's action carries its query)
    back = {k: v for k, v in request.query.items() if k in listing.KEPT}
    raise web.HTTPSeeOther(str(app.router["outbox"].url_for().with_query(back)))
