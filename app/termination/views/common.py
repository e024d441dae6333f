"""What the 解约中心 pages share: reading one uploaded document (checked by content in the
CPU pool, never on the event loop)."""

from __future__ import annotations

from typing import Any, Mapping

from aiohttp import web

from ...state import CPU, SETTINGS
from ...uploads import clean_evidence
from ...validators import Invalid
from ..service import Upload

ACCEPT = "image/jpeg,image/png,application/pdf"


async def read_upload(request: web.Request, post: Mapping[str, Any],
                      name: str) -> tuple[Upload | None, str | None]:
    """The file posted as `name` → (checked upload or None, message for the field or None)."""
    part = post.get(name)
    if not isinstance(part, web.FileField) or not part.filename:
        return None, None
    limit = request.app[SETTINGS].upload_max_bytes
    data = part.file.read(limit + 1)
    if len(data) > limit:
        return None, f"文件不能超过{limit // (1024 * 1024)}MB"
    try:
        return Upload(*await request.app[CPU].run(clean_evidence, data, part.filename)), None
    except Invalid as exc:
        return None, str(exc)
