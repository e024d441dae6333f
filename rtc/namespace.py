"""What the hall's socket.io namespaces share: the app, its clock and grace time, who is
connecting (the session cookie, checked like a page request, and the Origin header: a
socket is not covered by the CSRF middleware), and the one path every event takes
(`trigger_event`): rate and concurrency limits (rtc/guard.py), the login session checked
again, refusals answered in the ack with one log line.

Every socket is in the rooms `user:<account>` and `session:<session hash>`, so that ending
a session or an account's sessions closes its sockets in every process (rtc/sockets.py)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from typing import Any, Awaitable, Callable, TypeVar

import socketio
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from app.auth import sessions
from app.auth.sessions import Identity
from app.middleware import SESSION_COOKIE, allowed_origins
from app.roles import Role
from app.state import ACCOUNT_CACHE, CLOCK, DB, SETTINGS
from app.workflow import TransitionError

from .guard import FLOOD_WINDOW_SECONDS, EventGuard
from app.errorlog import TracebackBudget

log = logging.getLogger(__name__)
T = TypeVar("T")
SESSION_GONE = "登录已失效，请重新登录"
GONE = "连接已断开，请刷新页面"


async def identify(app: web.Application, environ: dict, roles: tuple[Role, ...],
                   refused: str, then: Callable[[AsyncConnection, Identity], Awaitable[T]] | None = None,
                   ) -> tuple[Identity, T | None]:
    """The logged-in identity, or ConnectionRefusedError with a message in Chinese; and
    what `then` reads for it on the same connection (at most one checkout per connect, which a
    burst of thousands of connects pays thousands of times)."""
    request: web.Request = environ["aiohttp.request"]
    if request.headers.get("Origin") not in allowed_origins(request):
        raise socketio.exceptions.ConnectionRefusedError("来源不被允许")
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise socketio.exceptions.ConnectionRefusedError("请先登录")
    now = app[CLOCK].now()
    async with contextlib.AsyncExitStack() as stack:
        opened: list[AsyncConnection] = []

        async def connection() -> AsyncConnection:
            """Opened on first need, then shared: none for a kept session without `then`,
            and none held while the cache reads its generations."""
            if not opened:
                opened.append(await stack.enter_async_context(app[DB].read()))
            return opened[0]

        async def load() -> sessions.Loaded | None:
            return await sessions.load_for_page(await connection(), token, now)
        # as a page view: from the logged-in cache while nothing it depends on was written
        # (each hall page opens its socket, so a student moving between pages reconnects)
        found = await app[ACCOUNT_CACHE].session(token, now, load)
        if found is None:
            raise socketio.exceptions.ConnectionRefusedError("请先登录")
        ident = found.identity
        if ident.role not in roles:
            raise socketio.exceptions.ConnectionRefusedError(refused)
        return ident, (await then(await connection(), ident) if then is not None else None)


async def session_alive(app: web.Application, session_hash: str, account_id: int) -> bool:
    """The login session still exists, has not expired, and its account is active: from the
    logged-in cache while nothing it depends on was written since it was read
    (app/accountcache.py: a logout, a password change or a disabled account is such a write,
    on any process), else one indexed lookup. Every socket checks every few seconds; at
    5,000 in the hall the lookups were a read each, on the way of the calls."""
    now = app[CLOCK].now()

    async def load() -> sessions.Loaded | None:
        async with app[DB].read() as conn:
            return await sessions.load_hashed(conn, session_hash, now)
    return await app[ACCOUNT_CACHE].session_hashed(session_hash, now, load,
                                                   account_id) is not None


class AppNamespace(socketio.AsyncNamespace):
    def __init__(self, namespace: str, app: web.Application) -> None:
        super().__init__(namespace)
        self.app = app
        self.guard = EventGuard.from_settings(app[SETTINGS])
        self._closing: set[asyncio.Task] = set()
        self.errors = TracebackBudget()  # in an outage every event fails alike: once a minute

    async def admit(self, sid: str, ident: Identity, **extra: Any) -> None:
        """A connection passed `identify`: its session data, its rooms, its limits."""
        await self.save_session(sid, {"account_id": ident.account_id, "role": ident.role.value,
                                      "session_hash": ident.session_hash, **extra})
        await self.enter_room(sid, f"user:{ident.account_id}")
        await self.enter_room(sid, f"session:{ident.session_hash}")
        self.guard.opened(sid, ident.account_id, ident.session_hash)

    async def trigger_event(self, event: str, *args: Any) -> Any:
        if event == "connect":
            try:
                return await super().trigger_event(event, *args)
            except BaseException:
                self.guard.closed(args[0])  # refused after admit: no disconnect event follows
                raise
        if event == "disconnect":
            self.guard.closed(args[0])  # events still waiting for their turn are dropped
            return await super().trigger_event(event, *args)
        sid = args[0]
        refused = self.guard.admit(sid)
        if refused is not None:
            if refused.disconnect:
                log.warning("%s: socket %s flooded (%d events refused within %.0f s), disconnected",
                            self.namespace, sid, self.guard.flood_refusals, FLOOD_WINDOW_SECONDS)
                self._disconnect_after_ack(sid)
            return {"ok": False, "error": refused.message}
        try:
            async with self.guard.account_slot(sid):
                if not self.guard.is_open(sid):  # disconnected while this event waited
                    return {"ok": False, "error": GONE}
                if not await self._session_still_alive(sid):
                    log.info("%s: socket %s: its login session ended, disconnected", self.namespace, sid)
                    self._disconnect_after_ack(sid)
                    return {"ok": False, "error": SESSION_GONE}
                return await super().trigger_event(event, *args)
        except TransitionError as exc:
            # a bad payload or a refused act: the client is told; one line, no traceback
            log.info("%s event %s refused: %s", self.namespace, event, exc)
            return {"ok": False, "error": str(exc)}
        except Exception as exc:  # answer every call: a client must never wait for a lost ack
            self.errors.log(log, f"{self.namespace} event {event} failed", exc)
            return {"ok": False, "error": "服务器内部错误，请稍后重试"}
        finally:
            self.guard.done(sid)

    def _disconnect_after_ack(self, sid: str) -> None:
        """Disconnect once this event's answer is on its way: python-socketio queues the ack
        on the socket as soon as trigger_event returns, before a new task first runs, so the
        client reads why before it sees the disconnect."""
        task = asyncio.create_task(self.disconnect(sid), name=f"disconnect-{sid}")
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def who(self, sid: str) -> dict[str, Any]:
        """The socket's session data; a socket disconnected meanwhile is refused, not a
        traceback (an event can outlive its socket while it waits for its account's turn)."""
        try:
            return await self.get_session(sid)
        except KeyError:
            raise TransitionError(GONE) from None

    async def _session_still_alive(self, sid: str) -> bool:
        """A second net behind the disconnect at logout (rtc/sockets.py): at most every
        HALL_SESSION_CHECK_SECONDS per socket, one indexed lookup."""
        conn = self.guard.session_due(sid)
        if conn is None:
            return True
        return await session_alive(self.app, conn.session_hash, conn.account_id)

    @property
    def now(self) -> dt.datetime:
        return self.app[CLOCK].now()

    @property
    def waiter_grace(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.app[SETTINGS].hall_waiter_grace_seconds)
