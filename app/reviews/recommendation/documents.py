"""The printed 推荐表: its template on app/documents.py's one rendering path (cached by what
the paper shows, limited per user and in the CPU pool)."""

from __future__ import annotations

from typing import Any, Hashable

import jinja2

from ...documents import RenderRefused, refused  # noqa: F401 (the views use them from here)
from ...documents import paper_pdf, photo_data_uri, qr_data_uri  # noqa: F401 (likewise)
from ...offload import CpuPool

SHEET = "reviews/recommendation_sheet.html"


async def pdf(pool: CpuPool, owner: Hashable, env: jinja2.Environment,
              context: dict[str, Any]) -> bytes:
    """RenderRefused: `owner` already waits for their papers."""
    return await paper_pdf(pool, owner, env, SHEET, context)
