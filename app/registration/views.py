"""就业信息登记 pages: the student's page, 【就业信息上报】, the branch chooser and form; the
counselors' and school admins' queue and review. Handlers parse and render; rules live in
service.py."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from .. import codes, workflow
from ..destinations.codes import DESTINATIONS, SIGNED
from ..forms import Form, FormError
from ..lists import batch_views
from ..lists.batch_views import BatchAction, BatchList
from ..lists.spec import fetch
from ..middleware import require_identity
from ..reviews.common import decide_item, int_param, see_other
from ..roles import Role, allow
from ..school_settings import service as school_settings
from ..state import CLOCK, DB, FILES
from . import evidence, listing, service
from .branches import BRANCHES, CHOOSER
from .flows import REGISTRATION_FLOW, RegState

CHOOSER_PAGE = "registration/choose.html"
FORM_PAGE = "registration/form.html"
REVIEW_PAGE = "registration/review.html"


def route_url(request: web.Request, name: str) -> str:
    return str(request.app.router[name].url_for())


def _gate_link(request: web.Request, me: service.Mine) -> str:
    if not me.gate.origin_approved:
        return str(request.app.router["origin_student"].url_for())
    return route_url(request, "signing_phone")


async def _mine(request: web.Request) -> service.Mine:
    async with request.app[DB].read() as conn:
        return await service.mine(conn, require_identity(request), request.app[CLOCK].now())


def _forget(request: web.Request, file_ids: list[str]) -> None:
    """Remove the bytes of evidence whose rows the committed transaction deleted."""
    for file_id in file_ids:
        try:
            request.app[FILES].path(file_id).unlink(missing_ok=True)
        except FileNotFoundError:
            pass


def _student_context(request: web.Request, me: service.Mine) -> dict[str, Any]:
    return {"me": me, "flow": REGISTRATION_FLOW, "gate_link": _gate_link(request, me),
            "notice": request.query.get("done", "")}


# --- student ------------------------------------------------------------------------------

@allow(Role.STUDENT)
@aiohttp_jinja2.template("registration/student.html")
async def student_page(request: web.Request) -> dict[str, Any]:
    """【就业信息登记】: the current 毕业去向, the registration's state and its history."""
    async with request.app[DB].read() as conn:
        me = await service.mine(conn, require_identity(request), request.app[CLOCK].now())
        entries = await service.history(conn, me.registration.id) if me.registration else []
        files = await service.evidence_rows(conn, me.registration)
    return {**_student_context(request, me), "history": entries, "files": files,
            "reason": entries[-1].reason if entries else None,
            "can_withdraw": me.registration is not None and me.status == RegState.SUBMITTED
            and me.open_now, "can_revise": service.may_revise(me)}


@allow(Role.STUDENT)
@aiohttp_jinja2.template("registration/report.html")
async def report_page(request: web.Request) -> dict[str, Any]:
    """【就业信息上报】: what is registered so far, and 【编辑】."""
    async with request.app[DB].read() as conn:
        me = await service.mine(conn, require_identity(request), request.app[CLOCK].now())
        files = await service.evidence_rows(conn, me.registration)
    if not me.gate.open:
        raise see_other(request, "registration_student")
    return {**_student_context(request, me), "files": files}


def _chooser(request: web.Request, me: service.Mine, form: Form, status: int = 200) -> web.Response:
    return aiohttp_jinja2.render_template(CHOOSER_PAGE, request, {
        **_student_context(request, me), "form": form, "chooser": CHOOSER, "branches": BRANCHES,
        "signed": SIGNED, "signing_url": route_url(request, "signing_centre")},
        status=status)


@allow(Role.STUDENT)
async def choose_page(request: web.Request) -> web.Response:
    me = await _mine(request)
    if me.why_closed:
        raise see_other(request, "registration_student")
    return _chooser(request, me, Form())


