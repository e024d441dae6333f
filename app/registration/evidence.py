"""Evidence uploads of a registration branch: each file field goes through the one reader of
paper documents (app/bodies.read_document: bounded, judged by content, images re-encoded
without EXIF in the CPU pool)."""

from __future__ import annotations

from typing import Any, Mapping

from aiohttp import web

from ..bodies import read_document
from ..validators import Invalid
from .branches import Branch
from ..files import Upload


async def read(request: web.Request, post: Mapping[str, Any],
               branch: Branch) -> tuple[dict[str, Upload], dict[str, str]]:
    """The branch's uploaded files → (checked uploads by field, messages by field)."""
    uploads: dict[str, Upload] = {}
    errors: dict[str, str] = {}
    for f in branch.evidence:
        try:
            found = await read_document(request, post, f.name)
        except Invalid as exc:
            errors[f.name] = str(exc)
            continue
        if found is not None:
            uploads[f.name] = found
    return uploads, errors
