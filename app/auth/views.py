"""Thin handlers for 学生激活, login, logout and 忘记密码."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from rtc.sockets import end_sockets

from ..forms import Form, FormError
from ..middleware import SESSION_COOKIE, identity, rotate_csrf
from ..offload import CpuBusy
from ..pages.views import centre_url
from ..ratelimit import Limit, RateLimiter
from ..roles import Role, public
from ..security import sign, unsign
from ..state import ACCOUNT_CACHE, CLOCK, CPU, DB, SETTINGS
from ..validators import check_password, normalize_email, normalize_id_number, normalize_phone
from . import reset, service, sessions

ACTIVATION_TTL = 1800
RATE_LIMITED = "尝试次数过多，请稍后再试"
LOGIN_LIMITED = "登录失败次数过多，请15分钟后再试或使用【忘记密码】"
LOGIN_BUSY = "当前登录人数较多，请稍候几秒再试"

# The three login pages: title, the roles each admits, the label of its account field.
LOGIN_KINDS: dict[str, dict[str, Any]] = {
    "student": {"title": "学生登录", "roles": frozenset({Role.STUDENT}),
                "account_label": "学号/邮箱/手机号"},
    "employer": {"title": "单位登录", "roles": service.EMPLOYER_ROLES,
                 "account_label": "用户名/邮箱"},
    "staff": {"title": "管理人员登录", "roles": service.STAFF, "account_label": "用户名"},
}


def _render(request: web.Request, template: str, context: dict[str, Any],
            status: int = 200) -> web.Response:
    return aiohttp_jinja2.render_template(template, request, context, status=status)


def _redirect(request: web.Request, name: str, query: dict[str, str] | None = None,
              **parts: str) -> web.HTTPSeeOther:
    url = request.app.router[name].url_for(**parts)
    return web.HTTPSeeOther(str(url.with_query(query) if query else url))


def _limiter(request: web.Request) -> RateLimiter:
    return RateLimiter(request.app[DB], request.app[CLOCK])


def _ip(request: web.Request) -> str:
    return request.remote or "unknown"


async def open_session(conn, request: web.Request, account_id: int) -> str:  # noqa: ANN001
    """A new server-side session for this browser, inside the caller's transaction."""
    token = await sessions.start(conn, account_id=account_id, now=request.app[CLOCK].now(),
                                 days=request.app[SETTINGS].session_days,
                                 user_agent=request.headers.get("User-Agent", ""))
    request.app[ACCOUNT_CACHE].learn(token, account_id)
    return token


def start_session_response(request: web.Request, response: web.HTTPException,
                           token: str) -> web.HTTPException:
    s = request.app[SETTINGS]
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Lax",
                        secure=s.secure_cookies, max_age=s.session_days * 86400, path="/")
    rotate_csrf(request)
    return response


# ---- 学生激活 -------------------------------------------------------------------------

async def _school_form_page(request: web.Request, template: str, form: Form,
                            status: int) -> web.Response:
    """A page whose form starts with the 学校 select."""
    async with request.app[DB].read() as conn:
        choices = await service.school_choices(conn)
    return _render(request, template, {"form": form, "schools": choices}, status)


async def _activation_page(request: web.Request, form: Form, status: int = 200) -> web.Response:
    return await _school_form_page(request, "auth/activate.html", form, status)


@public
async def activate_form(request: web.Request) -> web.Response:
    form = Form()
    if request.query.get("expired"):
        form.error("_form", "激活步骤已超时，请重新填写")
    return await _activation_page(request, form)


@public
async def activate_submit(request: web.Request) -> web.Response:
    form = Form(await request.post())
    school_id = form.required("school_id", "学校")
    student_no = form.required("student_no", "学号")
    name = form.required("name", "姓名")
    id_number = form.check("id_number", "身份证号", normalize_id_number)
    if not form.ok:
        return await _activation_page(request, form, 400)
    s = request.app[SETTINGS]
    limits = {f"activate:ip:{_ip(request)}": s.activation_limit_per_address,
              f"activate:no:{school_id}:{student_no}": s.activation_limit}
    limiter = _limiter(request)
    slot = await limiter.take_each(900, limits)  # before the check: concurrency cannot exceed it
    if slot is None:
        form.error("_form", RATE_LIMITED)
        return await _activation_page(request, form, 429)
    try:
        async with request.app[DB].read() as conn:
            match = await service.match_record(conn, school_id=int(school_id) if school_id.isdigit()
                                               else 0, student_no=student_no, name=name,
                                               id_number=id_number or "")
    except FormError as exc:
        if "_already_active" in exc.errors:  # all four fields were right: not a failed try
            await limiter.give_back(slot)
        form.errors.update(exc.errors)
        return await _activation_page(request, form, 400)
    await limiter.give_back(slot)
    token = sign(request.app[SETTINGS].secret_key, "activate", {"r": match.record_id},
                 ACTIVATION_TTL)
    raise _redirect(request, "activate_profile", {"t": token})


