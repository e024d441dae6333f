"""学生信息 and 学生档案 pages for staff: a counselor their college, a school admin their
school, a platform admin every school."""

from __future__ import annotations


import aiohttp_jinja2
from aiohttp import web

from ..lists.spec import fetch
from ..middleware import require_identity
from ..roles import Role, allow
from ..state import DB
from . import listing, student_file
from .filters import OutOfScope, scope_of

STAFF = (Role.COUNSELOR, Role.SCHOOL_ADMIN, Role.PLATFORM_ADMIN)


def _scope(request: web.Request):  # noqa: ANN202
    try:
        return scope_of(require_identity(request))
    except OutOfScope:
        raise web.HTTPForbidden() from None


@allow(*STAFF)
async def record_list(request: web.Request) -> web.Response:
    scope = _scope(request)
    async with request.app[DB].read() as conn:
        resolved = await listing.read(conn, scope, request.query)
        page = await fetch(conn, resolved, listing.rows(scope))
    ident = require_identity(request)
    context = {"r": resolved, "page": page, "labels": listing.labels,
               "placed_day": listing.placed_day, "platform": scope.school_id is None,
               "can_import": ident.role == Role.SCHOOL_ADMIN,
               "export_query": resolved.export_query()}
    return aiohttp_jinja2.render_template("roster/list.html", request, context,
                                          status=400 if resolved.form.errors else 200)


@allow(*STAFF)
async def file_page(request: web.Request) -> web.Response:
    raw = request.match_info["record_id"]
    if not raw.isdigit() or len(raw) > 12:
        raise web.HTTPNotFound()
    async with request.app[DB].read() as conn:
        found = await student_file.build(conn, _scope(request), int(raw))
    if found is None:
        raise web.HTTPNotFound()
    return aiohttp_jinja2.render_template("roster/file.html", request, {"f": found})
