"""单位中心 side of signing: 发起签约, the agreements the employer is party to."""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiohttp_jinja2
import sqlalchemy as sa
from aiohttp import web

from ... import paging, workflow
from ...clock import CHINA, china_date
from ...forms import Form, FormError
from ...middleware import require_identity
from ...ratelimit import Limit, RateLimiter
from ...roles import Role, allow
from ...state import CLOCK, DB
from ...tables import employers
from .. import fields, offline, online, review, service
from ..flows import STATE_LABELS, flow_of
from .common import form_context, int_param, see_other, sheet_context

INVITES = Limit(30, 3600)  # 发起签约 per employer an hour


@allow(Role.EMPLOYER)
async def agreements(request: web.Request) -> web.Response:
    ident = require_identity(request)
    wanted = paging.params(request.query)
    async with request.app[DB].read() as conn:
        page = await review.for_employer(conn, ident, wanted)
    return aiohttp_jinja2.render_template("signing/employer_list.html", request, {
        "page": page, "q": wanted.q, "labels": STATE_LABELS, "now": request.app[CLOCK].now(),
        "expired": online.expired, "done": request.query.get("done", "")})


async def _new_page(request: web.Request, form: Form, status: int = 200) -> web.Response:
    async with request.app[DB].read() as conn:
        schools = await online.school_choices(conn)
    return aiohttp_jinja2.render_template("signing/employer_new.html", request, {
        "form": form, "schools": schools, **form_context()}, status=status)


def _default_valid_until(now: dt.datetime) -> str:
    return (china_date(now) + dt.timedelta(days=14)).isoformat()


@allow(Role.EMPLOYER)
async def new_form(request: web.Request) -> web.Response:
    """发起签约: blank, or for one of the employer's applicants (?application=ID)."""
    ident = require_identity(request)
    async with request.app[DB].read() as conn:
        employer = (await conn.execute(sa.select(employers).where(
            employers.c.id == ident.employer_id))).first()
        values = fields.from_employer(employer) if employer is not None else {}
        app_id = request.query.get("application", "")
        if app_id.isdigit() and len(app_id) < 12:
            who = await online.invitee_from_application(conn, ident, int(app_id))
            if who is None:
                raise web.HTTPNotFound()
            values.update(who)
    values.update({"valid_until": _default_valid_until(request.app[CLOCK].now()),
                   "archive_accept": "0", "hukou_accept": "0"})
    return await _new_page(request, Form(values))


@allow(Role.EMPLOYER)
async def new_submit(request: web.Request) -> web.Response:
    form = Form(await request.post())
    ident = require_identity(request)
    # counted before the lookup, refusals included: school + 学号 + 姓名 tried by the hundred
    if await RateLimiter(request.app[DB], request.app[CLOCK]).take(
            INVITES, f"signing-invite:{ident.employer_id}") is None:
        form.error("_form", "发起签约过于频繁，请稍后再试")
        return await _new_page(request, form, 429)
    try:
        async with request.app[DB].write() as conn:
            new_id = await online.invite(conn, require_identity(request), form.values,
                                         now=request.app[CLOCK].now())
    except FormError as exc:
        form.errors.update(exc.errors)
        return await _new_page(request, form, 400)
    raise see_other(request, "employer_agreement", {"done": "invited"}, agreement_id=new_id)


async def _detail_page(request: web.Request, form: Form | None = None, status: int = 200) -> web.Response:
    ident = require_identity(request)
    async with request.app[DB].read() as conn:
        row = await service.item(conn, ident, int_param(request, "agreement_id"))
        if row is None:
            raise web.HTTPNotFound()
        history = await service.history(conn, row)
    actions = flow_of(row.channel).actions_for(row.status, Role.EMPLOYER)
    if form is None:
        values = dict(row.data or {})
        if row.valid_until:
            values["valid_until"] = row.valid_until.astimezone(CHINA).date().isoformat()
        form = Form(values)
    context: dict[str, Any] = {**sheet_context(request, row, changed=fields.changed(row.previous_data, row.data)),
                               "form": form, "history": history, "can_withdraw": "withdraw" in actions,
                               "can_resend": "resend" in actions,
                               "can_confirm": "confirm" in actions, "done": request.query.get("done", ""),
                               **form_context()}
    return aiohttp_jinja2.render_template("signing/employer_detail.html", request, context, status=status)


@allow(Role.EMPLOYER)
async def detail(request: web.Request) -> web.Response:
    return await _detail_page(request)


async def _act(request: web.Request, form: Form, run, done: str,  # noqa: ANN001
               back_to: str = "employer_agreement") -> web.Response:
    """One employer action on the agreement: `run(conn, ident, agreement_id)` in a write, its
    refusals shown on the detail page (400 a field, 409 the state), then to `back_to` (the
    agreement's page, or the list) with `done`."""
    agreement_id = int_param(request, "agreement_id")
    try:
        async with request.app[DB].write() as conn:
            state = await run(conn, require_identity(request), agreement_id)
    except FormError as exc:
        form.errors.update(exc.errors)
        return await _detail_page(request, form, 400)
    except workflow.TransitionError as exc:
        form.error("_form", str(exc))
        return await _detail_page(request, form, 409)
    if state is None:
        raise web.HTTPNotFound()
    if back_to == "employer_agreement":
        raise see_other(request, back_to, {"done": done}, agreement_id=agreement_id)
    raise see_other(request, back_to, {"done": done})


@allow(Role.EMPLOYER)
async def withdraw(request: web.Request) -> web.Response:
    now = request.app[CLOCK].now()
    return await _act(request, Form(), lambda conn, ident, aid: online.withdraw(
        conn, ident, aid, now=now), "withdrawn")


@allow(Role.EMPLOYER)
async def resend(request: web.Request) -> web.Response:
    """修改后重新发送 a returned agreement."""
    form, now = Form(await request.post()), request.app[CLOCK].now()
    return await _act(request, form, lambda conn, ident, aid: online.employer_update(
        conn, ident, aid, form.values, now=now), "resent")


@allow(Role.EMPLOYER)
async def confirm(request: web.Request) -> web.Response:
    """确认无误 / 需要修改 a student's offline agreement carrying this employer's credit code."""
    form, now = Form(await request.post()), request.app[CLOCK].now()
    action = form.get("action")
    # 需要修改 makes it the student's draft again, out of this employer's sight until it is
    # sent again: the list says it was sent back
    return await _act(request, form, lambda conn, ident, aid: offline.employer_confirm(
        conn, ident, aid, action, form.get("comment"), now=now), action,
        "employer_agreements" if action == "ask_changes" else "employer_agreement")
