"""学校设置: the school admin's page for the school's switches, windows, deadline and hall
times; a platform admin reaches every school's from a list. Thin: form.parse checks, the
service writes and audits."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
import sqlalchemy as sa
from aiohttp import web

from ..auth.service import school_choices
from ..forms import Form, FormError
from ..middleware import require_identity
from ..reviews.common import int_param, see_other
from ..roles import Role, allow
from ..state import CLOCK, DB, SETTINGS
from ..tables import schools
from . import form as settings_form, service

PAGE = "school_settings/page.html"


@allow(Role.SCHOOL_ADMIN, Role.PLATFORM_ADMIN)
async def index(request: web.Request) -> web.Response:
    """A school admin goes straight to their school; a platform admin picks one."""
    ident = require_identity(request)
    if ident.role == Role.SCHOOL_ADMIN:
        raise see_other(request, "school_settings", school_id=ident.school_id)
    async with request.app[DB].read() as conn:
        rows = await school_choices(conn)
    return aiohttp_jinja2.render_template("school_settings/index.html", request, {"schools": rows})


async def _school(request: web.Request) -> sa.Row:
    """The school in the URL, if this admin may manage it; 404 otherwise (as for any record
    outside one's school)."""
    school_id = int_param(request, "school_id")
    if not service.may_manage(require_identity(request), school_id):
        raise web.HTTPNotFound()
    async with request.app[DB].read() as conn:
        row = (await conn.execute(sa.select(schools).where(schools.c.id == school_id))).first()
    if row is None:
        raise web.HTTPNotFound()
    return row


async def _page(request: web.Request, school: sa.Row, form: Form | None,
                status: int = 200) -> web.Response:
    async with request.app[DB].read() as conn:
        current = await service.load(conn, school.id)
    defaults = request.app[SETTINGS]
    context: dict[str, Any] = {
        "school": school, "current": current, "form": form or settings_form.form_of(current),
        "hall_fields": settings_form.HALL_FIELDS, "defaults": settings_form.hall_defaults(defaults),
        "hall": current.hall_times(defaults), "done": request.query.get("done") == "1",
        "is_platform": require_identity(request).role == Role.PLATFORM_ADMIN}
    return aiohttp_jinja2.render_template(PAGE, request, context, status=status)


@allow(Role.SCHOOL_ADMIN, Role.PLATFORM_ADMIN)
async def page(request: web.Request) -> web.Response:
    return await _page(request, await _school(request), None)


@allow(Role.SCHOOL_ADMIN, Role.PLATFORM_ADMIN)
async def save(request: web.Request) -> web.Response:
    school = await _school(request)
    form = Form(await request.post())
    try:
        values = settings_form.parse(form)
    except FormError as exc:
        form.errors.update(exc.errors)
        form.error("_form", "请按提示修改后再保存，设置未保存")
        return await _page(request, school, form, 400)
    ident = require_identity(request)
    async with request.app[DB].write() as conn:
        await service.change(conn, school.id, actor_id=ident.account_id,
                             at=request.app[CLOCK].now(), **values)
    raise see_other(request, "school_settings", {"done": "1"}, school_id=school.id)
