"""单位注册, the employer's profile, and the platform admin's review of employers."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from .. import images, workflow
from ..auth import service as accounts_service
from ..auth.views import open_session, start_session_response
from ..workflow import TransitionError
from ..forms import Form, FormError
from ..lists import batch_views
from ..lists.spec import fetch, resolve
from ..middleware import require_identity
from ..ratelimit import Limit, RateLimiter
from ..reviewing import submit_review
from ..roles import Role, allow, public
from ..state import CLOCK, CPU, DB, FILES, SETTINGS
from ..bodies import read_upload
from ..validators import (Invalid, check_password, normalize_contact_phone,
                          normalize_credit_code, normalize_email)
from . import codes, listing, service
from .service import EMPLOYER_FLOW, Profile


def parse_profile(form: Form) -> Profile | None:
    name = form.required("name", "单位名称")
    credit_code = form.check("credit_code", "统一社会信用代码", normalize_credit_code)
    nature = form.required("nature", "单位性质")
    if nature and nature not in codes.NATURE:
        form.error("nature", "请选择单位性质")
    industry = form.required("industry", "单位行业")
    if industry and industry not in codes.INDUSTRY:
        form.error("industry", "请选择单位行业")
    location = form.required("location", "所在地")
    contact_name = form.required("contact_name", "联系人")
    phone = form.check("contact_phone", "联系电话", normalize_contact_phone)
    email = form.check("contact_email", "联系邮箱", normalize_email)
    if len(name) > 200:
        form.error("name", "单位名称过长")
    if not form.ok:
        return None
    return Profile(name=name, credit_code=credit_code or "", nature=nature, industry=industry,
                   location=location, contact_name=contact_name, contact_phone=phone or "",
                   contact_email=email or "")


async def read_licence(request: web.Request, post, form: Form,  # noqa: ANN001
                       required: bool) -> tuple[bytes, str] | None:
    """The licence re-encoded as a clean JPEG, or None with the message on the form."""
    limits = images.ImageLimits.of(request.app[SETTINGS])
    try:
        data = read_upload(request, post, "licence", limits.max_bytes, images.LICENCE.noun)
        if data is None:
            if required:
                form.error("licence", "请上传营业执照图片")
            return None
        return await images.clean_off_loop(request.app[CPU], data, images.LICENCE, limits), \
            "image/jpeg"
    except Invalid as exc:
        form.error("licence", str(exc))
        return None


def _context(form: Form, **extra: Any) -> dict[str, Any]:
    return {"form": form, "natures": codes.options(codes.NATURE),
            "industries": codes.options(codes.INDUSTRY), **extra}


@public
async def register_form(request: web.Request) -> web.Response:
    return aiohttp_jinja2.render_template("employers/register.html", request, _context(Form()))


REGISTER_LIMITED = "注册提交过于频繁，请一小时后再试"


@public
async def register_submit(request: web.Request) -> web.Response:
    post = await request.post()
    form = Form({k: v for k, v in post.items() if isinstance(v, str)})
    app = request.app
    # Every submission counts, taken before any work: each one decodes an image, hashes a
    # password and tells whether a 用户名, 邮箱 or 信用代码 is already registered.
    rule = Limit(app[SETTINGS].register_limit, 3600)
    key = f"register:ip:{request.remote or 'unknown'}"
    if await RateLimiter(app[DB], app[CLOCK]).take(rule, key) is None:
        form.error("_form", REGISTER_LIMITED)
        return aiohttp_jinja2.render_template("employers/register.html", request, _context(form),
                                              status=429)
    profile = parse_profile(form)
    username = form.required("username", "用户名")
    password = form.check("password", "密码", check_password)
    form.confirm_password(password)
    licence = await read_licence(request, post, form, True)
    if form.ok and profile and licence:
        now = app[CLOCK].now()
        password_hash = await accounts_service.hash_in_pool(app[CPU], password or "")
        try:
            async with app[DB].write() as conn:
                account_id = await service.register(
                    conn, app[FILES], profile=profile, username=username,
                    password_hash=password_hash, licence=licence[0], licence_type=licence[1],
                    now=now)
                sid = await open_session(conn, request, account_id)
        except FormError as exc:
            form.errors.update(exc.errors)
        else:
            raise start_session_response(request, web.HTTPSeeOther("/employer"), sid)
    return aiohttp_jinja2.render_template("employers/register.html", request, _context(form),
                                          status=400)


async def _own(request: web.Request):  # noqa: ANN202
    async with request.app[DB].read() as conn:
        org = await service.get(conn, require_identity(request).employer_id or 0)
    if org is None:
        raise web.HTTPForbidden()
    return org


@allow(Role.EMPLOYER)
async def profile_form(request: web.Request) -> web.Response:
    org = await _own(request)
    form = Form({k: str(v or "") for k, v in org._mapping.items()})
    return aiohttp_jinja2.render_template("employers/profile.html", request,
                                          _context(form, org=org, states=EMPLOYER_FLOW.state_labels))


@allow(Role.EMPLOYER)
async def profile_submit(request: web.Request) -> web.Response:
    org = await _own(request)
    post = await request.post()
    form = Form({k: v for k, v in post.items() if isinstance(v, str)})
    form.values["credit_code"] = org.credit_code  # fixed once registered
    profile = parse_profile(form)
    licence = await read_licence(request, post, form, False)
    if form.ok and profile:
        ident = require_identity(request)
        try:
            async with request.app[DB].write() as conn:
                replaced = await service.resubmit(
                    conn, request.app[FILES], org.id, profile=profile,
                    licence=licence[0] if licence else None,
                    licence_type=licence[1] if licence else None,
                    actor_id=ident.account_id, now=request.app[CLOCK].now())
        except TransitionError as exc:
            form.error("_form", str(exc))
        except FormError as exc:
            form.errors.update(exc.errors)
        else:
            if replaced:
                request.app[FILES].remove(replaced)
            raise web.HTTPSeeOther("/employer")
    return aiohttp_jinja2.render_template(
        "employers/profile.html", request, _context(form, org=org, states=EMPLOYER_FLOW.state_labels),
        status=400)


@allow(Role.PLATFORM_ADMIN)
async def admin_list(request: web.Request) -> web.Response:
    resolved = resolve(listing.SPEC, request.query)
    async with request.app[DB].read() as conn:
        page = await fetch(conn, resolved, listing.rows())
        counts = await service.state_counts(conn)
    return aiohttp_jinja2.render_template("employers/admin_list.html", request, {
        "r": resolved, "page": page, "counts": counts, "states": EMPLOYER_FLOW.state_labels,
        "natures": codes.NATURE}, status=400 if resolved.form.errors else 200)


async def _admin_page(request: web.Request, form: Form, status: int = 200) -> web.Response:
    employer_id = int(request.match_info["employer_id"])
    async with request.app[DB].read() as conn:
        org = await service.get(conn, employer_id)
        if org is None:
            raise web.HTTPNotFound()
        history = await workflow.history(conn, EMPLOYER_FLOW, employer_id)
        nav = await batch_views.review_nav(request, conn, listing, None, "admin_employer",
                                           "employer_id", employer_id, EMPLOYER_FLOW.action_labels)
    return aiohttp_jinja2.render_template("employers/admin_detail.html", request, {**nav,
        "org": org, "form": form, "history": history, "states": EMPLOYER_FLOW.state_labels,
        "actions": EMPLOYER_FLOW.action_labels, "natures": codes.NATURE,
        "industries": codes.INDUSTRY,
        "can": EMPLOYER_FLOW.actions_for(org.status, Role.PLATFORM_ADMIN)}, status=status)


@allow(Role.PLATFORM_ADMIN)
async def admin_detail(request: web.Request) -> web.Response:
    return await _admin_page(request, Form())


@allow(Role.PLATFORM_ADMIN)
async def admin_review(request: web.Request) -> web.Response:
    employer_id = int(request.match_info["employer_id"])
    ident = require_identity(request)

    async def decide(conn, action: str, reason: str | None) -> None:  # noqa: ANN001
        await service.review(conn, employer_id, action, actor_id=ident.account_id, reason=reason,
                             now=request.app[CLOCK].now(),
                             base_url=request.app[SETTINGS].public_base_url)
    # back to the employer, saying what was done, with 【下一条】 of the same list
    page = request.app.router["admin_employer"].url_for(employer_id=str(employer_id))
    return await submit_review(request, decide, _admin_page,
                               lambda action: str(page.with_query({**request.query, "done": action})))
