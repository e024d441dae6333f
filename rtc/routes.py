"""HTTP routes of the real-time side: the device and network check (设备与网络检测)."""

from __future__ import annotations

import json
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from aiortc import RTCSessionDescription
from aiortc.sdp import SessionDescription

from app.middleware import require_identity
from app.roles import Role, allow
from app.state import CLOCK, SETTINGS

from . import quality
from .ice import ice_servers
from .probe import PROBES, ProbeRefused, probe_configuration, probe_registry_ctx

__all__ = ["probe_registry_ctx", "setup_rtc_routes"]

# A browser's data-channel-only offer is 1–3 kB; 20 kB leaves room for many interfaces.
MAX_SDP_CHARS = 20_000
MAX_BODY_BYTES = MAX_SDP_CHARS + 1024


def setup_rtc_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/hall/check", check_page, name="hall_check")
    r.add_get("/hall/ice", ice, name="hall_ice")
    r.add_post("/hall/probe", probe, name="hall_probe")


@allow(Role.STUDENT, Role.EMPLOYER)
@aiohttp_jinja2.template("hall/check.html")
async def check_page(request: web.Request) -> dict[str, Any]:
    return {"quality_table": json.dumps(quality.browser_table(), ensure_ascii=False)}


@allow(*Role)
async def ice(request: web.Request) -> web.Response:
    ident = require_identity(request)
    app = request.app
    return web.json_response(
        {"iceServers": ice_servers(app[SETTINGS], ident.account_id, app[CLOCK].now())})


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}, ensure_ascii=False),
                              content_type="application/json")


async def _offer(request: web.Request) -> RTCSessionDescription:
    if request.content_type != "application/json":
        raise _bad("请求格式不正确。")
    if request.content_length is None or request.content_length > MAX_BODY_BYTES:
        raise _bad("请求过大。")
    try:
        body = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        raise _bad("请求格式不正确。") from None
    if not isinstance(body, dict) or body.get("type") != "offer":
        raise _bad("需要 SDP offer。")
    sdp = body.get("sdp")
    if not isinstance(sdp, str) or not sdp or len(sdp) > MAX_SDP_CHARS:
        raise _bad("SDP 无效。")
    try:
        parsed = SessionDescription.parse(sdp)
    except Exception:  # noqa: BLE001  aiortc's parser raises anything (asserts too) on junk
        raise _bad("SDP 无效。") from None
    if not any(m.kind == "application" for m in parsed.media):
        raise _bad("SDP 中没有数据通道。")  # the probe is a DataChannel; nothing else to answer
    return RTCSessionDescription(sdp=sdp, type="offer")


@allow(*Role)
async def probe(request: web.Request) -> web.Response:
    ident = require_identity(request)
    offer = await _offer(request)
    configuration = probe_configuration(request.app, ident.account_id)
    try:
        answer = await request.app[PROBES].answer(offer, ident.account_id, configuration)
    except ProbeRefused as exc:
        return web.json_response({"error": str(exc)}, status=503)
    except ValueError:  # aiortc's word for an SDP it cannot use
        raise _bad("SDP 无效。") from None
    return web.json_response({"sdp": answer.sdp, "type": answer.type})
