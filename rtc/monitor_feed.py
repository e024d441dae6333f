"""The /monitor socket.io namespace: school and platform admins watch the day's booths live.

State comes from the database, never from this process's memory: a connecting admin asks for a
snapshot built from rows, and every change the hall makes marks its booth dirty; a short
flush (coalescing bursts such as a hundred joins in a second) reloads the dirty booths and
emits their summaries to the admins' rooms. A ticker recomputes the whole day every few
seconds for alerts that come from the clock alone (a wait growing past its promise). With
several processes the Redis manager carries the emits to every process's admins.

Rooms: monitor:all (platform admins), monitor:school:<id> (that school's admins).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from typing import Any, AsyncIterator

import socketio
import sqlalchemy as sa
from aiohttp import web

from app.clock import china_date
from app.roles import Role
from app.state import CLOCK, DB, SETTINGS

from . import monitor, monitor_store
from .monitor_store import Scope
from .socket_auth import identify

log = logging.getLogger(__name__)
FLUSH_DELAY_SECONDS = 0.25   # changes within this window go out as one update per booth
TICK_SECONDS = 2.0
ADMIN_ROLES = (Role.SCHOOL_ADMIN, Role.PLATFORM_ADMIN)


class MonitorNamespace(socketio.AsyncNamespace):
    def __init__(self, app: web.Application) -> None:
        super().__init__("/monitor")
        self.app = app
        self._dirty: set[int] = set()
        self._flush: asyncio.Task | None = None
        self._sent: dict[tuple[str, int], str] = {}  # what each room last got, to skip repeats

    @property
    def now(self) -> dt.datetime:
        return self.app[CLOCK].now()

    @property
    def waiter_grace(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.app[SETTINGS].hall_waiter_grace_seconds)

    # ---- connection ---------------------------------------------------------------------

    async def on_connect(self, sid: str, environ: dict, auth: Any = None) -> None:
        ident = await identify(self.app, environ, ADMIN_ROLES, "无权查看大厅监控")
        if ident.role == Role.SCHOOL_ADMIN and not ident.school_id:
            raise socketio.exceptions.ConnectionRefusedError("无权查看大厅监控")
        scope = Scope(None if ident.role == Role.PLATFORM_ADMIN else ident.school_id)
        await self.save_session(sid, {"account_id": ident.account_id, "school_id": scope.school_id})
        await self.enter_room(sid, scope.room)

    async def on_refresh(self, sid: str, data: Any = None) -> dict[str, Any]:
        """The page asks on every (re)connect: the whole day in scope, from the database."""
        who = await self.get_session(sid)
        return await self.snapshot(Scope(who["school_id"]))

    async def snapshot(self, scope: Scope) -> dict[str, Any]:
        now = self.now
        async with self.app[DB].read() as conn:
            ids = await monitor_store.sessions_of_day(conn, china_date(now), scope)
            facts = await monitor_store.load_facts(conn, ids, now)
            posted = await monitor_store.notices_of_day(conn, scope, now)
        return {"now": now.isoformat(), "day": china_date(now).isoformat(),
                "booths": [monitor.summarize(facts[i], now, self.waiter_grace, scope.school_id)
                           for i in ids if i in facts],
                "notices": posted}

    # ---- changes --------------------------------------------------------------------------

    def changed(self, session_id: int) -> None:
        """The hall changed this booth: its summary goes out within FLUSH_DELAY_SECONDS."""
        self._dirty.add(session_id)
        if self._flush is None or self._flush.done():
            self._flush = asyncio.create_task(self._flush_later(), name="monitor-flush")

    async def _flush_later(self) -> None:
        await asyncio.sleep(FLUSH_DELAY_SECONDS)
        dirty, self._dirty = self._dirty, set()
        try:
            await self.publish(sorted(dirty))
        except Exception:  # the next change or tick tries again
            log.exception("monitor flush failed")

    async def publish(self, session_ids: list[int], *, only_changed: bool = True) -> int:
        """Send these booths' summaries to every room that may see them; returns how many
        summaries went out."""
        now = self.now
        async with self.app[DB].read() as conn:
            facts = await monitor_store.load_facts(conn, session_ids, now)
        sent = 0
        for session_id, f in facts.items():
            for scope in [Scope(None), *(Scope(s) for s in sorted(f.schools))]:
                summary = monitor.summarize(f, now, self.waiter_grace, scope.school_id)
                digest = json.dumps(summary, sort_keys=True, ensure_ascii=False)
                key = (scope.room, session_id)
                if only_changed and self._sent.get(key) == digest:
                    continue
                self._sent[key] = digest
                await self.emit("booth", summary, room=scope.room)
                sent += 1
        return sent

    def watched(self) -> bool:
        """Whether an admin of this process watches (the ticker works only then)."""
        rooms = self.server.manager.rooms.get(self.namespace, {})
        return any(name and name.startswith("monitor:") and members for name, members in rooms.items())

    async def tick(self) -> int:
        if not self.watched():
            return 0
        async with self.app[DB].read() as conn:
            ids = await monitor_store.sessions_of_day(conn, china_date(self.now), Scope(None))
        today = set(ids)
        self._sent = {k: v for k, v in self._sent.items() if k[1] in today}  # yesterday's go
        return await self.publish(ids)

    async def quality(self, ticket: sa.Row, side: str, row: sa.Row) -> None:
        """One side's new call figures, straight to the rooms that may see that student."""
        payload = {"session_id": ticket.session_id, "ticket_id": ticket.id, "side": side,
                   **monitor.quality_view(row)}
        await self.emit("quality", payload, room=Scope(None).room)
        if ticket.school_id is not None:
            await self.emit("quality", payload, room=Scope(ticket.school_id).room)

    async def notice_posted(self, scope: Scope, notice: dict[str, Any]) -> None:
        await self.emit("notice", notice, room=scope.room)
        if scope.school_id is not None:
            await self.emit("notice", notice, room=Scope(None).room)


async def monitor_ticker(app: web.Application, feed: MonitorNamespace) -> AsyncIterator[None]:
    async def loop() -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                await feed.tick()
            except Exception:  # the ticker must outlive a database hiccup
                log.exception("monitor tick failed")
    task = asyncio.create_task(loop(), name="monitor-ticker")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    if feed._flush is not None:
        feed._flush.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await feed._flush
