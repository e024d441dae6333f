"""Evidence uploads of a registration branch, checked by content with the upload module's own
checks: a JPG/PNG image is re-encoded (EXIF dropped), a PDF is accepted by its bytes. The
decoding runs in the CPU pool, never on the event loop."""

from __future__ import annotations

from typing import Any, Mapping

from aiohttp import web

from ..offload import CpuPool
from ..uploads import clean_evidence
from ..validators import Invalid
from .branches import Branch
from .service import Upload

def _check(data: bytes, filename: str) -> Upload:
    return Upload(*clean_evidence(data, filename))


async def read(post: Mapping[str, Any], branch: Branch, cpu: CpuPool,
               max_bytes: int) -> tuple[dict[str, Upload], dict[str, str]]:
    """The branch's uploaded files → (checked uploads by field, messages by field)."""
    uploads: dict[str, Upload] = {}
    errors: dict[str, str] = {}
    for f in branch.evidence:
        part = post.get(f.name)
        if not isinstance(part, web.FileField) or not part.filename:
            continue
        data = part.file.read(max_bytes + 1)
        if len(data) > max_bytes:
            errors[f.name] = f"{f.label}不能超过{max_bytes // (1024 * 1024)}MB"
            continue
        try:
            uploads[f.name] = await cpu.run(_check, data, part.filename)
        except Invalid as exc:
            errors[f.name] = str(exc)
    return uploads, errors