def _activation_record(request: web.Request, token: str) -> int:
    payload = unsign(request.app[SETTINGS].secret_key, "activate", token)
    if not payload:
        raise _redirect(request, "activate", {"expired": "1"})
    return int(payload["r"])


@public
async def profile_form(request: web.Request) -> web.Response:
    token = request.query.get("t", "")
    _activation_record(request, token)
    return _render(request, "auth/activate_profile.html", {"form": Form(), "token": token})


@public
async def profile_submit(request: web.Request) -> web.Response:
    form = Form(await request.post())
    token = form.get("t")
    record_id = _activation_record(request, token)
    email = form.check("email", "邮箱", normalize_email)
    phone = form.check("phone", "手机号", normalize_phone)
    password = form.check("password", "密码", check_password)
    form.confirm_password(password)
    if form.ok:
        app = request.app
        now = app[CLOCK].now()
        password_hash = await service.hash_in_pool(app[CPU], password or "")
        try:
            async with app[DB].write() as conn:
                account_id = await service.activate(conn, record_id=record_id, email=email or "",
                                                    phone=phone or "", password_hash=password_hash,
                                                    now=now)
                sid = await open_session(conn, request, account_id)
        except FormError as exc:
            form.errors.update(exc.errors)
        else:
            raise start_session_response(
                request, web.HTTPSeeOther(centre_url(request, Role.STUDENT)), sid)
    return _render(request, "auth/activate_profile.html", {"form": form, "token": token}, 400)


# ---- 登录 / 退出 ----------------------------------------------------------------------

def _login_kind(request: web.Request) -> tuple[str, dict[str, Any]]:
    kind = request.path.rstrip("/").rsplit("/", 1)[-1]
    return kind, LOGIN_KINDS[kind]


async def _login_page(request: web.Request, form: Form, status: int = 200) -> web.Response:
    kind, spec = _login_kind(request)
    context: dict[str, Any] = {"form": form, "kind": kind, **spec,
                               "next": request.query.get("next", form.get("next"))}
    if kind == "student":
        async with request.app[DB].read() as conn:
            context["schools"] = await service.school_choices(conn)
    return _render(request, "auth/login.html", context, status)


@public
async def login_form(request: web.Request) -> web.Response:
    ident = identity(request)
    _, spec = _login_kind(request)
    if ident is not None and ident.role in spec["roles"] and not request.query.get("next"):
        raise web.HTTPSeeOther(centre_url(request, ident.role))
    return await _login_page(request, Form())


def _safe_next(target: str) -> str | None:
    return target if target.startswith("/") and not target.startswith("//") else None


