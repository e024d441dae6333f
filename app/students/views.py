"""School admin pages: student records and their import (upload, progress, report)."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ..bodies import read_upload
from ..forms import Form
from ..middleware import require_identity
from ..roles import Role, allow
from ..state import DB, IMPORTS, SETTINGS
from ..uploads import display_name
from ..validators import Invalid
from . import import_pages, imports
from .import_pages import job_status
from .parsing import TEMPLATE_HEADER


def _school_id(request: web.Request) -> int:
    school_id = require_identity(request).school_id
    if school_id is None:
        raise web.HTTPForbidden()
    return school_id


@allow(Role.SCHOOL_ADMIN)
@aiohttp_jinja2.template("students/import.html")
async def import_form(request: web.Request) -> dict[str, Any]:
    return {"form": Form(), "columns": TEMPLATE_HEADER}


@allow(Role.SCHOOL_ADMIN)
async def import_upload(request: web.Request) -> web.Response:
    post = await request.post()
    form = Form()
    try:
        data = read_upload(request, post, "file", request.app[SETTINGS].upload_max_bytes)
    except Invalid as exc:
        form.error("file", str(exc))
    else:
        name = display_name(post["file"].filename) if data is not None else ""
        if data is None:
            form.error("file", "请选择要导入的 xlsx 或 csv 文件")
        elif not name.lower().endswith((".xlsx", ".csv")):
            form.error("file", "只支持 .xlsx 或 .csv 文件")
        elif not data:
            form.error("file", "文件是空的")
    if not form.ok:
        return aiohttp_jinja2.render_template(
            "students/import.html", request, {"form": form, "columns": TEMPLATE_HEADER}, status=400)
    runner = request.app[IMPORTS]
    job_id = await runner.create(school_id=_school_id(request),
                                 account_id=require_identity(request).account_id,
                                 filename=name, data=data)
    runner.start(job_id)
    raise web.HTTPSeeOther(str(request.app.router["student_import_job"].url_for(job_id=str(job_id))))


@allow(Role.SCHOOL_ADMIN)
async def import_template(request: web.Request) -> web.Response:
    return await import_pages.template(request, request.app[IMPORTS], _school_id(request),
                                       "students.xlsx")


async def _job(request: web.Request):  # noqa: ANN202
    found = await imports.job(request.app[DB], int(request.match_info["job_id"]), _school_id(request))
    if found is None:
        raise web.HTTPNotFound()
    return found


@allow(Role.SCHOOL_ADMIN)
@aiohttp_jinja2.template("students/import_job.html")
async def import_job(request: web.Request) -> dict[str, Any]:
    # one page for every import job; it links to the routes of its own kind of import
    return import_pages.job_page(request, await _job(request), {
        "job_route": "student_import_job", "status_route": "student_import_status",
        "cancel_route": "student_import_cancel", "errors_route": "student_import_errors",
        "again_route": "student_import", "list_route": "student_records",
        "list_label": "查看学生信息"})


@allow(Role.SCHOOL_ADMIN)
async def import_errors(request: web.Request) -> web.StreamResponse:
    return import_pages.error_rows(request, await _job(request), "student-import-errors.xlsx")


@allow(Role.SCHOOL_ADMIN)
async def import_cancel(request: web.Request) -> web.Response:
    job = await _job(request)
    await request.app[IMPORTS].cancel(job.id, job.school_id)  # one already ended stays as it is
    raise web.HTTPSeeOther(str(request.app.router["student_import_job"].url_for(job_id=str(job.id))))


@allow(Role.SCHOOL_ADMIN)
async def import_status(request: web.Request) -> web.Response:
    job = await _job(request)
    return job_status(job)
