"""Platform admin: 短信发件箱, where every text message can be read with its state."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
import sqlalchemy as sa
from aiohttp import web

from .. import paging
from ..reviews.common import int_param
from ..roles import Role, allow
from ..state import DB
from . import outbox as sms

STATUS_LABELS = {"pending": "待发送", "sent": "已发送", "kept": "已保存（未发出）", "failed": "发送失败"}


def status_label(row: sa.Row) -> str:
    if row.status == "pending" and row.last_error:
        return "待重试"
    return STATUS_LABELS.get(row.status, row.status)


@allow(Role.PLATFORM_ADMIN)
@aiohttp_jinja2.template("sms/outbox.html")
async def outbox(request: web.Request) -> dict[str, Any]:
    wanted = paging.params(request.query)
    async with request.app[DB].read() as conn:
        page = await sms.listing(conn, wanted)
    return {"page": page, "q": wanted.q, "status_label": status_label,
            "can_send": request.app[sms.SMS_OUTBOX].can_send}


@allow(Role.PLATFORM_ADMIN)
@aiohttp_jinja2.template("sms/message.html")
async def message(request: web.Request) -> dict[str, Any]:
    async with request.app[DB].read() as conn:
        row = await sms.message(conn, int_param(request, "sms_id"))
    if row is None:
        raise web.HTTPNotFound()
    return {"sms": row, "status_label": status_label}
