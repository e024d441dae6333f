"""简历管理 pages for students."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ..forms import Form, FormError
from ..middleware import require_identity
from ..roles import Role, allow
from ..state import CLOCK, DB, FILES, SETTINGS
from ..bodies import read_upload
from ..uploads import clean_upload_name, sniff_document
from ..validators import Invalid
from . import schema, service


def _resumes_url(request: web.Request, **query: str) -> str:
    url = request.app.router["resumes"].url_for()
    return str(url.with_query(query) if query else url)


async def _index_page(request: web.Request, form: Form, status: int = 200) -> web.Response:
    async with request.app[DB].read() as conn:
        rows = await service.list_for(conn, require_identity(request).account_id)
    return aiohttp_jinja2.render_template("resumes/index.html", request, {
        "resumes": rows, "structured": {r.kind: r for r in rows if r.kind != "file"},
        "form": form, "titles": schema.KIND_TITLES, "saved": request.query.get("saved"),
        "max_attachments": service.MAX_ATTACHMENTS}, status=status)


@allow(Role.STUDENT)
async def index(request: web.Request) -> web.Response:
    return await _index_page(request, Form())


def _edit_page(request: web.Request, kind: str, data: dict[str, Any],
               errors: dict[str, str] | None = None, status: int = 200) -> web.Response:
    return aiohttp_jinja2.render_template("resumes/edit.html", request, {
        "kind": kind, "title": schema.KIND_TITLES[kind], "data": data, "sections": schema.SECTIONS,
        "month_pattern": schema.MONTH_PATTERN,
        "errors": errors or {}}, status=status)


@allow(Role.STUDENT)
async def edit_form(request: web.Request) -> web.Response:
    kind = request.match_info["kind"]
    async with request.app[DB].read() as conn:
        row = await service.structured(conn, require_identity(request).account_id, kind)
    data = row.data if row else schema.empty()
    for section in schema.SECTIONS:  # a fresh form shows one empty row to start from
        if section.repeat and not data.get(section.name):
            data[section.name] = [{f.name: "" for f in section.fields}]
    return _edit_page(request, kind, data)


@allow(Role.STUDENT)
async def edit_submit(request: web.Request) -> web.Response:
    kind = request.match_info["kind"]
    post = await request.post()
    data = schema.from_form({k: v for k, v in post.items() if isinstance(v, str)})
    op = post.get("op", "save")
    if isinstance(op, str) and op != "save":
        return _edit_page(request, kind, schema.apply_op(data, op))
    data = schema.drop_blank_rows(data)
    errors = schema.validate(data)
    if errors:
        return _edit_page(request, kind, data, errors, 400)
    async with request.app[DB].write() as conn:
        await service.save_structured(conn, require_identity(request).account_id, kind, data,
                                      request.app[CLOCK].now())
    raise web.HTTPSeeOther(_resumes_url(request, saved=kind))


@allow(Role.STUDENT)
@aiohttp_jinja2.template("resumes/preview.html")
async def preview(request: web.Request) -> dict[str, Any]:
    kind = request.match_info["kind"]
    async with request.app[DB].read() as conn:
        row = await service.structured(conn, require_identity(request).account_id, kind)
    if row is None:
        raise web.HTTPNotFound()
    return {"resume": {"kind": kind, "title": row.title, "data": row.data},
            "sections": schema.SECTIONS, "as_employer": True}


@allow(Role.STUDENT)
async def upload(request: web.Request) -> web.Response:
    post = await request.post()
    form = Form()
    try:
        data = read_upload(request, post, "file", request.app[SETTINGS].upload_max_bytes)
        if data is None:
            form.error("file", "请选择要上传的简历文件")
        else:
            ext, content_type = sniff_document(data)
    except Invalid as exc:
        form.error("file", str(exc))
    if form.ok:
        field = post["file"]
        try:
            async with request.app[DB].write() as conn:
                await service.add_attachment(
                    conn, request.app[FILES], require_identity(request).account_id,
                    display_name=clean_upload_name(field.filename, ext), content_type=content_type,
                    data=data, now=request.app[CLOCK].now())
        except FormError as exc:
            form.errors.update(exc.errors)
    if not form.ok:
        return await _index_page(request, form, 400)
    raise web.HTTPSeeOther(_resumes_url(request, saved="file"))


@allow(Role.STUDENT)
async def make_default(request: web.Request) -> web.Response:
    async with request.app[DB].write() as conn:
        ok = await service.set_default(conn, require_identity(request).account_id,
                                       int(request.match_info["resume_id"]))
    if not ok:
        raise web.HTTPNotFound()
    raise web.HTTPSeeOther(_resumes_url(request, saved="default"))


@allow(Role.STUDENT)
async def delete(request: web.Request) -> web.Response:
    async with request.app[DB].write() as conn:
        file_id = await service.delete_attachment(conn, require_identity(request).account_id,
                                                  int(request.match_info["resume_id"]))
    if file_id is None:
        raise web.HTTPNotFound()
    request.app[FILES].remove(file_id)
    raise web.HTTPSeeOther(_resumes_url(request, saved="deleted"))
