"""9.2 管理员强制解约: a school admin (own school) or a platform admin (any school) finds an
effective agreement by its student's 学号 or 姓名 (or its number) and terminates it with a
reason and the paper proof.
Also the documents of a termination (解约函, proof), only through the agreement's scope."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from ... import files, paging, workflow
from ...forms import Form, FormError
from ...middleware import require_identity
from ...reviews.common import int_param, see_other
from ...roles import Role, allow
from ...state import CLOCK, DB, FILES
from .. import forced as forcing
from .. import service
from ..flows import TERMINATION_FLOW
from .common import ACCEPT, read_upload

ADMINS = (Role.SCHOOL_ADMIN, Role.PLATFORM_ADMIN)
STAFF = (Role.COUNSELOR, Role.SCHOOL_ADMIN, Role.PLATFORM_ADMIN)
PAGE = "termination/force.html"


async def _page(request: web.Request, form: Form, status: int = 200) -> web.Response:
    """The search (?q=: 学号, 姓名 or 协议书编号 → the matching effective agreements), and
    the chosen agreement (?number=) with the form."""
    ident = require_identity(request)
    found, results = None, None
    number = form.get("number").strip()
    wanted = paging.params(request.query)
    async with request.app[DB].read() as conn:
        if wanted.q:
            results = await forcing.search(conn, ident, wanted)
        if number and "number" not in form.errors:
            try:
                found = await forcing.find_effective(conn, ident, number)
            except FormError as exc:
                form.errors.update(exc.errors)
    return aiohttp_jinja2.render_template(PAGE, request, {
        "form": form, "found": found, "results": results, "q": wanted.q, "accept": ACCEPT,
        "done": request.query.get("done", ""), "is_platform": ident.role == Role.PLATFORM_ADMIN,
        "flow": TERMINATION_FLOW, "employer_label": service.signing.employer_label}, status=status)


@allow(*ADMINS)
async def force_page(request: web.Request) -> web.Response:
    """强制解约: find the agreement by 学号, 姓名 or 协议书编号 (?q=…), pick it (?number=…),
    then the form."""
    return await _page(request, Form({"number": request.query.get("number", "")[:40]}))


@allow(*ADMINS)
async def force(request: web.Request) -> web.Response:
    post = await request.post()
    form = Form(post)
    proof, upload_error = await read_upload(request, post, "proof")
    try:
        async with request.app[DB].write() as conn:
            agreement_id = await forcing.force(conn, require_identity(request), form.get("number"),
                                               reason=form.get("reason"), proof=proof,
                                               store=request.app[FILES], now=request.app[CLOCK].now(),
                                               upload_error=upload_error)
    except FormError as exc:
        form.errors.update(exc.errors)
    except workflow.TransitionError as exc:
        form.error(exc.field, str(exc))
    if form.ok:
        raise see_other(request, "termination_force", {"done": str(agreement_id)})
    if proof is not None:
        form.error("proof", "请重新选择文件")
    return await _page(request, form, 400)


@allow(*tuple(Role))
async def document(request: web.Request) -> web.Response:
    """A 解约函 (both parties and the reviewers) or a forced termination's proof (staff in the
    agreement's scope only)."""
    ident = require_identity(request)
    agreement_id, file_id = int_param(request, "agreement_id"), request.match_info["file_id"]
    async with request.app[DB].read() as conn:
        row = await service.signing.item(conn, ident, agreement_id)
        allowed: set[str] = set()
        if row is not None:
            allowed = await service.letter_ids(conn, agreement_id)
            if ident.role in STAFF:
                allowed |= await forcing.proof_ids(conn, agreement_id)
        found = await files.get(conn, file_id) if file_id in allowed else None
    if found is None:
        raise web.HTTPNotFound()
    return files.response(request.app[FILES], found)