@allow(Role.STUDENT)
async def choose(request: web.Request) -> web.Response:
    form = Form(await request.post())
    try:
        async with request.app[DB].write() as conn:
            gone = await service.choose(conn, require_identity(request), form.get("code"),
                                        request.app[CLOCK].now())
    except FormError as exc:
        form.errors.update(exc.errors)
    except workflow.TransitionError as exc:
        form.error("_form", str(exc))
    if form.ok:
        _forget(request, gone)
        raise see_other(request, "registration_form")
    return _chooser(request, await _mine(request), form, status=400)


def _form_page(request: web.Request, me: service.Mine, form: Form, files: dict,
               status: int = 200) -> web.Response:
    return aiohttp_jinja2.render_template(FORM_PAGE, request, {
        **_student_context(request, me), "form": form, "branch": me.branch, "files": files,
        "counties": codes.county_choices(), "area_tree": codes.area_tree()}, status=status)


@allow(Role.STUDENT)
async def form_page(request: web.Request) -> web.Response:
    async with request.app[DB].read() as conn:
        me = await service.mine(conn, require_identity(request), request.app[CLOCK].now())
        files = await service.evidence_rows(conn, me.registration)
    if me.why_closed:
        raise see_other(request, "registration_student")
    if me.branch is None:
        raise see_other(request, "registration_choose")
    values = dict(me.registration.data or {})
    if me.registration.sub_code:
        values["sub_code"] = me.registration.sub_code
    return _form_page(request, me, Form(values), files)


@allow(Role.STUDENT)
async def form_submit(request: web.Request) -> web.Response:
    """【保存并审核】: on bad input the page comes back with the messages and what was typed."""
    ident = require_identity(request)
    post = await request.post()
    form = Form(post)
    me = await _mine(request)
    if me.branch is None:
        raise see_other(request, "registration_student" if me.why_closed else "registration_choose")
    uploads, upload_errors = await evidence.read(request, post, me.branch)
    try:
        async with request.app[DB].write() as conn:
            replaced = await service.submit(conn, ident, form.values, uploads, request.app[FILES],
                                            now=request.app[CLOCK].now(),
                                            upload_errors=upload_errors)
    except FormError as exc:
        form.errors.update(exc.errors)
    except workflow.TransitionError as exc:
        form.error("_form", str(exc))
    if form.ok:
        _forget(request, replaced)
        raise see_other(request, "registration_student", {"done": "submitted"})
    for name in uploads:  # a browser cannot keep a chosen file: say so beside it
        form.error(name, "请重新选择文件")
    async with request.app[DB].read() as conn:
        me = await service.mine(conn, ident, request.app[CLOCK].now())
        files = await service.evidence_rows(conn, me.registration)
    return _form_page(request, me, form, files, status=400)


@allow(Role.STUDENT)
async def reset(request: web.Request) -> web.Response:
    """【返回重新选择毕业去向】"""
    try:
        async with request.app[DB].write() as conn:
            gone = await service.reset(conn, require_identity(request), request.app[CLOCK].now())
    except workflow.TransitionError as exc:
        raise web.HTTPConflict(text=str(exc))
    _forget(request, gone)
    raise see_other(request, "registration_choose")


@allow(Role.STUDENT)
async def revise(request: web.Request) -> web.Response:
    """【修改毕业去向】 of an approved 待就业 / 暂不就业 registration."""
    try:
        async with request.app[DB].write() as conn:
            await service.revise(conn, require_identity(request), request.app[CLOCK].now())
    except workflow.TransitionError as exc:
        raise web.HTTPConflict(text=str(exc))
    raise see_other(request, "registration_form")


@allow(Role.STUDENT)
async def withdraw(request: web.Request) -> web.Response:
    try:
        async with request.app[DB].write() as conn:
            await service.withdraw(conn, require_identity(request), request.app[CLOCK].now())
    except workflow.TransitionError as exc:
        raise web.HTTPConflict(text=str(exc))
    raise see_other(request, "registration_student", {"done": "withdrawn"})


