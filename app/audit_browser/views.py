"""操作日志 page: thin over service.read (scope and filters) and one page of its rows."""

from __future__ import annotations

from typing import Any, Callable

import aiohttp_jinja2
from aiohttp import web

from .. import paging
from ..lists.spec import fetch
from ..middleware import require_identity
from ..roles import ACCESS_ATTR, PUBLIC, Role, allow
from ..state import DB
from . import labels, service


def may_open(app: web.Application, route: str, role: Role) -> bool:
    """Whether `role` may open the page of route `route`: what its handler's @allow says,
    the same declaration the access middleware enforces."""
    for r in app.router[route]:
        if r.method == "GET":
            allowed = getattr(r.handler, ACCESS_ATTR, None)
            return allowed == PUBLIC or (bool(allowed) and role in allowed)
    return False


def item_links(app: web.Application, role: Role) -> Callable[[Any], str | None]:
    """row → the URL of its item's page, or None where the viewer has none to open."""
    pages = {entity: (route, part) for entity, (route, part) in service.ITEM_PAGES.items()
             if may_open(app, route, role)}

    def link(row: Any) -> str | None:
        page = pages.get(row.entity)
        if page is None or not (row.entity_id.isascii() and row.entity_id.isdigit()):
            return None
        route, part = page
        return str(app.router[route].url_for(**{part: row.entity_id}))
    return link


@allow(Role.SCHOOL_ADMIN, Role.PLATFORM_ADMIN)
async def audit_page(request: web.Request) -> web.Response:
    ident = require_identity(request)
    async with request.app[DB].read() as conn:
        r = await service.read(conn, ident, request.query)
        page: paging.Page | None = None
        if not r.form.errors:
            page = await fetch(conn, r, service.rows())
    return aiohttp_jinja2.render_template("audit/list.html", request, {
        "r": r, "page": page, "is_platform": ident.role == Role.PLATFORM_ADMIN,
        "export_query": r.export_query(),
        "link": item_links(request.app, ident.role),
        "action_label": labels.action_label, "entity_label": labels.entity_label,
        "state_label": labels.state_label, "describe": labels.describe},
        status=400 if r.form.errors else 200)
