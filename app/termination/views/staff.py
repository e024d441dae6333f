"""Counselors' and school admins' side of 解约中心: the review queue on the staff list
component (with the school's 解约申请 window on the school admin's page), batch 通过 / 退回,
and one request's review page with 【下一条】 in the same filtered queue."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ...forms import Form, FormError
from ...lists import batch_views
from ...lists.batch_views import BatchAction, BatchList
from ...lists.spec import fetch
from ...middleware import require_identity
from ...reviewing import submit_review
from ...reviews.common import int_param, see_other
from ...roles import Role, allow
from ...roster.filters import OutOfScope
from ...school_settings import service as school_settings
from ...state import CLOCK, DB
from .. import codes, listing, service
from ..flows import TERMINATION_FLOW, TermState

REVIEWERS = (Role.COUNSELOR, Role.SCHOOL_ADMIN)
QUEUE_PAGE, REVIEW_PAGE = "termination/queue.html", "termination/review.html"
BATCH = (BatchAction("approve", "通过"), BatchAction("return", "退回", reason_required=True))
DECISIONS = ("approve", "return")


def _reviewer(request: web.Request) -> Any:
    ident = require_identity(request)
    if ident.school_id is None or (ident.role == Role.COUNSELOR and ident.college_id is None):
        raise web.HTTPForbidden()   # no college or school to review for
    return ident


async def _queue_page(request: web.Request, window_form: Form | None = None,
                      status_code: int = 200) -> web.Response:
    ident = _reviewer(request)
    settings = None
    try:
        async with request.app[DB].read() as conn:
            resolved = await listing.read(conn, ident, request.query)
            page = await fetch(conn, resolved, listing.rows(ident))
            counts = await listing.state_counts(conn, ident)
            if ident.role == Role.SCHOOL_ADMIN:
                settings = await school_settings.load(conn, ident.school_id)
    except OutOfScope:
        raise web.HTTPForbidden()
    if settings is not None and window_form is None:
        window_form = Form({k: v.isoformat() if v else "" for k, v in (
            ("opens", settings.termination_opens), ("closes", settings.termination_closes))})
    if status_code == 200 and resolved.form.errors:
        status_code = 400
    return aiohttp_jinja2.render_template(QUEUE_PAGE, request, {
        "r": resolved, "page": page, "flow": TERMINATION_FLOW,
        "counts": {**counts, "": sum(n for s, n in counts.items() if s != listing.WAITING)},
        "tabs": [(listing.WAITING, "待我审核"), *listing.states(), ("", "全部")],
        "states": listing.states(), "reasons": codes.REASONS, "actions": BATCH,
        "employer_label": listing.employer_label, "settings": settings,
        "window_form": window_form, "done": request.query.get("done", ""),
        "is_counselor": ident.role == Role.COUNSELOR,
        "waiting_state": str(service.WAITING[ident.role]),
        "can_force": ident.role == Role.SCHOOL_ADMIN}, status=status_code)


@allow(*REVIEWERS)
async def queue(request: web.Request) -> web.Response:
    """解约审核: the reviewer's college (counselor) or school (school admin)."""
    return await _queue_page(request)


@allow(*REVIEWERS)
async def batch(request: web.Request) -> web.Response:
    """批量通过 / 批量退回 on the ticked requests or on all that match the list's filters;
    each item is decided as on its own page (a school's 通过 terminates its agreement)."""
    ident = _reviewer(request)

    return await batch_views.handle(request, BatchList(
        title="解约申请", noun="份", actions=BATCH, read=batch_views.reader(listing, ident),
        act=listing.decide(ident, request.app[CLOCK].now())))


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
    ident = _reviewer(request)
    async with request.app[DB].read() as conn:
        req = await service.request_item(conn, ident, request_id)
        if req is None or req.status == TermState.DRAFT:
            raise web.HTTPNotFound()
        history = await service.history(conn, req.id)
        nav = await batch_views.review_nav(
            request, conn, listing, ident, "termination_review", "request_id", request_id,
            {a: TERMINATION_FLOW.action_label(a) for a in DECISIONS})
    return {"req": req, "history": history, "flow": TERMINATION_FLOW,
            "reason_label": codes.label(req.reason_code), "employer_label": service.employer_label(req),
            "actions": [a for a in TERMINATION_FLOW.actions_for(req.status, ident.role)
                        if a in DECISIONS],
            **nav}


@allow(*REVIEWERS)
async def review_page(request: web.Request) -> web.Response:
    context = await _context(request, int_param(request, "request_id"))
    return aiohttp_jinja2.render_template(REVIEW_PAGE, request, {**context, "form": Form()})


@allow(*REVIEWERS)
async def decide(request: web.Request) -> web.Response:
    """通过 or 退回 (the pressed button); back to the request saying what was done, the
    queue's filters riding along for 【下一条】."""
    request_id = int_param(request, "request_id")
    action = (await request.post()).get("action", "")

    async def run(conn, action: str, reason: str | None) -> bool:  # noqa: ANN001
        return await service.review(conn, require_identity(request), request_id, action,
                                    reason=reason, now=request.app[CLOCK].now()) is not None

    async def page(request: web.Request, form: Form, status: int) -> web.Response:
        return aiohttp_jinja2.render_template(
            REVIEW_PAGE, request, {**await _context(request, request_id), "form": form}, status=status)
    query = {**request.query, "done": action} if action in DECISIONS else dict(request.query)
    done = str(request.app.router["termination_review"].url_for(request_id=str(request_id))
               .with_query(query))
    return await submit_review(request, run, page, done)
