"""Small helpers the review views share."""

from __future__ import annotations

from aiohttp import web

from ..middleware import require_identity


def int_param(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    if not raw.isdigit() or len(raw) > 12:
        raise web.HTTPNotFound()
    return int(raw)


def school_id(request: web.Request) -> int:
    found = require_identity(request).school_id
    if found is None:
        raise web.HTTPForbidden()
    return found


def see_other(request: web.Request, name: str, query: dict | None = None, **parts: object) -> web.HTTPSeeOther:
    url = request.app.router[name].url_for(**{k: str(v) for k, v in parts.items()})
    if query:
        url = url.with_query(query)
    return web.HTTPSeeOther(str(url))
