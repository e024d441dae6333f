"""操作日志 page: thin over service.read_filters (scope and filters) and service.page_of."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from ..auth.service import school_choices
from ..middleware import require_identity
from ..roles import Role, allow
from ..state import DB
from . import labels, service


@allow(Role.SCHOOL_ADMIN, Role.PLATFORM_ADMIN)
async def audit_page(request: web.Request) -> web.Response:
    ident = require_identity(request)
    async with request.app[DB].read() as conn:
        school_rows = await school_choices(conn) if ident.role == Role.PLATFORM_ADMIN else []
        q = service.read_filters(ident, request.query, {r.id for r in school_rows})
        page = await service.page_of(conn, q) if q.form.ok else None
    return aiohttp_jinja2.render_template("audit/list.html", request, {
        "q": q, "form": q.form, "page": page, "is_platform": ident.role == Role.PLATFORM_ADMIN,
        "schools": [(r.id, r.name) for r in school_rows],
        "entities": sorted(labels.ENTITY_LABELS.items(), key=lambda kv: kv[1]),
        "actions": sorted(labels.ACTION_LABELS.items(), key=lambda kv: kv[1]),
        "action_label": labels.action_label, "entity_label": labels.entity_label,
        "describe": labels.describe, "state_change": labels.state_change},
        status=200 if q.form.ok else 400)
