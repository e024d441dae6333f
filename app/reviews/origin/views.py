"""生源信息核对 pages: the student's record and form, the counselor's queue and review,
the school admin's list, 【通知核对】 and import. Handlers parse and render; rules live in
origin/service.py."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ... import codes, workflow
from ...lists import batch_views
from ...lists.batch_views import BatchAction, BatchList
from ...lists.spec import fetch
from ...forms import Form, FormError
from ...middleware import require_identity
from ...roles import Role, allow
from ...state import CLOCK, DB
from ..common import decide_item, int_param, see_other
from ..flows import ORIGIN_FLOW, OriginState
from . import listing, service
from .fields import EDITABLE, ROLL, changes

STUDENT_FORM = "reviews/origin_edit.html"
REVIEW_PAGE = "reviews/origin_review.html"


def _choices(table: dict[str, str]) -> list[tuple[str, str]]:
    return list(table.items())


def form_context(record: Any, form: Form) -> dict[str, Any]:
    return {"record": record, "form": form, "roll": ROLL, "editable": EDITABLE,
            "choices": {f.name: _choices(dict(f.table)) for f in EDITABLE if f.table},
            "counties": codes.county_choices(), "area_tree": codes.area_tree(),
            "state_label": ORIGIN_FLOW.state_label(record.status)}


# --- student ------------------------------------------------------------------------------

@allow(Role.STUDENT)
@aiohttp_jinja2.template("reviews/origin_student.html")
async def student_page(request: web.Request) -> dict[str, Any]:
    ident = require_identity(request)
    async with request.app[DB].read() as conn:
        record = await service.own(conn, ident)
        entries = await service.history(conn, record.id) if record else []
    return {"record": record, "roll": ROLL, "editable": EDITABLE, "history": entries,
            "flow": ORIGIN_FLOW, "reason": entries[-1].reason if entries else None,
            "can_edit": bool(record) and record.status in (OriginState.DRAFT, OriginState.RETURNED),
            "can_withdraw": bool(record) and record.status == OriginState.SUBMITTED,
            "changed": set(c["name"] for c in changes(record.imported, record.data) if c["changed"])
            if record else set(),
            "notice": request.query.get("done", "")}


@allow(Role.STUDENT)
async def student_edit(request: web.Request) -> web.Response:
    ident = require_identity(request)
    async with request.app[DB].read() as conn:
        record = await service.own(conn, ident)
    if record is None:
        raise see_other(request, "origin_student")
    if record.status not in (OriginState.DRAFT, OriginState.RETURNED):
        raise see_other(request, "origin_student")
    return aiohttp_jinja2.render_template(STUDENT_FORM, request,
                                          form_context(record, Form(record.data)))


@allow(Role.STUDENT)
async def student_save(request: web.Request) -> web.Response:
    ident = require_identity(request)
    post = await request.post()
    form = Form(post)
    submit = post.get("do") == "submit"
    try:
        async with request.app[DB].write() as conn:
            await service.save(conn, ident, form.values, submit=submit,
                               now=request.app[CLOCK].now())
    except FormError as exc:
        form.errors.update(exc.errors)
    except workflow.TransitionError as exc:
        form.error("_form", str(exc))
    if form.ok:
        raise see_other(request, "origin_student", {"done": "submitted" if submit else "saved"})
    async with request.app[DB].read() as conn:
        record = await service.own(conn, ident)
    if record is None:
        raise web.HTTPNotFound()
    return aiohttp_jinja2.render_template(STUDENT_FORM, request, form_context(record, form),
                                          status=400)


@allow(Role.STUDENT)
async def student_withdraw(request: web.Request) -> web.Response:
    try:
        async with request.app[DB].write() as conn:
            await service.withdraw(conn, require_identity(request), request.app[CLOCK].now())
    except workflow.TransitionError as exc:
        raise web.HTTPConflict(text=str(exc))
    raise see_other(request, "origin_student", {"done": "withdrawn"})


# --- counselor and school admin ---------------------------------------------------------------

@allow(Role.COUNSELOR, Role.SCHOOL_ADMIN)
async def queue(request: web.Request) -> web.Response:
    ident = require_identity(request)
    async with request.app[DB].read() as conn:
        resolved = await listing.read(conn, ident, request.query)
        page = await fetch(conn, resolved, listing.rows(ident))
        counts = await listing.state_counts(conn, ident)
    return aiohttp_jinja2.render_template("reviews/origin_queue.html", request, {
        "r": resolved, "page": page, "counts": counts, "flow": ORIGIN_FLOW,
        "is_counselor": ident.role == Role.COUNSELOR,
        "actions": BATCH_COUNSELOR if ident.role == Role.COUNSELOR else BATCH_SCHOOL},
        status=400 if resolved.form.errors else 200)


BATCH_COUNSELOR = (BatchAction("approve", "通过"), BatchAction("return", "退回", reason_required=True))
BATCH_SCHOOL = (BatchAction("notify", "通知核对"),)


@allow(Role.COUNSELOR, Role.SCHOOL_ADMIN)
async def batch(request: web.Request) -> web.Response:
    """批量通过 / 批量退回 (counselor) and 【通知核对】 (school admin), on the ticked records or
    on all that match the list's filters."""
    ident = require_identity(request)

    return await batch_views.handle(request, BatchList(
        title="生源信息", noun="条",
        actions=BATCH_COUNSELOR if ident.role == Role.COUNSELOR else BATCH_SCHOOL,
        read=batch_views.reader(listing, ident), act=listing.decide(ident, request.app[CLOCK].now())))


async def _review_context(request: web.Request, origin_id: int) -> dict[str, Any]:
    ident = require_identity(request)
    async with request.app[DB].read() as conn:
        record = await service.item(conn, ident, origin_id)
        if record is None:
            raise web.HTTPNotFound()
        entries = await service.history(conn, origin_id)
        nav = await batch_views.review_nav(request, conn, listing, ident, "origin_review",
                                           "origin_id", origin_id, ORIGIN_FLOW.action_labels)
    return {"record": record, "roll": ROLL, "diff": changes(record.imported, record.data),
            "history": entries, "flow": ORIGIN_FLOW, "form": Form(),
            "actions": ORIGIN_FLOW.actions_for(record.status, ident.role), **nav}


@allow(Role.COUNSELOR, Role.SCHOOL_ADMIN)
async def review_page(request: web.Request) -> web.Response:
    context = await _review_context(request, int_param(request, "origin_id"))
    return aiohttp_jinja2.render_template(REVIEW_PAGE, request, context)


async def _decide(request: web.Request, action: str) -> web.Response:
    return await decide_item(request, action, "origin_id", "origin_review", review=service.review,
                             context=_review_context, template=REVIEW_PAGE)


@allow(Role.COUNSELOR)
async def approve(request: web.Request) -> web.Response:
    return await _decide(request, "approve")


@allow(Role.COUNSELOR)
async def return_(request: web.Request) -> web.Response:
    return await _decide(request, "return")


@allow(Role.SCHOOL_ADMIN)
async def reopen(request: web.Request) -> web.Response:
    return await _decide(request, "reopen")
