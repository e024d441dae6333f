"""School admin: import 生源 records (upload, progress, per-row report, template)."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ...forms import Form
from ...middleware import require_identity
from ...roles import Role, allow
from ...state import DB, SETTINGS
from ...students import imports
from ...students import import_pages
from ...students.import_pages import job_status
from ...uploads import display_name
from ..common import int_param, school_id, see_other
from ..tables import origin_import_jobs
from .imports import TEMPLATE_HEADER, OriginImportRunner

ORIGIN_IMPORTS = web.AppKey("origin_imports", OriginImportRunner)


@allow(Role.SCHOOL_ADMIN)
@aiohttp_jinja2.template("reviews/origin_import.html")
async def import_form(request: web.Request) -> dict[str, Any]:
    return {"form": Form(), "columns": TEMPLATE_HEADER}


@allow(Role.SCHOOL_ADMIN)
async def import_upload(request: web.Request) -> web.Response:
    post = await request.post()
    form = Form()
    upload = post.get("file")
    limit = request.app[SETTINGS].upload_max_bytes
    if not isinstance(upload, web.FileField) or not upload.filename:
        form.error("file", "请选择要导入的 xlsx 或 csv 文件")
    else:
        name = display_name(upload.filename)
        data = upload.file.read(limit + 1)
        if len(data) > limit:
            form.error("file", "文件过大")
        elif not name.lower().endswith((".xlsx", ".csv")):
            form.error("file", "只支持 .xlsx 或 .csv 文件")
        elif not data:
            form.error("file", "文件是空的")
    if not form.ok:
        return aiohttp_jinja2.render_template(
            "reviews/origin_import.html", request, {"form": form, "columns": TEMPLATE_HEADER},
            status=400)
    runner = request.app[ORIGIN_IMPORTS]
    job_id = await runner.create(school_id=school_id(request),
                                 account_id=require_identity(request).account_id,
                                 filename=name, data=data)
    runner.start(job_id)
    raise see_other(request, "origin_import_job", job_id=job_id)


@allow(Role.SCHOOL_ADMIN)
async def import_template(request: web.Request) -> web.Response:
    return await import_pages.template(request, request.app[ORIGIN_IMPORTS], school_id(request),
                                       "origins.xlsx")


async def _job(request: web.Request):  # noqa: ANN202
    found = await imports.job(request.app[DB], int_param(request, "job_id"), school_id(request),
                              origin_import_jobs)
    if found is None:
        raise web.HTTPNotFound()
    return found


@allow(Role.SCHOOL_ADMIN)
@aiohttp_jinja2.template("students/import_job.html")
async def import_job(request: web.Request) -> dict[str, Any]:
    return import_pages.job_page(request, await _job(request), {
        "job_route": "origin_import_job", "status_route": "origin_import_status",
        "cancel_route": "origin_import_cancel", "errors_route": "origin_import_errors",
        "again_route": "origin_import", "list_route": "origin_queue",
        "list_label": "查看生源信息"})


@allow(Role.SCHOOL_ADMIN)
async def import_errors(request: web.Request) -> web.StreamResponse:
    return import_pages.error_rows(request, await _job(request), "origin-import-errors.xlsx")


@allow(Role.SCHOOL_ADMIN)
async def import_cancel(request: web.Request) -> web.Response:
    job = await _job(request)
    await request.app[ORIGIN_IMPORTS].cancel(job.id, job.school_id)
    raise see_other(request, "origin_import_job", job_id=job.id)


@allow(Role.SCHOOL_ADMIN)
async def import_status(request: web.Request) -> web.Response:
    job = await _job(request)
    return job_status(job)
