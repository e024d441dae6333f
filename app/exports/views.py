"""导出 pages: the click that asks (answered at once), the job's progress page and its JSON,
我的导出, and the download (its owner only)."""

from __future__ import annotations

import asyncio
import urllib.parse

import aiohttp_jinja2
from aiohttp import web

from ..middleware import require_identity
from ..roles import allow
from ..reviews.common import int_param, see_other
from ..state import CLOCK, DB, SETTINGS
from ..workflow import NotAllowed
from . import service
from .kinds import KINDS
from .runner import EXPORTS

EVERYONE_WHO_EXPORTS = tuple(sorted({r for k in KINDS.values() for r in k.roles}, key=str))
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 256 * 1024
STATES = {"queued": "排队中", "running": "正在导出", "done": "已完成", "failed": "失败",
          "expired": "已过期"}


FIELDS_MAX, FIELD_MAX = 40, 200   # a list has fewer filters, and no filter value is longer


@allow(*EVERYONE_WHO_EXPORTS)
async def ask(request: web.Request) -> web.Response:
    """【导出…】: a job is queued (or the same one running is found) and the progress page
    opens at once; the workbook is written in the background."""
    form = await request.post()
    ident, app = require_identity(request), request.app
    if str(form.get("kind", "")) not in KINDS:
        return await _mine_page(request, problem="请选择要导出的内容", status=400)
    # the list's filters as the page had them; each kind reads (and checks) its own
    query = {k: v[:FIELD_MAX] for k, v in list(form.items())[:FIELDS_MAX]
             if isinstance(v, str) and k not in ("kind", "_csrf")}
    try:
        async with app[DB].write() as conn:
            job_id, new = await service.ask(conn, ident, str(form.get("kind", "")), query,
                                            now=app[CLOCK].now(),
                                            per_user=app[SETTINGS].export_jobs_per_user,
                                            quota_bytes=app[SETTINGS].storage_quota_bytes)
    except NotAllowed as exc:
        status = 429 if isinstance(exc, service.TooMany) else 403
        return await _mine_page(request, problem=str(exc), status=status)
    if new:
        app[EXPORTS].start(job_id)
    raise see_other(request, "export_job", {"again": "1"} if not new else None, job_id=job_id)


async def _job(request: web.Request):  # noqa: ANN202
    async with request.app[DB].read() as conn:
        job = await service.one(conn, require_identity(request), int_param(request, "job_id"))
    if job is None:
        raise web.HTTPNotFound()
    return job


def _status(request: web.Request, job) -> dict:  # noqa: ANN001
    return {"status": job.status, "state": STATES.get(job.status, job.status),
            "processed": job.processed_rows, "total": job.total_rows,
            "eta_seconds": service.eta_seconds(job, request.app[CLOCK].now()),
            "message": job.message,
            "download": str(request.app.router["export_file"].url_for(job_id=str(job.id)))
            if job.status == "done" else None}


@allow(*EVERYONE_WHO_EXPORTS)
async def job_page(request: web.Request) -> web.Response:
    job = await _job(request)
    return aiohttp_jinja2.render_template("exports/job.html", request, {
        "job": job, "status": _status(request, job), "again": request.query.get("again") == "1",
        "keep_hours": request.app[SETTINGS].export_keep_hours})


@allow(*EVERYONE_WHO_EXPORTS)
async def job_status(request: web.Request) -> web.Response:
    return web.json_response(_status(request, await _job(request)),
                             headers={"Cache-Control": "no-store"})


async def _mine_page(request: web.Request, problem: str = "", status: int = 200) -> web.Response:
    async with request.app[DB].read() as conn:
        jobs = await service.mine(conn, require_identity(request))
    return aiohttp_jinja2.render_template("exports/mine.html", request, {
        "jobs": jobs, "states": STATES, "problem": problem}, status=status)


@allow(*EVERYONE_WHO_EXPORTS)
async def mine(request: web.Request) -> web.Response:
    return await _mine_page(request)


@allow(*EVERYONE_WHO_EXPORTS)
async def download(request: web.Request) -> web.StreamResponse:
    job = await _job(request)
    if job.status != "done" or not job.stored_name:
        raise web.HTTPNotFound()
    path = request.app[EXPORTS].folder / job.stored_name
    if not path.is_file():
        raise web.HTTPNotFound()
    filename = f"{job.title}.xlsx"
    response = web.StreamResponse(headers={
        "Content-Type": XLSX_TYPE, "Cache-Control": "private, no-store",
        "Content-Disposition": "attachment; filename=\"export.xlsx\"; "
                               f"filename*=UTF-8''{urllib.parse.quote(filename, safe='')}"})
    response.content_length = path.stat().st_size
    await response.prepare(request)
    with path.open("rb") as f:
        while chunk := await asyncio.to_thread(f.read, CHUNK):
            await response.write(chunk)
    await response.write_eof()
    return response

