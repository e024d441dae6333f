"""Platform admin: 邮件发件箱, where mail kept without SMTP (or not yet sent) can be read,
and a mail that failed for good can be sent again (【重发】)."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
import sqlalchemy as sa
from aiohttp import web

from .. import paging
from ..middleware import require_identity
from ..notify import outbox as outbox_service
from ..roles import Role, allow
from ..state import CLOCK, DB, OUTBOX
from ..tables import email_outbox


@allow(Role.PLATFORM_ADMIN)
@aiohttp_jinja2.template("admin/outbox.html")
async def outbox(request: web.Request) -> dict[str, Any]:
    wanted = paging.params(request.query)
    status = request.query.get("status", "")
    status = status if status in outbox_service.STATUS_LABELS else ""
    async with request.app[DB].read() as conn:
        page = await outbox_service.listing(conn, wanted, status)
    return {"page": page, "q": wanted.q, "status": status,
            "statuses": outbox_service.STATUS_LABELS, "can_send": request.app[OUTBOX].can_send}


@allow(Role.PLATFORM_ADMIN)
@aiohttp_jinja2.template("admin/outbox_mail.html")
async def outbox_mail(request: web.Request) -> dict[str, Any]:
    async with request.app[DB].read() as conn:
        row = (await conn.execute(sa.select(email_outbox).where(
            email_outbox.c.id == int(request.match_info["mail_id"])))).first()
    if row is None:
        raise web.HTTPNotFound()
    return {"mail": row}


@allow(Role.PLATFORM_ADMIN)
async def outbox_resend(request: web.Request) -> web.Response:
    app = request.app
    async with app[DB].write() as conn:
        await outbox_service.resend(conn, int(request.match_info["mail_id"]),
                                    actor_id=require_identity(request).account_id,
                                    now=app[CLOCK].now())
    raise web.HTTPSeeOther(str(app.router["outbox"].url_for()))