@public
async def login_submit(request: web.Request) -> web.Response:
    kind, spec = _login_kind(request)
    form = Form(await request.post())
    account = form.required("account", spec["account_label"])
    password = form.required("password", "密码")
    if not form.ok:
        return await _login_page(request, form, 400)
    app = request.app
    s = app[SETTINGS]
    school_id = form.get("school_id")
    try:
        async with app[DB].read() as conn:
            if kind == "student":
                account_id = await service.find_student_account(
                    conn, account, int(school_id) if school_id.isdigit() else None)
            else:
                account_id = await service.find_account(conn, account, spec["roles"])
            stored = await service.password_of(conn, account_id)
    except FormError as exc:
        form.errors.update(exc.errors)
        return await _login_page(request, form, 400)
    limits = {f"login:ip:{_ip(request)}": s.login_limit_per_address,
              f"login:acct:{kind}:{account.lower()}": s.login_limit}
    if account_id is not None:
        # The same account typed as 学号, 邮箱 and 手机号 shares one allowance.
        limits[f"login:id:{account_id}"] = s.login_limit
    limiter = _limiter(request)
    # The slot is taken before the password is checked, so forty concurrent wrong
    # passwords get LOGIN_LIMIT checks, not forty; a right password gives it back. One
    # write for every key: each write a login saves is one fewer on SQLite's one writer.
    slot = await limiter.take_each(s.login_window_seconds, limits)
    if slot is None:
        form.error("_form", LOGIN_LIMITED)
        return await _login_page(request, form, 429)
    try:
        ok = await service.check_password(app[CPU], stored, password)
    except CpuBusy:  # nothing was checked: the attempt does not count
        await limiter.give_back(slot)
        form.error("_form", LOGIN_BUSY)
        busy = await _login_page(request, form, 503)
        busy.headers["Retry-After"] = "3"
        return busy
    if not ok or account_id is None:
        async with app[DB].write() as conn:
            await service.record_login(conn, account_id=account_id, ok=False, portal=kind,
                                       address=_ip(request), now=app[CLOCK].now())
        form.error("_form", service.BAD_LOGIN)
        return await _login_page(request, form, 400)
    fresh = await service.rehash_if_outdated(app[CPU], stored.password_hash, password)
    async with app[DB].write() as conn:
        await limiter.give_back_in(conn, slot)  # a right password does not count
        if fresh is not None:
            await service.replace_hash(conn, account_id, stored.password_hash, fresh)
        old = identity(request)
        if old is not None:
            await sessions.end(conn, old)
        sid = await open_session(conn, request, account_id)
        role = await service.role_of(conn, account_id)
        await service.record_login(conn, account_id=account_id, ok=True, portal=kind,
                                   address=_ip(request), now=app[CLOCK].now())
    if old is not None:
        await end_sockets(app, session_hash=old.session_hash)
    target = _safe_next(form.get("next")) or centre_url(request, role)
    raise start_session_response(request, web.HTTPSeeOther(target), sid)


@public
async def logout(request: web.Request) -> web.Response:
    ident = identity(request)
    if ident is not None:
        async with request.app[DB].write() as conn:
            await sessions.end(conn, ident)
        await end_sockets(request.app, session_hash=ident.session_hash)
    response = web.HTTPSeeOther(str(request.app.router["home"].url_for()))
    response.del_cookie(SESSION_COOKIE, path="/")
    rotate_csrf(request)
    raise response


# ---- 忘记密码 -------------------------------------------------------------------------

async def _forgot_page(request: web.Request, form: Form, status: int = 200) -> web.Response:
    return await _school_form_page(request, "auth/forgot.html", form, status)


@public
async def forgot_form(request: web.Request) -> web.Response:
    return await _forgot_page(request, Form())


@public
async def forgot_submit(request: web.Request) -> web.Response:
    """【下一步】 leads to the 邮箱 step for any 账号, known or not: the answer is the same."""
    form = Form(await request.post())
    account = form.required("account", "账号")
    if not form.ok:
        return await _forgot_page(request, form, 400)
    app = request.app
    s = app[SETTINGS]
    lookup = reset.lookup_key(s.secret_key, account)
    # Every lookup counts, per address and per 账号, taken before the lookup.
    limits = {f"forgot:ip:{_ip(request)}": s.login_limit_per_address,
              f"forgot:who:{lookup}": s.login_limit}
    if await _limiter(request).take_each(s.login_window_seconds, limits) is None:
        form.error("_form", RATE_LIMITED)
        return await _forgot_page(request, form, 429)
    school_id = form.get("school_id")
    try:
        async with app[DB].read() as conn:
            account_id = await service.find_student_account(
                conn, account, int(school_id) if school_id.isdigit() else None)
            if account_id is None:
                account_id = await service.find_account(
                    conn, account, service.EMPLOYER_ROLES | service.STAFF)
    except FormError as exc:
        form.errors.update(exc.errors)
        return await _forgot_page(request, form, 400)
    async with app[DB].write() as conn:
        token = await reset.begin(conn, account_id, lookup, app[CLOCK].now())
    raise _redirect(request, "forgot_verify", token=token)


