"""The printed 推荐表: its template on app/documents.py's one rendering path."""

from __future__ import annotations

from typing import Any

import jinja2

from ...documents import photo_data_uri, qr_data_uri  # noqa: F401 (the views use them from here)
from ...documents import render_pdf as _render

SHEET = "reviews/recommendation_sheet.html"


def render_pdf(env: jinja2.Environment, context: dict[str, Any]) -> bytes:
    return _render(env, SHEET, context)
