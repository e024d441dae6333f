"""Counselors' and school admins' side of 解约中心: the review queue (with the school's
解约申请 window on the school admin's page), one request with 通过 / 退回."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ... import paging
from ...forms import Form, FormError
from ...middleware import require_identity
from ...reviewing import submit_review
from ...reviews.common import int_param, see_other
from ...roles import Role, allow
from ...school_settings import service as school_settings
from ...state import CLOCK, DB
from .. import codes, service
from ..flows import TERMINATION_FLOW, TermState

REVIEWERS = (Role.COUNSELOR, Role.SCHOOL_ADMIN)
QUEUE_PAGE, REVIEW_PAGE = "termination/queue.html", "termination/review.html"


async def _queue_page(request: web.Request, window_form: Form | None = None,
                      status_code: int = 200) -> web.Response:
    ident = require_identity(request)
    status = request.query.get("status", "waiting")[:20]
    wanted = paging.params(request.query)
    settings = None
    async with request.app[DB].read() as conn:
        page = await service.queue(conn, ident, wanted, status=status)
        if ident.role == Role.SCHOOL_ADMIN:
            settings = await school_settings.load(conn, ident.school_id)
    if settings is not None and window_form is None:
        window_form = Form({k: v.isoformat() if v else "" for k, v in (
            ("opens", settings.termination_opens), ("closes", settings.termination_closes))})
    return aiohttp_jinja2.render_template(QUEUE_PAGE, request, {
        "page": page, "rows": page.rows, "status": status, "q": wanted.q, "flow": TERMINATION_FLOW,
        "statuses": [(s.value, TERMINATION_FLOW.state_label(s)) for s in TermState if s != TermState.DRAFT],
        "reasons": codes.REASONS, "employer_label": service.employer_label, "settings": settings,
        "window_form": window_form, "done": request.query.get("done", ""),
        "can_force": ident.role == Role.SCHOOL_ADMIN}, status=status_code)


@allow(*REVIEWERS)
async def queue(request: web.Request) -> web.Response:
    """解约审核: the reviewer's college (counselor) or school (school admin)."""
    return await _queue_page(request)


@allow(Role.SCHOOL_ADMIN)
async def set_window(request: web.Request) -> web.Response:
    """The school's 解约申请 window (audited as school_settings.change)."""
    form = Form(await request.post())
    try:
        async with request.app[DB].write() as conn:
            await service.set_window(conn, require_identity(request), form.get("opens"),
                                     form.get("closes"), request.app[CLOCK].now())
    except FormError as exc:
        form.errors.update(exc.errors)
        return await _queue_page(request, form, 400)
    raise see_other(request, "termination_queue", {"done": "window"})


async def _context(request: web.Request, request_id: int) -> dict[str, Any]:
    ident = require_identity(request)
    async with request.app[DB].read() as conn:
        req = await service.request_item(conn, ident, request_id)
        if req is None or req.status == TermState.DRAFT:
            raise web.HTTPNotFound()
        history = await service.history(conn, req.id)
    return {"req": req, "history": history, "flow": TERMINATION_FLOW,
            "reason_label": codes.label(req.reason_code), "employer_label": service.employer_label(req),
            "actions": [a for a in TERMINATION_FLOW.actions_for(req.status, ident.role)
                        if a in ("approve", "return")]}


@allow(*REVIEWERS)
async def review_page(request: web.Request) -> web.Response:
    context = await _context(request, int_param(request, "request_id"))
    return aiohttp_jinja2.render_template(REVIEW_PAGE, request, {**context, "form": Form()})


@allow(*REVIEWERS)
async def decide(request: web.Request) -> web.Response:
    request_id = int_param(request, "request_id")

    async def run(conn, action: str, reason: str | None) -> bool:  # noqa: ANN001
        return await service.review(conn, require_identity(request), request_id, action,
                                    reason=reason, now=request.app[CLOCK].now()) is not None

    async def page(request: web.Request, form: Form, status: int) -> web.Response:
        return aiohttp_jinja2.render_template(
            REVIEW_PAGE, request, {**await _context(request, request_id), "form": form}, status=status)
    done = str(request.app.router["termination_review"].url_for(request_id=str(request_id)))
    return await submit_review(request, run, page, done)
