"""Routes of text messaging, added to the app by one call from app/web.py: 短信发件箱.
The pages that send text messages (手机认证, app/phone/) register their own routes. The SMS
worker lives in the app's cleanup_ctx like the mail outbox's."""

from __future__ import annotations

import asyncio
from typing import AsyncIterator

from aiohttp import web

from ..state import CLOCK, DB, SETTINGS
from . import views
from .gateway import SmsGateway, load_gateway
from ..outbox_claim import wind_down
from .outbox import SMS_OUTBOX, SmsOutboxWorker

SMS_GATEWAY = web.AppKey("sms_gateway", SmsGateway)


def setup_sms_routes(app: web.Application) -> None:
    # Loaded here, in create_app, so that a wrong SMS_GATEWAY stops start-up at once.
    app[SMS_GATEWAY] = load_gateway(app[SETTINGS].sms_gateway)
    r = app.router
    r.add_get("/platform/sms", views.outbox, name="sms_outbox")
    r.add_get("/platform/sms/{sms_id:\\d+}", views.message, name="sms_message")
    app.cleanup_ctx.append(_sms_worker)


async def _sms_worker(app: web.Application) -> AsyncIterator[None]:
    worker = SmsOutboxWorker(app[DB], app[SETTINGS], app[CLOCK], app[SMS_GATEWAY])
    app[SMS_OUTBOX] = worker
    worker.watch(app[DB])
    task = asyncio.create_task(worker.run(), name="sms_outbox")
    yield
    await wind_down(worker, task)
