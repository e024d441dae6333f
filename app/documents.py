"""Printed documents (推荐表, 就业协议书): one Jinja template per document serves the screen
page, the PDF (WeasyPrint, the OS's Noto CJK font embedded) and the PNG of 【查看原图】
(pypdfium2 renders the PDF's first page), with a QR code (segno) of the verification URL.

Rendering is CPU work: call render_pdf and pdf_to_png through the CpuPool, never on the loop.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import jinja2

ROOT = Path(__file__).resolve().parents[1]
PRINT_CSS = ROOT / "static" / "css" / "print.css"
PNG_SCALE = 2.0   # 144 dpi: the stamped-paper look stays readable when zoomed on a phone


def qr_data_uri(url: str) -> str:
    # PNG, not SVG: the same image works in browsers and in WeasyPrint, and decodes back.
    import segno  # loaded by the first document, not by every process at start (10 MB)
    return segno.make(url, error="m").png_data_uri(scale=6, border=2)


def photo_data_uri(jpeg: bytes | None) -> str | None:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode() if jpeg else None


def render_pdf(env: jinja2.Environment, template: str, context: dict[str, Any]) -> bytes:
    """Blocking (WeasyPrint lays out the page)."""
    from weasyprint import CSS, HTML  # slow to import; only PDFs need it

    html = env.get_template(template).render({**context, "for_pdf": True})
    return HTML(string=html, base_url=str(ROOT)).write_pdf(
        stylesheets=[CSS(filename=str(PRINT_CSS))])


def pdf_to_png(pdf: bytes, scale: float = PNG_SCALE) -> bytes:
    """The first page as a PNG image. Blocking."""
    import pypdfium2

    doc = pypdfium2.PdfDocument(pdf)
    try:
        page = doc[0]
        bitmap = page.render(scale=scale)
        out = io.BytesIO()
        bitmap.to_pil().save(out, format="PNG", optimize=True)
        return out.getvalue()
    finally:
        doc.close()