async def _flow(request: web.Request):  # noqa: ANN202
    async with request.app[DB].read() as conn:
        flow = await reset.load(conn, request.match_info["token"], request.app[CLOCK].now())
    if flow is None:
        raise _redirect(request, "forgot", {"expired": "1"})
    return flow


def _verify_page(request: web.Request, form: Form, status: int = 200,
                 sent: bool = False) -> web.Response:
    s = request.app[SETTINGS]
    return _render(request, "auth/forgot_verify.html", {
        "form": form, "token": request.match_info["token"], "sent": sent,
        "minutes": s.code_ttl_seconds // 60, "resend_seconds": s.code_resend_seconds}, status)


@public
async def verify_form(request: web.Request) -> web.Response:
    await _flow(request)
    return _verify_page(request, Form())


@public
async def send_code(request: web.Request) -> web.Response:
    flow = await _flow(request)
    form = Form(await request.post())
    email = form.check("email", "邮箱", normalize_email)
    if not form.ok:
        return _verify_page(request, form, 400)
    app = request.app
    s = app[SETTINGS]
    limiter = _limiter(request)
    # Counted whether or not the 邮箱 matches: pressing 获取验证码 is how one would guess it.
    slot = await limiter.take_each(3600, {f"code-send:{reset.owner_key(flow)}": s.code_send_limit,
                                          f"code-send:ip:{_ip(request)}":
                                              s.code_send_limit_per_address})
    if slot is None:
        form.error("code", "获取验证码过于频繁，请一小时后再试")
        return _verify_page(request, form, 429)
    try:
        async with app[DB].write() as conn:
            await reset.send_code(conn, flow, email or "", app[CLOCK].now(), app[SETTINGS])
    except FormError as exc:  # the cooldown, which answers the same for every 邮箱
        await limiter.give_back(slot)
        form.errors.update(exc.errors)
        return _verify_page(request, form, 400)
    return _verify_page(request, form, sent=True)


@public
async def verify_submit(request: web.Request) -> web.Response:
    flow = await _flow(request)
    form = Form(await request.post())
    email = form.check("email", "邮箱", normalize_email)
    code = form.required("code", "邮箱验证码")
    if not form.ok:
        return _verify_page(request, form, 400)
    app = request.app
    rule = Limit(app[SETTINGS].login_limit_per_address, 900)
    limiter = _limiter(request)
    slot = await limiter.take(rule, f"code-check:ip:{_ip(request)}")
    if slot is None:
        form.error("code", RATE_LIMITED)
        return _verify_page(request, form, 429)
    async with app[DB].write() as conn:
        problem = await reset.check_code(conn, flow, email or "", code, app[CLOCK].now(),
                                         app[SETTINGS])
    if problem:
        form.error("code", problem)
        return _verify_page(request, form, 400)
    await limiter.give_back(slot)
    raise _redirect(request, "forgot_new", token=request.match_info["token"])


def _new_password_page(request: web.Request, form: Form, status: int = 200) -> web.Response:
    return _render(request, "auth/forgot_new.html",
                   {"form": form, "token": request.match_info["token"]}, status)


@public
async def new_password_form(request: web.Request) -> web.Response:
    flow = await _flow(request)
    if flow.verified_at is None:
        raise _redirect(request, "forgot_verify", token=request.match_info["token"])
    return _new_password_page(request, Form())


@public
async def new_password_submit(request: web.Request) -> web.Response:
    flow = await _flow(request)
    form = Form(await request.post())
    password = form.check("password", "新密码", check_password)
    form.confirm_password(password)
    if not form.ok:
        return _new_password_page(request, form, 400)
    if flow.verified_at is None:  # before hashing: an unverified attempt costs no argon2
        form.error("_form", reset.NOT_VERIFIED)
        return _new_password_page(request, form, 400)
    app = request.app
    password_hash = await service.hash_in_pool(app[CPU], password or "")
    try:
        async with app[DB].write() as conn:
            await reset.finish(conn, flow, password_hash, app[CLOCK].now())
            role = await service.role_of(conn, flow.account_id)
    except FormError as exc:
        form.errors.update(exc.errors)
        return _new_password_page(request, form, 400)
    await end_sockets(app, account_id=flow.account_id)
    kind = "student" if role == Role.STUDENT else "employer" if role == Role.EMPLOYER else "staff"
    response = _redirect(request, f"login_{kind}", {"reset": "1"})
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response
