"""Multipart bodies read with bounds, so that an oversized upload gets its form back.

aiohttp's own `request.post()` raises HTTPRequestEntityTooLarge the moment the body passes
`client_max_size`: the user loses everything typed and sees an English line of text. Here
each file part streams into a temporary file (memory up to SPOOL_BYTES, then disk) and
only its first UPLOAD_MAX_BYTES + 1 bytes are kept; the rest of an oversized part is read
and dropped, so the text fields after it still arrive. The handler then finds a file one
byte over the limit (`read_upload` sees that without reading it), puts the message
next to the field and re-shows the form with what the user typed, and this middleware turns
that page's 400 into a 413.

What is stored is bounded (MAX_FILE_PARTS × (UPLOAD_MAX_BYTES + 1) on disk, TEXT_BYTES of
text in memory); what is read is bounded by DRAIN_FACTOR × client_max_size, beyond which
reading stops and the 413 error page (app/web.py) answers instead of the form.
"""

from __future__ import annotations

import asyncio
import io
from tempfile import SpooledTemporaryFile
from typing import Any, Mapping

from aiohttp import BodyPartReader, hdrs, web
from multidict import MultiDict, MultiDictProxy

from . import files
from .images import ImageLimits, document_or_pdf
from .state import CPU, SETTINGS
from .validators import Invalid

# Set when an upload was refused for its size: the re-shown form then answers 413.
TOO_LARGE = web.RequestKey("upload_too_large", bool)

SPOOL_BYTES = 1024 * 1024
# Asked per read; a read returns what is buffered, up to this, so asking more costs no
# memory. The request stream stops reading the socket past its high-water mark (512 KB with
# aiohttp's defaults), so it holds under 1 MB; asking 2 MB, a read never brings more than
# asked, and aiohttp's multipart reader never takes the path that calls its deprecated
# unread_data() (which aiohttp's own 256 KB reads do hit under load).
CHUNK_BYTES = 2 * 1024 * 1024
TEXT_BYTES = 1024 * 1024       # all text fields of one form together
MAX_FILE_PARTS = 4             # the most a form takes: 4 photos of a stamped 就业协议书
MAX_FIELDS = 1000
DRAIN_FACTOR = 2


def _too_large(request: web.Request) -> web.HTTPRequestEntityTooLarge:
    return web.HTTPRequestEntityTooLarge(max_size=request.client_max_size,
                                         actual_size=request.content.total_bytes)


async def _file_part(request: web.Request, part: BodyPartReader, keep: int,
                     drain_limit: int) -> SpooledTemporaryFile:
    loop = asyncio.get_running_loop()
    tmp = SpooledTemporaryFile(SPOOL_BYTES)
    kept = 0
    try:
        while chunk := await part.read_chunk(CHUNK_BYTES):
            if request.content.total_bytes > drain_limit:
                raise _too_large(request)
            async for data in part.decode_iter(chunk):
                room = keep - kept
                if room <= 0:
                    continue          # over the limit: read and dropped
                piece = bytes(data[:room])
                kept += len(piece)
                if kept > SPOOL_BYTES:   # on disk by now: keep the loop free of the write
                    await loop.run_in_executor(None, tmp.write, piece)
                else:
                    tmp.write(piece)
    except BaseException:
        tmp.close()
        raise
    if kept >= keep:
        request[TOO_LARGE] = True
    tmp.seek(0)
    return tmp


async def _text_part(request: web.Request, part: BodyPartReader, budget: int) -> tuple[str | bytes, int]:
    raw = bytearray()
    while chunk := await part.read_chunk(CHUNK_BYTES):
        raw.extend(chunk)
        if len(raw) > budget:
            raise _too_large(request)
    value = bytearray()
    async for data in part.decode_iter(raw):
        value.extend(data)
    content_type = part.headers.get(hdrs.CONTENT_TYPE)
    if content_type is None or content_type.startswith("text/"):
        return value.decode(part.get_charset(default="utf-8")), len(raw)
    return bytes(value), len(raw)


async def read_multipart(request: web.Request, file_limit: int) -> MultiDictProxy:
    out: MultiDict = MultiDict()
    reader = await request.multipart()
    drain_limit = DRAIN_FACTOR * request.client_max_size
    files = text = 0
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name is None or len(out) >= MAX_FIELDS:
            raise web.HTTPBadRequest(text="表单格式不正确")
        if part.filename:
            files += 1
            if files > MAX_FILE_PARTS:
                raise _too_large(request)
            tmp = await _file_part(request, part, file_limit + 1, drain_limit)
            out.add(part.name, web.FileField(
                part.name, part.filename, tmp,
                part.headers.get(hdrs.CONTENT_TYPE, "application/octet-stream"), part.headers))
        else:
            value, size = await _text_part(request, part, TEXT_BYTES - text)
            text += size
            out.add(part.name, value)
    return MultiDictProxy(out)


def read_upload(request: web.Request, post: Mapping[str, Any], name: str, limit: int,
                noun: str = "文件") -> bytes | None:
    """The bytes of the file field `name` (None: no file chosen).

    `read_multipart` (below) has already streamed the part to a temporary file and
    kept at most UPLOAD_MAX_BYTES + 1 of it, so the size is known without reading it all.
    Over `limit`: Invalid with the message for the field, and the page answers 413.
    """
    field = post.get(name)
    if not isinstance(field, web.FileField) or not field.filename:
        return None
    # the parser kept only UPLOAD_MAX_BYTES + 1: a field allowed more still stops there
    limit = min(limit, request.app[SETTINGS].upload_max_bytes)
    size = field.file.seek(0, io.SEEK_END)
    field.file.seek(0)
    if size > limit:
        request[TOO_LARGE] = True
        raise Invalid(f"{noun}不能超过{limit / (1024 * 1024):g}MB")
    return field.file.read()


@web.middleware
async def bounded_bodies(request: web.Request, handler):  # noqa: ANN001
    if request.method == "POST" and request.content_type == "multipart/form-data":
        # request.post() answers from _post once set: every handler (and the CSRF check)
        # gets the bounded parse without knowing about it.
        request._post = await read_multipart(request, request.app[SETTINGS].upload_max_bytes)
    try:
        response = await handler(request)
    finally:
        for value in (request._post or {}).values():
            if isinstance(value, web.FileField):
                value.file.close()     # the temporary file goes now, not at garbage collection
    if request.get(TOO_LARGE) and response.status == 400:
        response.set_status(413)
    return response


async def read_document(request: web.Request, post: Mapping[str, Any],
                        name: str) -> files.Upload | None:
    """A photographed or scanned paper document posted as `name` (a stamped 就业协议书, a
    解约函, an 入伍通知书 …): bounded like every upload, then judged by content in the CPU
    pool (images.document_or_pdf). None: no file.
    Raises Invalid with the message for the field."""
    data = read_upload(request, post, name, request.app[SETTINGS].upload_max_bytes)
    if data is None:
        return None
    if not data:
        raise Invalid("文件是空的，请重新选择")
    return files.Upload(*await request.app[CPU].run(document_or_pdf, data, post[name].filename,
                                                    ImageLimits.of(request.app[SETTINGS])))
