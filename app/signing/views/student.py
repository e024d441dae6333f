"""The student's 签约中心: entry, 线上应约, 线下签约 and 【查看详情】."""

from __future__ import annotations

import functools
from typing import Any, Awaitable, Callable

import aiohttp_jinja2
from aiohttp import web

from ... import files, workflow
from ...destinations import service as destinations
from ...forms import Form, FormError
from ...middleware import require_identity
from ...roles import Role, allow
from ...school_settings import service as school_settings
from ...state import CLOCK, DB, FILES, SETTINGS
from ...bodies import read_document
from ...validators import Invalid
from .. import gate as gates
from .. import offline, online, service
from ..flows import EDITABLE_OFFLINE, OFFLINE_FLOW, ONLINE_FLOW, AgreementState
from .common import form_context, int_param, see_other, sheet_context

SCAN_TYPES = "image/jpeg,image/png,application/pdf"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _gate(request: web.Request) -> gates.Gate:
    """The student's gate; a student who has not confirmed the phone goes to 手机认证."""
    async with request.app[DB].read() as conn:
        gate = await gates.load(conn, require_identity(request))
    if gate.origin_approved and gate.mobile and not gate.phone_verified:
        raise see_other(request, "signing_phone")
    return gate


def _closed(request: web.Request, gate: gates.Gate) -> web.Response:
    return aiohttp_jinja2.render_template("signing/closed.html", request, {"gate": gate})


GATE = web.RequestKey("signing_gate", gates.Gate)


def signing_page(handler: Handler) -> Handler:
    """Every page of 签约中心 first passes the gate (approved 生源信息, 手机认证); the gate is
    kept on the request for the page."""
    @functools.wraps(handler)
    async def gated(request: web.Request) -> web.StreamResponse:
        gate = await _gate(request)
        if not gate.open:
            return _closed(request, gate)
        request[GATE] = gate
        return await handler(request)
    return gated


@allow(Role.STUDENT)
@signing_page
async def centre(request: web.Request) -> web.Response:
    """【签约中心】: 线上应约, 线下签约, 就业信息登记 and the current 毕业去向."""
    gate = request[GATE]
    ident = require_identity(request)
    now = request.app[CLOCK].now()
    async with request.app[DB].read() as conn:
        settings = await school_settings.load(conn, gate.student.school_id)
        invitations = await online.invitations(conn, ident)
        mine = await offline.mine(conn, ident)
        current = await destinations.current(conn, gate.student.id)
        busy = await service.why_busy(conn, gate.student.id)
    return aiohttp_jinja2.render_template("signing/centre.html", request, {
        "gate": gate, "online_open": settings.online_signing, "invitations": invitations,
        "offline": mine, "current": current, "busy": busy, "now": now, "expired": online.expired,
        "online_flow": ONLINE_FLOW, "offline_flow": OFFLINE_FLOW})


# ---- 线上应约 ---------------------------------------------------------------------------

async def _invitation_page(request: web.Request, form: Form, status: int = 200) -> web.Response:
    ident = require_identity(request)
    agreement_id = int_param(request, "agreement_id")
    async with request.app[DB].read() as conn:
        row = await service.item(conn, ident, agreement_id)
        if row is None or row.channel != "online":
            raise web.HTTPNotFound()
        settings = await school_settings.load(conn, row.school_id)
        busy = await service.why_busy(conn, row.student_record_id, besides=row.id)
        history = await service.history(conn, row)
    now = request.app[CLOCK].now()
    can_answer = (row.status == AgreementState.INVITED and settings.online_signing
                  and not online.expired(row, now) and busy is None)
    return aiohttp_jinja2.render_template("signing/invitation.html", request, {
        **sheet_context(request, row), "form": form, "history": history,
        "can_answer": can_answer, "busy": busy if row.status == AgreementState.INVITED else None,
        "expired": online.expired(row, now), "online_open": settings.online_signing},
        status=status)


@allow(Role.STUDENT)
@signing_page
async def invitation(request: web.Request) -> web.Response:
    return await _invitation_page(request, Form({"opinion": "本人同意到贵单位就业，并遵守协议约定。"}))


