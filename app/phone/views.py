"""Thin handlers of 手机认证 (/student/signing/phone)."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from ..forms import Form, FormError
from ..middleware import require_identity
from ..ratelimit import RateLimiter
from ..roles import Role, allow
from ..state import CLOCK, DB, SETTINGS
from ..validators import normalize_phone
from . import service

PAGE = "phone/verify.html"


def _entry(request: web.Request) -> web.HTTPSeeOther:
    """A confirmed number opens 签约中心."""
    return web.HTTPSeeOther(str(request.app.router["signing_centre"].url_for()))


async def _page(request: web.Request, form: Form, status: int = 200,
                sent_to: str | None = None) -> web.Response:
    app = request.app
    async with app[DB].read() as conn:
        st = await service.state(conn, require_identity(request), app[CLOCK].now(), app[SETTINGS])
    return aiohttp_jinja2.render_template(PAGE, request, {
        "form": form, "state": st, "gate": st.gate, "sent_to": sent_to,
        "ttl_minutes": app[SETTINGS].code_ttl_seconds // 60}, status=status)


@allow(Role.STUDENT)
async def page(request: web.Request) -> web.Response:
    app = request.app
    async with app[DB].read() as conn:
        st = await service.state(conn, require_identity(request), app[CLOCK].now(), app[SETTINGS])
    if st.gate.phone_verified:
        raise _entry(request)
    return await _page(request, Form())


@allow(Role.STUDENT)
async def send_code(request: web.Request) -> web.Response:
    """【获取验证码】"""
    ident = require_identity(request)
    form = Form(await request.post())
    phone = form.check("phone", "手机号", normalize_phone)
    if not form.ok:
        return await _page(request, form, 400)
    app = request.app
    s = app[SETTINGS]
    limits = {f"sms-code:acct:{ident.account_id}": s.code_send_limit,
              f"sms-code:ip:{request.remote or 'unknown'}": s.code_send_limit_per_address,
              f"sms-code:phone:{phone}": s.code_send_limit}
    limiter = RateLimiter(app[DB], app[CLOCK])
    # The slot is taken before the send (atomic: concurrent requests cannot pass the limit)
    # and given back when nothing was sent (a wrong number, the resend cooldown).
    slot = await limiter.take_each(3600, limits)
    if slot is None:
        form.error("code", "获取验证码过于频繁，请一小时后再试")
        return await _page(request, form, 429)
    try:
        async with app[DB].write() as conn:
            sent_to = await service.send_code(conn, ident, form.get("phone"), app[CLOCK].now(),
                                              app[SETTINGS])
    except FormError as exc:
        await limiter.give_back(slot)
        form.errors.update(exc.errors)
        return await _page(request, form, 400)
    return await _page(request, form, sent_to=service.mask_phone(sent_to))


@allow(Role.STUDENT)
async def verify(request: web.Request) -> web.Response:
    """认证: check the code; on success go on to 签约中心."""
    ident = require_identity(request)
    form = Form(await request.post())
    form.check("phone", "手机号", normalize_phone)
    code = form.required("code", "短信验证码")
    if code and not (len(code) == 6 and code.isdigit()):
        form.error("code", "验证码为6位数字")
    if not form.ok:
        return await _page(request, form, 400)
    app = request.app
    try:
        async with app[DB].write() as conn:
            problem = await service.verify(conn, ident, form.get("phone"), code,
                                           app[CLOCK].now(), app[SETTINGS])
    except FormError as exc:
        form.errors.update(exc.errors)
        return await _page(request, form, 400)
    if problem:
        form.error("code", problem)
        return await _page(request, form, 400)
    raise _entry(request)
