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
from socketio.async_pubsub_manager import AsyncPubSubManager
import sqlalchemy as sa
from aiohttp import web

from app.clock import china_date
from app.roles import Role
from app.state import DB

from . import monitor, monitor_store
from .monitor_store import Scope
from .namespace import AppNamespace, identify
from app.errorlog import TracebackBudget

log = logging.getLogger(__name__)
FLUSH_DELAY_SECONDS = 0.25   # changes within this window go out as one update per booth
# Only alerts that come from the clock alone (a wait growing past its promise, a slot passing
# with nobody in the room) wait for the ticker; a few seconds late is fine for them, and a
# tick over a full hall costs ~0.1 s of CPU (bench/hall_load.py).
TICK_SECONDS = 5.0
ADMIN_ROLES = (Role.SCHOOL_ADMIN, Role.PLATFORM_ADMIN)


class MonitorNamespace(AppNamespace):
    def __init__(self, app: web.Application) -> None:
        super().__init__("/monitor", app)
        self._dirty: set[int] = set()
        self._flush: asyncio.Task | None = None
        self._sent: dict[tuple[str, int], str] = {}  # what each room last got, to skip repeats
        # one publish at a time, so a summary loaded earlier never goes out after a later one
        self._publishing = asyncio.Lock()

    # ---- connection ---------------------------------------------------------------------

    async def on_connect(self, sid: str, environ: dict, auth: Any = None) -> None:
        ident, _ = await identify(self.app, environ, ADMIN_ROLES, "无权查看大厅监控")
        if ident.role == Role.SCHOOL_ADMIN and not ident.school_id:
            raise socketio.exceptions.ConnectionRefusedError("无权查看大厅监控")
        scope = Scope(None if ident.role == Role.PLATFORM_ADMIN else ident.school_id)
        await self.admit(sid, ident, school_id=scope.school_id)
        await self.enter_room(sid, scope.room)

    async def on_refresh(self, sid: str, data: Any = None) -> dict[str, Any]:
        """The page asks on every (re)connect: the whole day in scope, from the database."""
        who = await self.who(sid)
        return {"ok": True, **await self.snapshot(Scope(who["school_id"]))}

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
        # Loop until nothing is marked: a change that arrives while a publish runs is picked
        # up by the next round of this task rather than waiting for another change.
        while self._dirty:
            await asyncio.sleep(FLUSH_DELAY_SECONDS)
            dirty, self._dirty = self._dirty, set()
            try:
                await self.publish(sorted(dirty))
            except Exception:  # the next change or tick tries again
                log.exception("monitor flush failed")

    async def publish(self, session_ids: list[int], *, local_rooms: bool = False) -> int:
        """Send these booths' summaries to the rooms that may see them, skipping a summary
        identical to the room's last one; returns how many went out. local_rooms: only
        rooms with an admin of this process (the ticker; each process ticks for its own)."""
        async with self._publishing:
            watched = self._local_rooms() if local_rooms else self._watched_rooms()
            if watched is not None and not watched:
                return 0  # nobody to send to: nothing to load
            now = self.now
            async with self.app[DB].read() as conn:
                facts = await monitor_store.load_facts(conn, session_ids, now)
            return await self._send(facts, now, watched)

    async def _send(self, facts: dict[int, monitor.BoothFacts], now: dt.datetime,
                    rooms: set[str] | None) -> int:
        sent = 0
        for session_id, f in facts.items():
            for scope in [Scope(None), *(Scope(s) for s in sorted(f.schools))]:
                key = (scope.room, session_id)
                if rooms is not None and scope.room not in rooms:
                    # nobody there to receive it: forget what the room had, so that the
                    # next summary goes out whatever it is
                    self._sent.pop(key, None)
                    continue
                summary = monitor.summarize(f, now, self.waiter_grace, scope.school_id)
                digest = json.dumps(summary, sort_keys=True, ensure_ascii=False)
                if self._sent.get(key) == digest:
                    continue
                self._sent[key] = digest
                await self.emit("booth", summary, room=scope.room)
                sent += 1
        return sent

    def _local_rooms(self) -> set[str]:
        """Monitor rooms with an admin connected to this process."""
        rooms = self.server.manager.rooms.get(self.namespace, {})
        return {name for name, members in rooms.items()
                if name and name.startswith("monitor:") and members}

    def _watched_rooms(self) -> set[str] | None:
        """The rooms anyone watches, when this process can know (one process); None with a
        Redis manager, where admins of other processes are not visible from here."""
        if isinstance(self.server.manager, AsyncPubSubManager):
            return None
        return self._local_rooms()

    async def tick(self) -> int:
        if not self._local_rooms():
            return 0
        async with self.app[DB].read() as conn:
            ids = await monitor_store.sessions_of_day(conn, china_date(self.now), Scope(None))
        today = set(ids)
        self._sent = {k: v for k, v in self._sent.items() if k[1] in today}  # yesterday's go
        return await self.publish(ids, local_rooms=True)

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
    errors = TracebackBudget()  # an outage fails every pass alike: told once a minute

    async def loop() -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                await feed.tick()
            except Exception as exc:  # the ticker must outlive a database hiccup
                errors.log(log, "monitor tick failed", exc)
    task = asyncio.create_task(loop(), name="monitor-ticker")
    yield
    for running in (task, feed._flush):
        if running is not None:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