# --- counselor and school admin ---------------------------------------------------------------

BATCH = (BatchAction("approve", "通过"), BatchAction("return", "退回", reason_required=True))


@allow(Role.COUNSELOR, Role.SCHOOL_ADMIN)
async def queue(request: web.Request) -> web.Response:
    ident = require_identity(request)
    settings = None
    async with request.app[DB].read() as conn:
        resolved = await listing.read(conn, ident, request.query)
        page = await fetch(conn, resolved, listing.rows(ident))
        counts = await listing.state_counts(conn, ident)
        if ident.role == Role.SCHOOL_ADMIN:
            settings = await school_settings.load(conn, ident.school_id)
    return aiohttp_jinja2.render_template("registration/queue.html", request, {
        "r": resolved, "page": page, "counts": counts, "states": listing.STATES,
        "flow": REGISTRATION_FLOW, "destinations": DESTINATIONS, "actions": BATCH,
        "is_counselor": ident.role == Role.COUNSELOR, "settings": settings,
        "message": request.query.get("msg", "")},
        status=400 if resolved.form.errors else 200)


@allow(Role.COUNSELOR, Role.SCHOOL_ADMIN)
async def batch(request: web.Request) -> web.Response:
    """批量通过 / 批量退回 at either level, on the ticked registrations or on all that match
    the list's filters; the school's approvals make each destination effective."""
    ident = require_identity(request)

    return await batch_views.handle(request, BatchList(
        title="就业信息登记", noun="条", actions=BATCH, read=batch_views.reader(listing, ident),
        act=listing.decide(ident, request.app[CLOCK].now())))


async def _review_context(request: web.Request, reg_id: int) -> dict[str, Any]:
    ident = require_identity(request)
    async with request.app[DB].read() as conn:
        reg = await service.item(conn, ident, reg_id)
        if reg is None:
            raise web.HTTPNotFound()
        entries = await service.history(conn, reg_id)
        files = await service.evidence_rows(conn, reg)
        nav = await batch_views.review_nav(
            request, conn, listing, ident, "registration_review", "reg_id", reg_id,
            {a: REGISTRATION_FLOW.action_label(a) for a in ("approve", "return")})
    return {"reg": reg, "branch": BRANCHES.get(reg.code or ""), "history": entries,
            "files": files, "flow": REGISTRATION_FLOW, "form": Form(),
            "sub_label": service.sub_label(reg),
            "actions": REGISTRATION_FLOW.actions_for(reg.status, ident.role), **nav}


@allow(Role.COUNSELOR, Role.SCHOOL_ADMIN)
async def review_page(request: web.Request) -> web.Response:
    context = await _review_context(request, int_param(request, "reg_id"))
    return aiohttp_jinja2.render_template(REVIEW_PAGE, request, context)


async def _decide(request: web.Request, action: str) -> web.Response:
    return await decide_item(request, action, "reg_id", "registration_review",
                             review=service.review, context=_review_context, template=REVIEW_PAGE)


@allow(Role.COUNSELOR, Role.SCHOOL_ADMIN)
async def approve(request: web.Request) -> web.Response:
    return await _decide(request, "approve")


@allow(Role.COUNSELOR, Role.SCHOOL_ADMIN)
async def return_(request: web.Request) -> web.Response:
    return await _decide(request, "return")


@allow(Role.SCHOOL_ADMIN)
async def reopen(request: web.Request) -> web.Response:
    """重新开放 (or close again) registration after the deadline, school-wide; audited."""
    reopened = (await request.post()).get("reopened") == "1"
    async with request.app[DB].write() as conn:
        await service.set_reopened(conn, require_identity(request), reopened,
                                   request.app[CLOCK].now())
    msg = "已重新开放就业信息登记，截止日期后学生仍可登记" if reopened else "已关闭截止日期后的登记"
    raise see_other(request, "registration_queue", {"msg": msg})
