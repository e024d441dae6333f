"""The agreement as a PDF and as an image (【查看原图】), and the uploaded stamped copies:
for everyone who may see the agreement (its student, its employer, its reviewers)."""

from __future__ import annotations

import aiohttp_jinja2
import sqlalchemy as sa
from aiohttp import web

from ... import documents, files
from ...middleware import require_identity
from ...roles import Role, allow
from ...state import CPU, DB, FILES
from .. import service
from .common import int_param, sheet_context

SHEET = "signing/agreement_sheet.html"
EVERYONE = tuple(Role)


async def _paper(request: web.Request, render) -> tuple[sa.Row, bytes]:  # noqa: ANN001
    """The agreement's paper through `render` (documents.paper_pdf or paper_png): cached by
    what it shows, so the same agreement in the same state is rendered once."""
    async with request.app[DB].read() as conn:
        row = await service.item(conn, require_identity(request), int_param(request, "agreement_id"))
    if row is None or not row.number:
        raise web.HTTPNotFound()
    context = sheet_context(request, row)
    body = await render(request.app[CPU], require_identity(request).account_id,
                        aiohttp_jinja2.get_env(request.app), SHEET, context)
    return row, body


def _headers(kind: str, name: str) -> dict[str, str]:
    return {"Content-Disposition": f'{kind}; filename="{name}"', "Cache-Control": "private, no-store"}


@allow(*EVERYONE)
async def pdf(request: web.Request) -> web.Response:
    try:
        row, body = await _paper(request, documents.paper_pdf)
    except documents.RenderRefused:
        return documents.refused()
    return web.Response(body=body, content_type="application/pdf",
                        headers=_headers("attachment", f"agreement-{row.number}.pdf"))


@allow(*EVERYONE)
async def image(request: web.Request) -> web.Response:
    """【查看原图】: the PDF's page as a PNG, to look at, save and print."""
    try:
        row, png = await _paper(request, documents.paper_png)
    except documents.RenderRefused:
        return documents.refused()
    return web.Response(body=png, content_type="image/png",
                        headers=_headers("inline", f"agreement-{row.number}.png"))


@allow(*EVERYONE)
async def scan(request: web.Request) -> web.Response:
    """One uploaded page of the stamped agreement, only through the agreement's own scope."""
    file_id = request.match_info["file_id"]
    async with request.app[DB].read() as conn:
        row = await service.item(conn, require_identity(request), int_param(request, "agreement_id"))
        found = await files.get(conn, file_id) if row is not None and file_id in (row.scans or []) else None
    if found is None:
        raise web.HTTPNotFound()
    return files.response(request.app[FILES], found)


