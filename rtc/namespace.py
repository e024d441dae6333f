"""What the hall's socket.io namespaces share: the app, its clock and grace time, and who
is connecting (the session cookie, checked like a page request, and the Origin header: a
socket is not covered by the CSRF middleware)."""

from __future__ import annotations

import datetime as dt

import socketio
from aiohttp import web

from app.auth import sessions
from app.auth.sessions import Identity
from app.middleware import SESSION_COOKIE, allowed_origins
from app.roles import Role
from app.state import CLOCK, DB, SETTINGS


async def identify(app: web.Application, environ: dict, roles: tuple[Role, ...],
                   refused: str) -> Identity:
    """The logged-in identity, or ConnectionRefusedError with a message in Chinese."""
    request: web.Request = environ["aiohttp.request"]
    if request.headers.get("Origin") not in allowed_origins(request):
        raise socketio.exceptions.ConnectionRefusedError("来源不被允许")
    token = request.cookies.get(SESSION_COOKIE)
    found = None
    if token:
        async with app[DB].read() as conn:
            found = await sessions.load(conn, token, app[CLOCK].now())
    if found is None:
        raise socketio.exceptions.ConnectionRefusedError("请先登录")
    ident, _ = found
    if ident.role not in roles:
        raise socketio.exceptions.ConnectionRefusedError(refused)
    return ident


class AppNamespace(socketio.AsyncNamespace):
    def __init__(self, namespace: str, app: web.Application) -> None:
        super().__init__(namespace)
        self.app = app

    @property
    def now(self) -> dt.datetime:
        return self.app[CLOCK].now()

    @property
    def waiter_grace(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.app[SETTINGS].hall_waiter_grace_seconds)