@allow(Role.STUDENT)
@signing_page
async def answer(request: web.Request) -> web.Response:
    form = Form(await request.post())
    action = form.get("action")
    try:
        async with request.app[DB].write() as conn:
            state = await online.answer(
                conn, require_identity(request), int_param(request, "agreement_id"), action,
                opinion=form.get("opinion"), reason=form.get("reason").strip() or None,
                now=request.app[CLOCK].now())
    except workflow.TransitionError as exc:
        form.error(exc.field, str(exc))
        return await _invitation_page(request, form, 409)
    if state is None:
        raise web.HTTPNotFound()
    raise see_other(request, "signing_invitation", {"done": action},
                    agreement_id=int_param(request, "agreement_id"))


# ---- 线下签约 ---------------------------------------------------------------------------

@allow(Role.STUDENT)
@signing_page
async def offline_list(request: web.Request) -> web.Response:
    gate = request[GATE]
    ident = require_identity(request)
    async with request.app[DB].read() as conn:
        mine = await offline.mine(conn, ident)
        draft = await offline.open_draft(conn, ident)
        busy = await service.why_busy(conn, gate.student.id)
    return aiohttp_jinja2.render_template("signing/offline.html", request, {
        "agreements": mine, "draft": draft, "busy": busy, "flow": OFFLINE_FLOW})


async def _edit_page(request: web.Request, form: Form, row: Any, status: int = 200) -> web.Response:
    return aiohttp_jinja2.render_template("signing/offline_edit.html", request, {
        "form": form, "ag": row, **form_context()}, status=status)


async def _own_offline(request: web.Request) -> Any:
    async with request.app[DB].read() as conn:
        row = await service.item(conn, require_identity(request), int_param(request, "agreement_id"))
    if row is None or row.channel != "offline":
        raise web.HTTPNotFound()
    return row


@allow(Role.STUDENT)
@signing_page
async def offline_new(request: web.Request) -> web.Response:
    """【录入协议书】: a new agreement, or the one still being entered."""
    async with request.app[DB].read() as conn:
        draft = await offline.open_draft(conn, require_identity(request))
    if draft is not None:
        raise see_other(request, "signing_offline_edit", agreement_id=draft.id)
    return await _edit_page(request, Form(), None)


@allow(Role.STUDENT)
@signing_page
async def offline_edit(request: web.Request) -> web.Response:
    row = await _own_offline(request)
    if row.status not in EDITABLE_OFFLINE:
        raise see_other(request, "signing_agreement", agreement_id=row.id)
    return await _edit_page(request, Form(row.data or {}), row)


@allow(Role.STUDENT)
@signing_page
async def offline_save(request: web.Request) -> web.Response:
    """【保存】 keeps a draft; 【预览协议书】 needs every field and opens the preview."""
    gate = request[GATE]
    form = Form(await request.post())
    agreement_id = int(request.match_info["agreement_id"]) if "agreement_id" in request.match_info else None
    preview = form.get("do") == "preview"
    try:
        async with request.app[DB].write() as conn:
            saved = await offline.save(conn, require_identity(request), gate.student, form.values,
                                       agreement_id=agreement_id, complete=preview,
                                       now=request.app[CLOCK].now())
    except (FormError, workflow.TransitionError) as exc:
        errors = exc.errors if isinstance(exc, FormError) else {exc.field: str(exc)}
        form.errors.update(errors)
        row = await _own_offline(request) if agreement_id else None
        return await _edit_page(request, form, row, 400)
    if preview:
        raise see_other(request, "signing_offline_preview", agreement_id=saved)
    raise see_other(request, "signing_offline_edit", {"saved": "1"}, agreement_id=saved)


@allow(Role.STUDENT)
@signing_page
async def offline_preview(request: web.Request) -> web.Response:
    """【预览协议书】: the agreement exactly as it will print, then 发给单位确认 / 生成."""
    row = await _own_offline(request)
    return await _preview_page(request, row, Form())


async def _preview_page(request: web.Request, row: Any, form: Form, status: int = 200) -> web.Response:
    async with request.app[DB].read() as conn:
        history = await service.history(conn, row)
    return aiohttp_jinja2.render_template("signing/offline_preview.html", request, {
        **sheet_context(request, row), "form": form, "history": history,
        "flow": OFFLINE_FLOW, "sent": request.query.get("sent") == "1"}, status=status)


