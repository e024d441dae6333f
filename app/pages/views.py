"""Home, health and the role centres (学生中心, 单位中心, 管理中心 …)."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ..middleware import CSRF_TOKEN, UNREAD_NOTICES, identity, require_identity
from ..notify import notices
from ..pagecache import cached_for_visitors
from ..roles import Role, allow, public
from ..state import CLOCK, DB
from . import centres

CENTRE_ROUTE = {
    Role.STUDENT: "student_centre",
    Role.EMPLOYER: "employer_centre",
    Role.COUNSELOR: "counselor_centre",
    Role.SCHOOL_ADMIN: "school_centre",
    Role.PLATFORM_ADMIN: "platform_centre",
}
ALL_ROLES = tuple(Role)


def centre_url(request: web.Request, role: Role) -> str:
    return str(request.app.router[CENTRE_ROUTE[role]].url_for())


async def template_context(request: web.Request) -> dict[str, Any]:
    """What base.html needs; no query of its own (the session's query counted the notices)."""
    ident = identity(request)
    return {
        "identity": ident,
        "csrf_token": request.get(CSRF_TOKEN, ""),
        "unread_notices": request.get(UNREAD_NOTICES, 0),
        "centre_url": centre_url(request, ident.role) if ident else None,
    }


@public
@cached_for_visitors(lambda request: ())
@aiohttp_jinja2.template("home.html")
async def home(request: web.Request) -> dict[str, Any]:
    return {}


@public
async def healthz(request: web.Request) -> web.Response:
    async with request.app[DB].read() as conn:
        await conn.exec_driver_sql("SELECT 1")
    return web.json_response({"ok": True})


@allow(Role.STUDENT)
@aiohttp_jinja2.template("centres/student.html")
async def student_centre(request: web.Request) -> dict[str, Any]:
    async with request.app[DB].read() as conn:
        return await centres.student(conn, require_identity(request))


@allow(Role.EMPLOYER)
@aiohttp_jinja2.template("centres/employer.html")
async def employer_centre(request: web.Request) -> dict[str, Any]:
    async with request.app[DB].read() as conn:
        return await centres.employer(conn, require_identity(request))


@allow(Role.COUNSELOR)
@aiohttp_jinja2.template("centres/counselor.html")
async def counselor_centre(request: web.Request) -> dict[str, Any]:
    async with request.app[DB].read() as conn:
        return await centres.counselor(conn, require_identity(request))


@allow(Role.SCHOOL_ADMIN)
@aiohttp_jinja2.template("centres/school.html")
async def school_centre(request: web.Request) -> dict[str, Any]:
    async with request.app[DB].read() as conn:
        return await centres.school(conn, require_identity(request))


@allow(Role.PLATFORM_ADMIN)
@aiohttp_jinja2.template("centres/platform.html")
async def platform_centre(request: web.Request) -> dict[str, Any]:
    async with request.app[DB].read() as conn:
        return await centres.platform(conn)


@allow(*ALL_ROLES)
@aiohttp_jinja2.template("notices.html")
async def notices_page(request: web.Request) -> dict[str, Any]:
    async with request.app[DB].read() as conn:
        return {"items": await notices.latest(conn, require_identity(request).account_id, 100)}


@allow(*ALL_ROLES)
async def notices_read(request: web.Request) -> web.Response:
    async with request.app[DB].write() as conn:
        await notices.mark_all_read(conn, require_identity(request).account_id,
                                    request.app[CLOCK].now())
    raise web.HTTPSeeOther(request.app.router["notices"].url_for())
