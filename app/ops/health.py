"""/readyz: may a load balancer send this process traffic? The database answers, and Redis
too when REDIS_URL is set (without it socket.io events would not reach other processes).
/healthz (app/pages.py) only says the process is alive and serving."""

from __future__ import annotations

import asyncio
import logging

import redis.asyncio as aioredis
from aiohttp import web

from ..redislink import redis_connection_url
from ..roles import public
from ..state import DB, SETTINGS

log = logging.getLogger(__name__)
CHECK_SECONDS = 3.0  # a balancer's probe must get an answer, not hang with a dead peer


async def _database(app: web.Application) -> None:
    async with app[DB].read() as conn:
        await conn.exec_driver_sql("SELECT 1")


async def _redis(url: str) -> None:
    client = aioredis.from_url(redis_connection_url(url))
    try:
        await client.ping()
    finally:
        await client.aclose()


@public
async def readyz(request: web.Request) -> web.Response:
    app = request.app
    checks = {"database": _database(app)}
    if app[SETTINGS].redis_url:
        checks["redis"] = _redis(app[SETTINGS].redis_url)
    failed: dict[str, str] = {}
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check, CHECK_SECONDS)
        except Exception as exc:  # any failure means "not ready"; the reason says which
            log.warning("readyz: %s not ready: %r", name, exc)
            failed[name] = f"{type(exc).__name__}: {exc}"[:200] or type(exc).__name__
    if failed:
        return web.json_response({"ok": False, "reason": failed}, status=503)
    return web.json_response({"ok": True, "checked": sorted(checks)})
