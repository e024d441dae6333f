"""The printed 推荐表: one Jinja template for the print page and the PDF (WeasyPrint, the
OS's Noto CJK font embedded), with a QR code (segno) of the public verification URL."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import jinja2
import segno

ROOT = Path(__file__).resolve().parents[2]
SHEET = "reviews/recommendation_sheet.html"
PRINT_CSS = ROOT / "static" / "css" / "print.css"


def qr_data_uri(url: str) -> str:
    # PNG, not SVG: the same image works in browsers and in WeasyPrint, and decodes back.
    return segno.make(url, error="m").png_data_uri(scale=6, border=2)


def photo_data_uri(jpeg: bytes | None) -> str | None:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode() if jpeg else None


def render_pdf(env: jinja2.Environment, context: dict[str, Any]) -> bytes:
    """Blocking (WeasyPrint lays out the page): call it in a thread."""
    from weasyprint import CSS, HTML  # slow to import; only PDFs need it

    html = env.get_template(SHEET).render({**context, "for_pdf": True})
    return HTML(string=html, base_url=str(ROOT)).write_pdf(
        stylesheets=[CSS(filename=str(PRINT_CSS))])
