"""What the pages of both imports (学生信息 and 生源) answer alike: the template workbook, a
job's progress for the polling page, its report a page of groups at a time, and the rows it
could not import as a workbook to fix."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import TYPE_CHECKING, Any, Mapping

from aiohttp import web

from .. import paging
from ..state import CLOCK, CPU, DB, SETTINGS
from . import report, workbooks

if TYPE_CHECKING:
    from .imports import ImportRunner

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ENDED = ("done", "failed", "cancelled")


def attachment(name: str, fallback: str) -> dict[str, str]:
    """Headers of a download named in Chinese, with an ASCII name for old clients."""
    return {"Content-Disposition": f'attachment; filename="{fallback}"; '
                                   f"filename*=UTF-8''{urllib.parse.quote(name, safe='')}",
            "Cache-Control": "private, no-store"}


async def template(request: web.Request, runner: ImportRunner, school_id: int,
                   fallback: str) -> web.Response:
    """The import's template for this school: its own 学院/专业 in the drop-downs."""
    async with request.app[DB].read() as conn:
        choices = await runner.choices(conn, school_id)
    body = await request.app[CPU].run(
        workbooks.template, runner.spec, choices, year=request.app[CLOCK].now().year,
        max_rows=request.app[SETTINGS].import_max_rows)
    return web.Response(body=body, content_type=XLSX,
                        headers=attachment(f"{runner.spec.title}导入模板.xlsx", fallback))


def error_rows_until(job: Any) -> dt.datetime | None:
    """Until when the job's error rows can be downloaded; None if it has none."""
    found = report.of_job(job)
    if job.status not in ENDED or job.finished_at is None or not found["error_file"]:
        return None
    return job.finished_at + workbooks.ERROR_ROWS_KEPT


def error_rows(request: web.Request, job: Any, fallback: str) -> web.StreamResponse:
    """【下载错误行】: the job's failed rows with an 错误 column (404 once removed)."""
    until = error_rows_until(job)
    path = workbooks.error_rows_path(job.stored_path)
    if until is None or request.app[CLOCK].now() > until or not path.is_file():
        raise web.HTTPNotFound()
    stem = job.filename.rsplit(".", 1)[0]
    return web.FileResponse(path, headers={
        "Content-Type": XLSX, **attachment(f"{stem}-错误行.xlsx", fallback)})


def job_page(request: web.Request, job: Any, routes: Mapping[str, str]) -> dict[str, Any]:
    """The job page's context: the job, its report's corrections and one page of its
    groups (?page=), and whether its error rows are still kept."""
    found = report.of_job(job)
    until = error_rows_until(job)
    return {"job": job, "report": found,
            "groups": report.groups_page(found, paging.params(request.query)),
            "error_rows_until": until,
            "error_rows_kept": until is not None and request.app[CLOCK].now() <= until,
            **routes}


def job_status(job: Any) -> web.Response:
    failed = (job.report or {}).get("failed_rows", len({e["row"] for e in job.errors}))
    return web.json_response({
        "status": job.status, "total": job.total_rows, "processed": job.processed_rows,
        "created": job.created_rows, "updated": job.updated_rows,
        "failed_rows": failed, "message": job.message})
