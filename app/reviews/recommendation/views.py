"""推荐表 pages: the student's form, the school admin's review, the print page and PDF,
and the public verification page the QR code opens."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ... import codes, images, workflow
from ...bodies import read_upload
from ...lists import batch_views
from ...lists.batch_views import BatchAction, BatchList
from ...lists.spec import fetch
from ...forms import Form, FormError
from ...middleware import require_identity
from ...roles import Role, allow, public
from ...state import CLOCK, CPU, DB, SETTINGS
from ...validators import Invalid
from ..common import decide_item, int_param, see_other
from ..flows import RECOMMENDATION_FLOW, RecState
from . import documents, fields, listing, photos, service

EDIT_PAGE = "reviews/recommendation_edit.html"
REVIEW_PAGE = "reviews/recommendation_review.html"
TEXTS = [(name, label) for name, label, *_ in fields.TEXTS]


def _edit_context(form: Form, me: service.Mine) -> dict[str, Any]:
    return {"form": form, "me": me, "fields": fields, "texts": fields.TEXTS,
            "has_photo": bool(me.form and me.form.photo_name)}


@allow(Role.STUDENT)
@aiohttp_jinja2.template("reviews/recommendation_student.html")
async def student_page(request: web.Request) -> dict[str, Any]:
    ident = require_identity(request)
    async with request.app[DB].read() as conn:
        me = await service.mine(conn, ident)
        entries = await service.history(conn, me.form.id) if me.form else []
    status = me.form.status if me.form else RECOMMENDATION_FLOW.initial.value
    return {"me": me, "flow": RECOMMENDATION_FLOW, "history": entries, "status": status,
            "reason": entries[-1].reason if entries else None, "texts": TEXTS,
            "can_edit": me.available and status in service.EDITABLE_STATES,
            "can_withdraw": status == RecState.SUBMITTED,
            "can_print": status == RecState.APPROVED, "notice": request.query.get("done", "")}


@allow(Role.STUDENT)
async def student_edit(request: web.Request) -> web.Response:
    async with request.app[DB].read() as conn:
        me = await service.mine(conn, require_identity(request))
    if not me.available or (me.form and me.form.status not in service.EDITABLE_STATES):
        raise see_other(request, "recommendation_student")
    form = Form(fields.as_form(me.form.data) if me.form else {})
    return aiohttp_jinja2.render_template(EDIT_PAGE, request, _edit_context(form, me))


@allow(Role.STUDENT)
async def student_save(request: web.Request) -> web.Response:
    ident = require_identity(request)
    post = await request.post()
    form = Form(post)
    submit = post.get("do") == "submit"
    photo_name = None
    limits = images.ImageLimits.of(request.app[SETTINGS])
    try:
        upload = read_upload(request, post, "photo", limits.max_bytes, images.PHOTO.noun)
        if upload is not None:
            jpeg = await images.clean_off_loop(request.app[CPU], upload, images.PHOTO, limits)
            photo_name = photos.store(request.app[SETTINGS].data_dir, jpeg)
    except Invalid as exc:
        form.error("photo", str(exc))
    if form.ok:
        try:
            async with request.app[DB].write() as conn:
                saved = await service.save(conn, ident, form.values, photo_name=photo_name,
                                           submit=submit, now=request.app[CLOCK].now())
            # committed: the replaced photo is nobody's any more
            photos.remove(request.app[SETTINGS].data_dir, saved.replaced_photo)
            raise see_other(request, "recommendation_student",
                            {"done": "submitted" if submit else "saved"})
        except FormError as exc:
            form.errors.update(exc.errors)
        except workflow.TransitionError as exc:
            form.error("_form", str(exc))
    photos.remove(request.app[SETTINGS].data_dir, photo_name)  # nothing kept on bad input
    if "photo" not in form.errors and photo_name:
        form.error("photo", "请重新选择照片")
    async with request.app[DB].read() as conn:
        me = await service.mine(conn, ident)
    return aiohttp_jinja2.render_template(EDIT_PAGE, request, _edit_context(form, me), status=400)


@allow(Role.STUDENT)
async def student_withdraw(request: web.Request) -> web.Response:
    try:
        async with request.app[DB].write() as conn:
            await service.withdraw(conn, require_identity(request), request.app[CLOCK].now())
    except workflow.TransitionError as exc:
        raise web.HTTPConflict(text=str(exc))
    raise see_other(request, "recommendation_student", {"done": "withdrawn"})


def _photo_response(request: web.Request, name: str | None) -> web.Response:
    data = photos.read(request.app[SETTINGS].data_dir, name)
    if data is None:
        raise web.HTTPNotFound()
    return web.Response(body=data, content_type="image/jpeg",
                        headers={"Cache-Control": "private, no-store"})


@allow(Role.STUDENT)
async def student_photo(request: web.Request) -> web.Response:
    async with request.app[DB].read() as conn:
        me = await service.mine(conn, require_identity(request))
    return _photo_response(request, me.form.photo_name if me.form else None)


# --- printing -------------------------------------------------------------------------------

async def _printable(request: web.Request) -> dict[str, Any]:
    async with request.app[DB].read() as conn:
        row = await service.item(conn, require_identity(request))
    if row is None or row.status != RecState.APPROVED:
        raise see_other(request, "recommendation_student")
    base = request.app[SETTINGS].public_base_url.rstrip("/")
    verify_url = base + str(request.app.router["recommendation_verify"].url_for(token=row.verify_token))
    origin = row.origin or {}
    return {"form": row, "texts": TEXTS, "verify_url": verify_url,
            "qr_src": documents.qr_data_uri(verify_url),
            "political": codes.POLITICAL.get(origin.get("political", ""), ""),
            "origin_area": codes.area_name(origin["origin_area"]) if origin.get("origin_area") else "",
            "pdf_url": str(request.app.router["recommendation_pdf"].url_for()),
            "back_url": str(request.app.router["recommendation_student"].url_for())}


@allow(Role.STUDENT)
async def print_page(request: web.Request) -> web.Response:
    context = await _printable(request)
    context["photo_src"] = (str(request.app.router["recommendation_photo"].url_for())
                            if context["form"].photo_name else None)
    return aiohttp_jinja2.render_template(documents.SHEET, request, {**context, "for_pdf": False})


@allow(Role.STUDENT)
async def print_pdf(request: web.Request) -> web.Response:
    context = await _printable(request)
    context["photo_src"] = documents.photo_data_uri(
        photos.read(request.app[SETTINGS].data_dir, context["form"].photo_name))
    try:
        pdf = await documents.pdf(request.app[CPU], require_identity(request).account_id,
                                  aiohttp_jinja2.get_env(request.app), context)
    except documents.RenderRefused:
        return documents.refused()
    return web.Response(body=pdf, content_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="recommendation-{context["form"].serial}.pdf"'})


@public
@aiohttp_jinja2.template("reviews/recommendation_verify.html")
async def verify(request: web.Request) -> dict[str, Any]:
    async with request.app[DB].read() as conn:
        found = await service.by_token(conn, request.match_info["token"])
    return {"found": found, "valid": bool(found) and found.status == RecState.APPROVED}


# --- school admin ---------------------------------------------------------------------------

@allow(Role.SCHOOL_ADMIN)
async def queue(request: web.Request) -> web.Response:
    ident = require_identity(request)
    async with request.app[DB].read() as conn:
        resolved = await listing.read(conn, ident, request.query)
        page = await fetch(conn, resolved, listing.rows(ident))
        counts = await listing.state_counts(conn, ident)
    return aiohttp_jinja2.render_template("reviews/recommendation_queue.html", request, {
        "r": resolved, "page": page, "counts": counts, "flow": RECOMMENDATION_FLOW,
        "actions": BATCH_ACTIONS}, status=400 if resolved.form.errors else 200)


BATCH_ACTIONS = (BatchAction("approve", "通过"), BatchAction("return", "退回", reason_required=True))


@allow(Role.SCHOOL_ADMIN)
async def batch(request: web.Request) -> web.Response:
    """批量通过 / 批量退回, on the ticked forms or on all that match the list's filters."""
    ident = require_identity(request)

    return await batch_views.handle(request, BatchList(
        title="推荐表", noun="份", actions=BATCH_ACTIONS, read=batch_views.reader(listing, ident),
        act=listing.decide(ident, request.app[CLOCK].now())))


