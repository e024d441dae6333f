"""Platform admin: 短信发件箱, where every text message can be read with its state."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ..lists.spec import fetch, resolve
from ..reviews.common import int_param
from ..roles import Role, allow
from ..state import DB
from . import listing, outbox as sms


@allow(Role.PLATFORM_ADMIN)
async def outbox(request: web.Request) -> web.Response:
    r = resolve(listing.SPEC, request.query)
    async with request.app[DB].read() as conn:
        page = await fetch(conn, r, listing.rows())
    return aiohttp_jinja2.render_template("sms/outbox.html", request, {
        "r": r, "page": page, "status_label": listing.status_label,
        "purpose_label": listing.purpose_label,
        "can_send": request.app[sms.SMS_OUTBOX].can_send}, status=400 if r.form.errors else 200)


@allow(Role.PLATFORM_ADMIN)
@aiohttp_jinja2.template("sms/message.html")
async def message(request: web.Request) -> dict[str, Any]:
    async with request.app[DB].read() as conn:
        row = await sms.message(conn, int_param(request, "sms_id"))
    if row is None:
        raise web.HTTPNotFound()
    return {"sms": row, "status_label": listing.status_label, "purpose_label": listing.purpose_label}
