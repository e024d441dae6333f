"""What the 解约中心 pages share: reading one uploaded document (checked by content in the
CPU pool, never on the event loop)."""

from __future__ import annotations

from typing import Any, Mapping

from aiohttp import web

from ...bodies import read_document
from ...validators import Invalid
from ...files import Upload

ACCEPT = "image/jpeg,image/png,application/pdf"


async def read_upload(request: web.Request, post: Mapping[str, Any],
                      name: str) -> tuple[Upload | None, str | None]:
    """The file posted as `name` → (checked upload or None, message for the field or None)."""
    try:
        found = await read_document(request, post, name)
    except Invalid as exc:
        return None, str(exc)
    return found, None
