"""Logging: plain lines, or with LOG_FORMAT=json one JSON object per line, every line
written while a request is handled carrying that request's id.

The id comes from X-Request-ID when the request came through one of TRUSTED_PROXIES (nginx
made it, and its own log has it), else it is made here; the response carries it back, so a
user's report of a failure can be found in the log. The access log (one line per request:
method, path, status, duration) is aiohttp's, given a JSON form by JsonAccessLogger.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import secrets
import sys
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from .config import Settings
from .proxy import TRUSTED, address_in

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID = web.RequestKey("request_id", str)
_current_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
# A proxy's id is believed only in a plain form: it is written into every log line.
_ID_FORM = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_ACCESS_FIELDS = ("method", "path", "status", "duration_ms")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc)
                      .isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or _current_id.get()
        if request_id:
            entry["request_id"] = request_id
        for name in _ACCESS_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(settings: Settings) -> None:
    if settings.log_format != "json":
        logging.basicConfig(level=settings.log_level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if type(h) is logging.StreamHandler]:
        root.removeHandler(old)  # a plain-text handler from an earlier set-up
    root.addHandler(handler)
    root.setLevel(settings.log_level)


def request_id_for(request: web.Request) -> str:
    """The proxy's id when the peer is a trusted proxy and the id is plain; else a new one.
    Runs before forwarded_middleware, so request.remote is still the connection's peer."""
    sent = request.headers.get(REQUEST_ID_HEADER, "")
    if sent and _ID_FORM.fullmatch(sent) and address_in(request.remote, request.app[TRUSTED]):
        return sent
    return secrets.token_hex(16)


@web.middleware
async def request_id_middleware(request: web.Request, handler):  # noqa: ANN001
    # Not reset on the way out: aiohttp logs a handler's unhandled error after the
    # middlewares have returned, in the same task, and that line needs the id most.
    # Each request sets its own before anything of it is logged.
    request[REQUEST_ID] = request_id_for(request)
    _current_id.set(request[REQUEST_ID])
    return await handler(request)


async def send_request_id(request: web.Request, response: web.StreamResponse) -> None:
    if REQUEST_ID in request:
        response.headers[REQUEST_ID_HEADER] = request[REQUEST_ID]


class JsonAccessLogger(AbstractAccessLogger):
    """aiohttp's access log line as fields of the JSON line, with the request's id."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s", request.method, request.path, response.status,
            extra={"request_id": request.get(REQUEST_ID), "method": request.method,
                   "path": request.path, "status": response.status,
                   "duration_ms": round(time * 1000, 2)})

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


def access_log_options(settings: Settings) -> dict[str, Any]:
    """run_app's keywords for the access log in the chosen format."""
    return {"access_log_class": JsonAccessLogger} if settings.log_format == "json" else {}
