"""投递简历 for students; applicants, the resume as sent, and 不合适 for employers;
file downloads for whoever may read them."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from .. import files
from ..workflow import TransitionError
from ..accountcache import cached_for_account, plain_page
from ..forms import Form
from ..jobs import service as jobs
from ..lists.spec import fetch
from ..middleware import require_identity
from ..resumes.schema import SECTIONS
from ..roles import Role, allow
from ..state import CLOCK, DB, FILES
from ..interviews import service as interviews
from ..interviews.service import INTERVIEW_FLOW
from . import listing, service
from .service import APPLICATION_FLOW


@allow(Role.STUDENT)
async def apply(request: web.Request) -> web.Response:
    job_id = int(request.match_info["job_id"])
    url = request.app.router["job"].url_for(job_id=str(job_id))
    try:
        async with request.app[DB].write() as conn:
            await service.apply(conn, request.app[FILES], job_id=job_id,
                                account_id=require_identity(request).account_id,
                                now=request.app[CLOCK].now())
    except TransitionError as exc:
        raise web.HTTPSeeOther(str(url.with_query(error=str(exc))))
    raise web.HTTPSeeOther(str(request.app.router["my_applications"].url_for()
                               .with_query(sent=str(job_id))))


@allow(Role.STUDENT)
@cached_for_account("my_applications", plain_page)  # with ?sent= or ?error= (after a change) it is rendered
@aiohttp_jinja2.template("applications/mine.html")
async def my_applications(request: web.Request) -> dict[str, Any]:
    async with request.app[DB].read() as conn:
        rows = await service.for_student(conn, require_identity(request).account_id)
    return {"rows": rows, "states": APPLICATION_FLOW.state_labels, "sent": request.query.get("sent"),
            "error": request.query.get("error")}


@allow(Role.STUDENT)
async def withdraw(request: web.Request) -> web.Response:
    url = request.app.router["my_applications"].url_for()
    try:
        async with request.app[DB].write() as conn:
            await service.withdraw(conn, int(request.match_info["application_id"]),
                                   require_identity(request).account_id, request.app[CLOCK].now())
    except TransitionError as exc:
        url = url.with_query(error=str(exc))
    raise web.HTTPSeeOther(str(url))


@allow(Role.EMPLOYER)
async def applicants(request: web.Request) -> web.Response:
    async with request.app[DB].read() as conn:
        job = await jobs.own(conn, require_identity(request).employer_id or 0,
                             int(request.match_info["job_id"]))
        if job is None:
            raise web.HTTPNotFound()
        resolved = await listing.read(conn, job.id, request.query)
        page = await fetch(conn, resolved, listing.rows(job.id))
    return aiohttp_jinja2.render_template("applications/applicants.html", request, {
        "job": job, "r": resolved, "page": page, "rows": page.rows, "student": listing.student,
        "states": APPLICATION_FLOW.state_labels, "form": Form(), "parts": {"job_id": job.id},
        "export_query": {**resolved.export_query(), "job": str(job.id)}},
        status=400 if resolved.form.errors else 200)


async def _employers_application(request: web.Request):  # noqa: ANN202
    async with request.app[DB].read() as conn:
        row = await service.employers_application(
            conn, int(request.match_info["application_id"]), require_identity(request).employer_id or 0)
    if row is None:
        raise web.HTTPNotFound()
    return row


@allow(Role.EMPLOYER)
async def application(request: web.Request) -> web.Response:
    row = await _employers_application(request)
    async with request.app[DB].write() as conn:
        await service.open_as_employer(conn, row, actor_id=require_identity(request).account_id,
                                       now=request.app[CLOCK].now())
    row = await _employers_application(request)
    async with request.app[DB].read() as conn:
        held = await interviews.for_application(conn, row.id)
    return aiohttp_jinja2.render_template("applications/detail.html", request, {
        "interviews": held, "interview_states": INTERVIEW_FLOW.state_labels,
        "application": row, "resume": row.snapshot["resume"], "student": row.snapshot["student"],
        "sections": SECTIONS, "states": APPLICATION_FLOW.state_labels,
        "can": APPLICATION_FLOW.actions_for(row.status, Role.EMPLOYER), "form": Form()})


@allow(Role.EMPLOYER)
async def reject(request: web.Request) -> web.Response:
    row = await _employers_application(request)
    try:
        async with request.app[DB].write() as conn:
            await service.reject(conn, row, actor_id=require_identity(request).account_id,
                                 now=request.app[CLOCK].now())
    except TransitionError:
        pass  # already decided: the page shows the state
    raise web.HTTPSeeOther(str(request.app.router["applicants"].url_for(job_id=str(row.job_id))))


@allow(*Role)
async def download(request: web.Request) -> web.StreamResponse:
    """A stored file, only for those allowed to read it; ids are random, and checked anyway."""
    async with request.app[DB].read() as conn:
        row = await files.get(conn, request.match_info["file_id"])
        allowed = row is not None and await files.may_read(conn, require_identity(request), row)
    if not allowed:
        raise web.HTTPNotFound()
    inline = row.content_type.startswith("image/") or request.query.get("inline") == "1" \
        and row.content_type == "application/pdf"
    return files.response(request.app[FILES], row, inline=inline)
