"""Home, health and the role centres (学生中心, 单位中心, 管理中心 …)."""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import paging
from ..auth.sessions import Identity
from ..middleware import CSRF_TOKEN, UNREAD_NOTICES, identity, require_identity
from ..notify import notices
from ..accountcache import VALID_UNTIL, cached_for_account, plain_page
from ..pagecache import cached_for_visitors
from ..roles import Role, allow, public
from ..state import CLOCK, DB, ERRORS
from . import centres, todo
from .staffnav import STAFF_NAV

log = logging.getLogger(__name__)

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


def template_context(request: web.Request) -> dict[str, Any]:
    """What base.html needs; no query of its own (the session's query counted the notices)."""
    ident = identity(request)
    return {
        "request": request,
        "identity": ident,
        "csrf_token": request.get(CSRF_TOKEN, ""),
        "unread_notices": request.get(UNREAD_NOTICES, 0),
        "centre_url": centre_url(request, ident.role) if ident else None,
        "staff_nav": STAFF_NAV.get(ident.role) if ident else None,
    }


@web.middleware
async def page_context(request: web.Request, handler):  # noqa: ANN001
    """template_context() for every render of this request, as aiohttp_jinja2's context
    processors would give it, but kept in the request only while its handler runs: the
    context holds the request, and a request holding its context past its answer is a
    reference cycle. With the processors every request made one (about twenty objects) that
    only the cycle collector could free."""
    request[aiohttp_jinja2.REQUEST_CONTEXT_KEY] = template_context(request)
    try:
        return await handler(request)
    finally:
        del request[aiohttp_jinja2.REQUEST_CONTEXT_KEY]


@public
@cached_for_visitors(lambda request: ())
@aiohttp_jinja2.template("home.html")
async def home(request: web.Request) -> dict[str, Any]:
    return {}


@public
async def favicon(request: web.Request) -> web.Response:
    """/favicon.ico, which a browser asks for by itself (an image or PDF viewed on its own
    has no <link rel="icon">): the site's icon, not a 404 in the console."""
    raise web.HTTPMovedPermanently(request.app.router["static"].url_for(filename="favicon.svg"))


@public
async def healthz(request: web.Request) -> web.Response:
    """200 while the database answers, 503 while it does not (a monitor's "down", not a
    bug's 500); the failure is logged by the error middleware's budget."""
    try:
        async with request.app[DB].read() as conn:
            await conn.exec_driver_sql("SELECT 1")
    except Exception as exc:  # noqa: BLE001
        request.app[ERRORS].log(log, "健康检查：数据库无响应", exc)
        return web.json_response({"ok": False, "database": "unavailable"}, status=503)
    return web.json_response({"ok": True})


CentreData = Callable[[AsyncConnection, Identity], Awaitable[dict[str, Any]]]


async def _centre(request: web.Request, build: CentreData) -> dict[str, Any]:
    """A centre's own data and its 待办事项 (pages/todo.py), read together."""
    ident = require_identity(request)
    async with request.app[DB].read() as conn:
        data = await build(conn, ident)
        data["todos"] = await todo.for_identity(conn, ident, request.app[CLOCK].now())
    return data


@allow(Role.STUDENT)
@cached_for_account("student_centre", plain_page)
@aiohttp_jinja2.template("centres/student.html")
async def student_centre(request: web.Request) -> dict[str, Any]:
    # its to-do counts come with the record (centres.student): one statement fewer
    async with request.app[DB].read() as conn:
        data = await centres.student(conn, require_identity(request), request.app[CLOCK].now())
    if data["changes_at"] is not None:
        request[VALID_UNTIL] = data["changes_at"]
    return data


@allow(Role.EMPLOYER)
@aiohttp_jinja2.template("centres/employer.html")
async def employer_centre(request: web.Request) -> dict[str, Any]:
    return await _centre(request, centres.employer)


@allow(Role.COUNSELOR)
@aiohttp_jinja2.template("centres/counselor.html")
async def counselor_centre(request: web.Request) -> dict[str, Any]:
    return await _centre(request, centres.counselor)


@allow(Role.SCHOOL_ADMIN)
@aiohttp_jinja2.template("centres/school.html")
async def school_centre(request: web.Request) -> dict[str, Any]:
    return await _centre(request, centres.school)


@allow(Role.PLATFORM_ADMIN)
@aiohttp_jinja2.template("centres/platform.html")
async def platform_centre(request: web.Request) -> dict[str, Any]:
    return await _centre(request, centres.platform)


@allow(*ALL_ROLES)
@aiohttp_jinja2.template("notices.html")
async def notices_page(request: web.Request) -> dict[str, Any]:
    wanted = paging.params(request.query)
    async with request.app[DB].read() as conn:
        page = await notices.page_of(conn, require_identity(request).account_id, wanted)
    return {"page": page, "q": wanted.q}


@allow(*ALL_ROLES)
async def notices_read(request: web.Request) -> web.Response:
    async with request.app[DB].write() as conn:
        await notices.mark_all_read(conn, require_identity(request).account_id,
                                    request.app[CLOCK].now())
    raise web.HTTPSeeOther(request.app.router["notices"].url_for())
