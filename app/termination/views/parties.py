"""The parties' 【解约中心】 (the student from 签约中心, the employer from 单位中心): the
effective agreements, 【解约申请】 → 【提交】, the request with its history, 撤回. The same
handlers serve both roles under their own paths; rules live in service.py."""

from __future__ import annotations

from typing import Awaitable, Callable

import aiohttp_jinja2
from aiohttp import web

from ... import workflow
from ...forms import Form, FormError
from ...middleware import require_identity
from ...reviews.common import int_param, see_other
from ...roles import Role, allow
from ...state import CLOCK, DB, FILES
from .. import codes, service
from ..flows import TERMINATION_FLOW, TermState
from .common import ACCEPT, read_upload

Handler = Callable[[web.Request], Awaitable[web.Response]]
# Route names per role (routes.py adds both sets).
NAMES = {Role.STUDENT: {"centre": "termination_centre", "apply": "termination_apply",
                        "request": "termination_request", "withdraw": "termination_withdraw",
                        "back": "signing_centre", "back_label": "返回签约中心"},
         Role.EMPLOYER: {"centre": "employer_termination_centre",
                         "apply": "employer_termination_apply",
                         "request": "employer_termination_request",
                         "withdraw": "employer_termination_withdraw",
                         "back": "employer_agreements", "back_label": "返回就业协议书"}}


def _names(request: web.Request) -> dict[str, str]:
    return NAMES[require_identity(request).role]


async def centre(request: web.Request) -> web.Response:
    """【解约中心】: the effective agreements (【解约申请】) and the requests so far."""
    ident = require_identity(request)
    now = request.app[CLOCK].now()
    async with request.app[DB].read() as conn:
        agreements = await service.effective_agreements(conn, ident)
        requests = await service.requests_of(conn, ident)
        windows = {a.id: await service.window(conn, a.school_id, now) for a in agreements}
        pending = {a.id: await service.open_request(conn, a.id) for a in agreements}
    return aiohttp_jinja2.render_template("termination/centre.html", request, {
        "agreements": agreements, "requests": requests, "windows": windows, "pending": pending,
        "flow": TERMINATION_FLOW, "names": _names(request), "reasons": codes.REASONS,
        "employer_label": service.employer_label, "done": request.query.get("done", "")})


async def _apply_page(request: web.Request, form: Form, status: int = 200) -> web.Response:
    ident = require_identity(request)
    agreement_id = int_param(request, "agreement_id")
    async with request.app[DB].read() as conn:
        row = await service.signing.item(conn, ident, agreement_id)
        if row is None:
            raise web.HTTPNotFound()
        win = await service.window(conn, row.school_id, request.app[CLOCK].now())
        pending = await service.open_request(conn, agreement_id)
    mine = pending is not None and pending.applicant_role == ident.role.value
    if status == 200 and mine and pending.status == TermState.RETURNED:
        form = Form({"reason_code": pending.reason_code, "reason_text": pending.reason_text})
    blocked = None
    if row.status != "effective":
        blocked = "只有已生效的就业协议书可以申请解约"
    elif pending is not None and not (mine and pending.status == TermState.RETURNED):
        blocked = f"该协议书已有一份解约申请正在办理（{TERMINATION_FLOW.state_label(pending.status)}）"
    return aiohttp_jinja2.render_template("termination/apply.html", request, {
        "ag": row, "form": form, "window": win, "blocked": blocked, "groups": codes.GROUPS,
        "names": _names(request), "accept": ACCEPT, "is_student": ident.role == Role.STUDENT,
        "resubmit": mine and pending.status == TermState.RETURNED,
        "kept_letter": pending.letter_file_id if mine else None,
        "employer_label": service.signing.employer_label(row)}, status=status)


async def apply_form(request: web.Request) -> web.Response:
    """【解约申请】: the agreement, the reason code and text, the 解约函 → 【提交】."""
    return await _apply_page(request, Form())


async def apply(request: web.Request) -> web.Response:
    ident = require_identity(request)
    post = await request.post()
    form = Form(post)
    letter, upload_error = await read_upload(request, post, "letter")
    try:
        async with request.app[DB].write() as conn:
            request_id = await service.apply(
                conn, ident, int_param(request, "agreement_id"), reason_code=form.get("reason_code"),
                reason_text=form.get("reason_text"), letter=letter, store=request.app[FILES],
                now=request.app[CLOCK].now(), upload_error=upload_error)
    except FormError as exc:
        form.errors.update(exc.errors)
    except workflow.TransitionError as exc:
        form.error(exc.field, str(exc))
        return await _apply_page(request, form, 409)
    if form.ok:
        if request_id is None:
            raise web.HTTPNotFound()
        raise see_other(request, _names(request)["request"], {"done": "submitted"},
                        request_id=request_id)
    if letter is not None:  # a browser cannot keep a chosen file: say so beside it
        form.error("letter", "请重新选择文件")
    return await _apply_page(request, form, 400)


async def _request_page(request: web.Request, form: Form, status: int = 200) -> web.Response:
    ident = require_identity(request)
    async with request.app[DB].read() as conn:
        req = await service.request_item(conn, ident, int_param(request, "request_id"))
        if req is None:
            raise web.HTTPNotFound()
        history = await service.history(conn, req.id)
    mine = req.applicant_role == ident.role.value
    actions = TERMINATION_FLOW.actions_for(req.status, ident.role) if mine else []
    return aiohttp_jinja2.render_template("termination/request.html", request, {
        "req": req, "history": history, "flow": TERMINATION_FLOW, "form": form,
        "reason_label": codes.label(req.reason_code), "names": _names(request),
        "can_withdraw": "withdraw" in actions, "can_resubmit": "submit" in actions,
        "employer_label": service.employer_label(req), "done": request.query.get("done", "")},
        status=status)


async def request_page(request: web.Request) -> web.Response:
    return await _request_page(request, Form())


async def withdraw(request: web.Request) -> web.Response:
    request_id = int_param(request, "request_id")
    try:
        async with request.app[DB].write() as conn:
            state = await service.withdraw(conn, require_identity(request), request_id,
                                           request.app[CLOCK].now())
    except workflow.TransitionError as exc:
        form = Form()
        form.error("_form", str(exc))
        return await _request_page(request, form, 409)
    if state is None:
        raise web.HTTPNotFound()
    raise see_other(request, _names(request)["request"], {"done": "withdrawn"}, request_id=request_id)


def for_role(role: Role, handler: Handler) -> Handler:
    """The handler as a route of one role (each route declares exactly who may use it)."""
    async def routed(request: web.Request) -> web.Response:
        return await handler(request)
    routed.__name__ = routed.__qualname__ = f"{role.value}_{handler.__name__}"
    routed.__doc__ = handler.__doc__
    return allow(role)(routed)