async def _review_context(request: web.Request, form_id: int) -> dict[str, Any]:
    ident = require_identity(request)
    async with request.app[DB].read() as conn:
        row = await service.item(conn, ident, form_id)
        if row is None:
            raise web.HTTPNotFound()
        entries = await service.history(conn, form_id)
        nav = await batch_views.review_nav(request, conn, listing, ident, "recommendation_review",
                                           "rec_id", form_id, RECOMMENDATION_FLOW.action_labels)
    return {"row": row, "history": entries, "flow": RECOMMENDATION_FLOW, "form": Form(),
            "texts": TEXTS, "actions": RECOMMENDATION_FLOW.actions_for(row.status, ident.role),
            **nav}


@allow(Role.SCHOOL_ADMIN)
async def review_page(request: web.Request) -> web.Response:
    context = await _review_context(request, int_param(request, "rec_id"))
    return aiohttp_jinja2.render_template(REVIEW_PAGE, request, context)


@allow(Role.SCHOOL_ADMIN)
async def review_photo(request: web.Request) -> web.Response:
    async with request.app[DB].read() as conn:
        row = await service.item(conn, require_identity(request), int_param(request, "rec_id"))
    return _photo_response(request, row.photo_name if row else None)


async def _decide(request: web.Request, action: str) -> web.Response:
    return await decide_item(request, action, "rec_id", "recommendation_review", review=service.review,
                             context=_review_context, template=REVIEW_PAGE)


@allow(Role.SCHOOL_ADMIN)
async def approve(request: web.Request) -> web.Response:
    return await _decide(request, "approve")


@allow(Role.SCHOOL_ADMIN)
async def return_(request: web.Request) -> web.Response:
    return await _decide(request, "return")


@allow(Role.SCHOOL_ADMIN)
async def revoke(request: web.Request) -> web.Response:
    return await _decide(request, "revoke")