async def _offline_action(request: web.Request, run, done: str, query: dict | None = None) -> web.Response:  # noqa: ANN001
    """Run one offline step; a refusal re-shows the preview with the message."""
    agreement_id = int_param(request, "agreement_id")
    try:
        async with request.app[DB].write() as conn:
            state = await run(conn, require_identity(request), agreement_id)
    except workflow.TransitionError as exc:
        row = await _own_offline(request)
        form = Form()
        form.error(exc.field, str(exc))
        if done == "signing_agreement":
            return await _detail_page(request, row, form, 409)
        return await _preview_page(request, row, form, 409)
    if state is None:
        raise web.HTTPNotFound()
    raise see_other(request, done, query, agreement_id=agreement_id)


@allow(Role.STUDENT)
@signing_page
async def offline_send(request: web.Request) -> web.Response:
    settings, now = request.app[SETTINGS], request.app[CLOCK].now()

    async def run(conn, ident, agreement_id):  # noqa: ANN001, ANN202
        return await offline.send_for_confirmation(
            conn, ident, agreement_id, secret_key=settings.secret_key,
            base_url=settings.public_base_url, now=now)
    return await _offline_action(request, run, "signing_offline_preview", {"sent": "1"})


@allow(Role.STUDENT)
@signing_page
async def offline_generate(request: web.Request) -> web.Response:
    now = request.app[CLOCK].now()

    async def run(conn, ident, agreement_id):  # noqa: ANN001, ANN202
        return await offline.generate(conn, ident, agreement_id, now=now)
    return await _offline_action(request, run, "signing_agreement")


@allow(Role.STUDENT)
@signing_page
async def offline_cancel(request: web.Request) -> web.Response:
    now = request.app[CLOCK].now()

    async def run(conn, ident, agreement_id):  # noqa: ANN001, ANN202
        return await offline.cancel(conn, ident, agreement_id, now=now)
    return await _offline_action(request, run, "signing_agreement")


# ---- 【查看详情】 and the upload of the stamped agreement -------------------------------------

async def _detail_page(request: web.Request, row: Any, form: Form, status: int = 200) -> web.Response:
    async with request.app[DB].read() as conn:
        history = await service.history(conn, row)
        scans = await files.listed(conn, row.scans or [])
    flow = OFFLINE_FLOW if row.channel == "offline" else ONLINE_FLOW
    actions = flow.actions_for(row.status, Role.STUDENT)
    return aiohttp_jinja2.render_template("signing/detail.html", request, {
        **sheet_context(request, row), "form": form, "history": history,
        "scans": scans, "flow": flow, "can_upload": "upload" in actions and row.channel == "offline",
        "can_cancel": "cancel" in actions, "scan_types": SCAN_TYPES,
        "can_generate": "generate" in actions}, status=status)


@allow(Role.STUDENT)
@signing_page
async def detail(request: web.Request) -> web.Response:
    async with request.app[DB].read() as conn:
        row = await service.item(conn, require_identity(request), int_param(request, "agreement_id"))
    if row is None:
        raise web.HTTPNotFound()
    return await _detail_page(request, row, Form())


@allow(Role.STUDENT)
@signing_page
async def upload_scans(request: web.Request) -> web.Response:
    """Photos (JPG/PNG, EXIF dropped) or one PDF of the signed and stamped agreement."""
    row = await _own_offline(request)
    form = Form()
    scans: list[files.Upload] = []
    post = await request.post()
    for part in post.getall("scans", [])[:offline.MAX_SCANS + 1]:
        if not isinstance(part, web.FileField) or not part.filename:
            continue
        try:
            found = await read_document(request, {"scans": part}, "scans")
        except Invalid as exc:
            form.error("scans", str(exc))
            break
        scans.append(found)
    if form.ok:
        try:
            async with request.app[DB].write() as conn:
                state = await offline.upload_scans(conn, request.app[FILES], require_identity(request),
                                                   row.id, scans, now=request.app[CLOCK].now())
        except workflow.TransitionError as exc:
            form.error(exc.field if exc.field != "_form" else "scans", str(exc))
        else:
            if state is None:
                raise web.HTTPNotFound()
            raise see_other(request, "signing_agreement", {"uploaded": "1"}, agreement_id=row.id)
    return await _detail_page(request, row, form, 400)
