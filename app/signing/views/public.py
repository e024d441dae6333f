"""Pages without login: the employer's confirmation link and the verification page."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from ...forms import Form
from ...ratelimit import Limit, RateLimiter
from ...roles import public
from ...state import CLOCK, DB, SETTINGS
from .. import offline, review
from .common import sheet_context

# typed lookups by number and 验证码, per address (the QR code's link is not counted)
LOOKUPS = Limit(30, 600)


async def _confirm_page(request: web.Request, form: Form, status: int = 200, done: str = "") -> web.Response:
    token = request.match_info["token"]
    async with request.app[DB].read() as conn:
        link = await offline.by_confirm_token(conn, token, secret_key=request.app[SETTINGS].secret_key,
                                              now=request.app[CLOCK].now())
    context = {"form": form, "problem": link.problem, "done": done, "token": token}
    if link.row is not None and not done:
        context.update(sheet_context(request, link.row))
    if link.problem and not done:
        status = 410 if link.row is not None else 404
    return aiohttp_jinja2.render_template("signing/confirm.html", request, context, status=status)


@public
async def confirm_form(request: web.Request) -> web.Response:
    return await _confirm_page(request, Form())


@public
async def confirm_submit(request: web.Request) -> web.Response:
    form = Form(await request.post())
    action = form.get("action")
    form.errors.update(offline.answer_errors(action, form.get("comment")))
    if form.errors:
        return await _confirm_page(request, form, 400)
    async with request.app[DB].write() as conn:
        state, problem = await offline.employer_answer(
            conn, request.match_info["token"], action, form.get("comment"),
            secret_key=request.app[SETTINGS].secret_key, now=request.app[CLOCK].now())
    if problem:
        form.error("_form", problem)
        return await _confirm_page(request, form, 409)
    return await _confirm_page(request, Form(), 200, done=state or "")


@public
async def verify(request: web.Request) -> web.Response:
    """The QR code's page: only number, name, school, employer and state."""
    token = request.match_info.get("token", "")
    number = request.query.get("number", "").strip()[:40]
    code = request.query.get("code", "").strip()[:16]
    if number and not token and await RateLimiter(request.app[DB], request.app[CLOCK]).take(
            LOOKUPS, f"verify:{request.remote or 'unknown'}") is None:
        return aiohttp_jinja2.render_template("signing/verify.html", request, {
            "row": None, "asked": False, "number": number, "code": code,
            "limited": True}, status=429)
    async with request.app[DB].read() as conn:
        row = (await review.by_verify_token(conn, token) if token
               else await review.by_number(conn, number, code) if number else None)
    asked = bool(token or number)
    context = {"row": row, "asked": asked, "number": number, "code": code,
               "label": review.verify_label(row.status) if row else None,
               "employer": review.verify_employer(row) if row else ""}
    return aiohttp_jinja2.render_template("signing/verify.html", request, context,
                                          status=404 if asked and row is None else 200)
