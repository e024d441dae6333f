"""Platform admin: 短信发件箱, where every text message can be read with its state."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
import sqlalchemy as sa
from aiohttp import web

from ..roles import Role, allow
from ..state import DB
from .outbox import SMS_OUTBOX
from .tables import sms_outbox

LIST_LIMIT = 200
STATUS_LABELS = {"pending": "待发送", "sent": "已发送", "kept": "已保存（未发出）", "failed": "发送失败"}


def status_label(row: sa.Row) -> str:
    if row.status == "pending" and row.last_error:
        return "待重试"
    return STATUS_LABELS.get(row.status, row.status)


@allow(Role.PLATFORM_ADMIN)
@aiohttp_jinja2.template("sms/outbox.html")
async def outbox(request: web.Request) -> dict[str, Any]:
    async with request.app[DB].read() as conn:
        rows = list(await conn.execute(
            sa.select(sms_outbox).order_by(sms_outbox.c.id.desc()).limit(LIST_LIMIT + 1)))
        total = (await conn.execute(sa.select(sa.func.count()).select_from(sms_outbox))).scalar_one()
    return {"rows": rows[:LIST_LIMIT], "total": total, "limit": LIST_LIMIT,
            "status_label": status_label, "can_send": request.app[SMS_OUTBOX].can_send}


@allow(Role.PLATFORM_ADMIN)
@aiohttp_jinja2.template("sms/message.html")
async def message(request: web.Request) -> dict[str, Any]:
    raw = request.match_info["sms_id"]
    if len(raw) > 12:
        raise web.HTTPNotFound()
    async with request.app[DB].read() as conn:
        row = (await conn.execute(sa.select(sms_outbox).where(sms_outbox.c.id == int(raw)))).first()
    if row is None:
        raise web.HTTPNotFound()
    return {"sms": row, "status_label": status_label}
