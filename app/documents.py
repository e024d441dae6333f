"""Printed documents (推荐表, 就业协议书): one Jinja template per document serves the screen
page, the PDF (WeasyPrint, the OS's Noto CJK font embedded) and the PNG of 【查看原图】
(pypdfium2 renders every page of the PDF, one under the other), with a QR code (segno) of
the verification URL.

A paper is known by its HTML: `paper_pdf` and `paper_png` render the template on the loop
(the same few milliseconds as the screen page) and hand the rest to app/rendercache.py, which
keeps rendered papers by the HTML's digest, renders each paper once however many ask for it,
and refuses a user who already waits for RENDERS_PER_USER papers (RenderRefused). The
WeasyPrint and pypdfium2 work runs in the CpuPool under its DOCUMENTS share, never on the loop
and never on the pool's last thread (a login always finds one).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import threading
from pathlib import Path
from typing import Any, Hashable

import jinja2
from aiohttp import web

from .offload import CpuPool
from .rendercache import PAPERS, RenderRefused  # noqa: F401 (RenderRefused: for the views)

ROOT = Path(__file__).resolve().parents[1]
PRINT_CSS = ROOT / "static" / "css" / "print.css"
PNG_SCALE = 2.0   # 144 dpi: the stamped-paper look stays readable when zoomed on a phone
DOCUMENTS = "documents"  # the CpuPool share of rendering: all threads but one

# One WeasyPrint FontConfiguration per pool thread, kept for the thread's life. WeasyPrint
# makes a new one for every document unless given one, and each holds a Pango font map that
# mmaps the Noto CJK files (Regular and Bold) again. The document's styles hold it in
# reference cycles (ComputedStyle ↔ parent_style, LayoutContext ↔ StyleFor), so it is freed
# only by the cycle collector, which a serving process runs over old objects every few
# minutes (app/gcpacing.py): 0.6 to 1.3 mappings more per render, towards the kernel's
# 65,530. Per thread, not one shared: a Pango font map is not safe to use from two threads
# at once, and a lock would serialise the renders.
_fonts = threading.local()


def _font_config() -> Any:
    config = getattr(_fonts, "config", None)
    if config is None:
        from weasyprint.text.fonts import FontConfiguration
        config = _fonts.config = FontConfiguration()
    return config


@functools.lru_cache(maxsize=1024)
def qr_data_uri(url: str) -> str:
    """PNG, not SVG: the same image works in browsers and in WeasyPrint, and decodes back.
    Kept by URL (a few KB each): a paper's page asks for its QR code at every view, and
    drawing one costs about 4 ms of the event loop."""
    import segno  # loaded by the first document, not by every process at start (10 MB)
    return segno.make(url, error="m").png_data_uri(scale=6, border=2)


def photo_data_uri(jpeg: bytes | None) -> str | None:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode() if jpeg else None


def sheet_html(env: jinja2.Environment, template: str, context: dict[str, Any]) -> str:
    """The HTML WeasyPrint lays out: everything the paper shows, images included."""
    return env.get_template(template).render({**context, "for_pdf": True})


def html_to_pdf(html: str) -> bytes:
    """Blocking (WeasyPrint lays out the page)."""
    from weasyprint import CSS, HTML  # slow to import; only PDFs need it

    fonts = _font_config()
    return HTML(string=html, base_url=str(ROOT)).write_pdf(
        stylesheets=[CSS(filename=str(PRINT_CSS), font_config=fonts)], font_config=fonts)


def render_pdf(env: jinja2.Environment, template: str, context: dict[str, Any]) -> bytes:
    """Blocking: the template's PDF, uncached (app code goes through `paper_pdf`)."""
    return html_to_pdf(sheet_html(env, template, context))


PAGE_GAP = 24  # pixels of grey between two pages of the tall image


def pdf_to_png(pdf: bytes, scale: float = PNG_SCALE) -> bytes:
    """Every page, one under the other, as one tall PNG (【查看原图】: the 就业协议书 has two
    pages, the second with 档案及户口, 备注 and the signatures). Blocking. Pages and bitmaps are
    closed here rather than left to finalizers, so pdfium's bitmaps go back at once."""
    import pypdfium2
    from PIL import Image

    doc = pypdfium2.PdfDocument(pdf)
    try:
        images = []
        for index in range(len(doc)):
            page = doc[index]
            try:
                bitmap = page.render(scale=scale)
                try:
                    images.append(bitmap.to_pil().convert("RGB"))
                finally:
                    bitmap.close()
            finally:
                page.close()
    finally:
        doc.close()
    width = max(im.width for im in images)
    height = sum(im.height for im in images) + PAGE_GAP * (len(images) - 1)
    sheet = Image.new("RGB", (width, height), (200, 200, 200))
    top = 0
    for im in images:
        sheet.paste(im, ((width - im.width) // 2, top))
        top += im.height + PAGE_GAP
    out = io.BytesIO()
    sheet.save(out, format="PNG", optimize=True)
    return out.getvalue()


REFUSED = "文档正在生成，请稍候再试。"


def refused() -> web.Response:
    """The answer to RenderRefused: the user already waits for their papers; nothing queued."""
    return web.Response(status=429, text=REFUSED, headers={"Retry-After": "3"})


def _digest(html: str) -> str:
    return hashlib.sha256(html.encode()).hexdigest()


async def _pdf(pool: CpuPool, html: str, digest: str, owner: Hashable | None) -> bytes:
    async def make() -> bytes:
        async with pool.share(DOCUMENTS):
            return await pool.run(html_to_pdf, html)
    return await PAPERS.get(("pdf", digest), make, owner=owner)


async def paper_pdf(pool: CpuPool, owner: Hashable, env: jinja2.Environment, template: str,
                    context: dict[str, Any]) -> bytes:
    """The template's PDF, from the cache or rendered once. RenderRefused: `owner` already
    waits for its share of papers."""
    html = sheet_html(env, template, context)
    return await _pdf(pool, html, _digest(html), owner)


async def paper_png(pool: CpuPool, owner: Hashable, env: jinja2.Environment, template: str,
                    context: dict[str, Any], scale: float = PNG_SCALE) -> bytes:
    """The PDF's pages as one tall PNG, each from the cache or rendered once. RenderRefused as
    `paper_pdf`; the PDF it needs is part of the same turn."""
    html = sheet_html(env, template, context)
    digest = _digest(html)

    async def make() -> bytes:
        pdf = await _pdf(pool, html, digest, None)
        async with pool.share(DOCUMENTS):
            return await pool.run(pdf_to_png, pdf, scale)
    return await PAPERS.get(("png", digest, scale), make, owner=owner)
