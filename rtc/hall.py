"""The /hall socket.io namespace: queue places, calls, and the WebRTC signaling relay.

Auth happens in `connect` with the session cookie and the Origin header. Every event
payload is validated and every act is checked against the caller's own tickets or booth.
Signaling messages are relayed only between the two members of a call and never stored.
Rooms: user:<account>, session:<login session hash> (rtc/namespace.py), booth:<session>,
call:<ticket>. Limits on every event: rtc/guard.py, applied in AppNamespace.trigger_event.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import uuid
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from app.auth.sessions import Identity
from app.workflow import NotAllowed
from app.roles import Role
from app.school_settings import service as school_settings
from app.state import DB, SETTINGS

from . import monitor, monitor_store, tickets
from .coalesce import Coalescer, Delivery
from .namespace import AppNamespace, identify

if TYPE_CHECKING:
    from .monitor_feed import MonitorNamespace

log = logging.getLogger(__name__)
MAX_SIGNAL_BYTES = 64 * 1024
MAX_ID = 2**31 - 1  # ids are 32-bit integer columns: a larger one is malformed, not a DB error


def _int(data: Any, key: str) -> int:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_ID:
        raise NotAllowed("请求格式不正确")
    return value


def _page_booth(auth: Any) -> int | None:
    """The booth a student's hall page is for, as the page says on connecting (None: a
    page that says none, which then resumes any running call, as before)."""
    try:
        return _int(auth, "session_id")
    except NotAllowed:
        return None


def _probe(data: Any) -> dict[str, Any] | None:
    """The device check's summary a student sends along when queueing (kept with the ticket)."""
    probe = data.get("probe") if isinstance(data, dict) else None
    if probe is None:
        return None
    if not isinstance(probe, dict) or len(str(probe)) > 2000:
        raise NotAllowed("检测结果格式不正确")
    return probe


async def _open_tickets_of_student(conn: AsyncConnection, ident: Identity) -> list[Any]:
    return await tickets.open_tickets_of(conn, ident.account_id) if ident.role == Role.STUDENT else []


class HallNamespace(AppNamespace):
    def __init__(self, app: web.Application) -> None:
        super().__init__("/hall", app)
        self.monitor: MonitorNamespace | None = None  # told of every booth change (rtc/setup.py)
        self.watching: dict[str, int] = {}  # this process's employer sockets → their booth
        self.students: dict[str, int] = {}  # this process's student sockets → their account
        # this process in hall_processes: its tickets are released when its lease runs out
        self.process_id = uuid.uuid4().hex
        self.renewed_at: dt.datetime | None = None  # the lease and watchers, by the sweep
        self.booths = Coalescer(app[SETTINGS].hall_broadcast_window_seconds, self._send_booths,
                                name="hall-booths")
        # the last state this process sent of each ticket whose student has places at other
        # booths: when it changes, those booths are sent again (their waiter is busy or free).
        # With the call's time: a recall made on another process since is a change too.
        self.states_sent: dict[int, tuple[str, Any]] = {}

    # ---- helpers --------------------------------------------------------------------

    def broadcast(self, session_id: int) -> None:
        """The booth changed: its state goes to its room and each waiter's place to the
        waiter, coalesced (rtc/coalesce.py). Returns at once; the caller's ack goes first."""
        if self.monitor is not None:
            self.monitor.changed(session_id)
        self.booths.changed(session_id)

    async def _send_booths(self, session_ids: list[int]) -> None:
        """One load of the changed booths together (a fixed number of queries however many)
        and one batch of emits per booth (the employers' view, every ticket's place),
        stamped before the load so that no process sends it after a fresher one
        (rtc/sockets.py)."""
        manager = self.server.manager
        keys = [f"booth:{i}" for i in session_ids]
        stamps = await manager.next_stamps(keys)
        now = self.now
        async with self.app[DB].read() as conn:
            booths = await tickets.load_booths(conn, session_ids)
            late = await tickets.late_by_session(conn, list(booths), now) if booths else {}
        for session_id, key, stamp in zip(session_ids, keys, stamps):
            booth = booths.get(session_id)
            if booth is not None:
                await manager.emit_batch(self.namespace, key, stamp,
                                         self._batch(booth, late.get(session_id, []), now))
        for session_id in self._booths_elsewhere_changed(booths.values()):
            self.broadcast(session_id)

    def _booths_elsewhere_changed(self, booths: Any) -> set[int]:
        """The other booths of students whose state here changed since this process last
        sent it (called, in a call, finished, 未到, gone …): their wait and their 正在其他单位面试
        there follow. A state seen again unchanged sends nothing, so two booths of one
        student do not send each other back and forth."""
        others: set[int] = set()
        for booth in booths:
            for row in booth.rows:
                places = booth.elsewhere.get(row.id)
                if not places:
                    self.states_sent.pop(row.id, None)
                elif self.states_sent.get(row.id) != (row.status, row.called_at):
                    self.states_sent[row.id] = (row.status, row.called_at)
                    others.update(p.session_id for p in places)
        return others

    def _batch(self, booth: tickets.Booth, late: list[Any], now: dt.datetime) -> list[Delivery]:
        session_id = booth.session.id
        view = tickets.booth_view(booth, now, self.waiter_grace)
        view["late"] = [{"interview_id": r.id, "name": r.name,
                         "slot_at": r.starts_at.isoformat()} for r in late]
        return [Delivery("booth", f"booth:{session_id}", view, session_id),
                *self._places(booth, now)]

    def _places(self, booth: tickets.Booth, now: dt.datetime) -> list[Delivery]:
        """Each ticket's own state and place, to its student; the student is also told where
        else they are in a call now (their own booth's page says they are called when free)."""
        session_id = booth.session.id
        queue = tickets.queue_view(booth, now, self.waiter_grace)
        deliveries = []
        for row in booth.rows:
            place = {"ticket_id": row.id, "session_id": session_id, "status": row.status,
                     "employer": booth.employer_name, **queue.get(row.id, {})}
            busy = booth.busy_elsewhere(row.id)
            if busy is not None:
                place["busy_at"] = busy.employer_name
            deliveries.append(Delivery("queue", f"user:{row.account_id}", place, session_id))
        return deliveries

    async def make_call(self, session_id: int,
                    make: Callable[[AsyncConnection], Awaitable[tickets.Called | None]]
                    ) -> tickets.Called | None:
        """A call (叫号, 重新呼叫, or the sweep's next after a 未到): the student is told first,
        then the other waiters get their new places at once, from the booth the call was
        decided on (no second load), and only then does the employer's answer go (the
        employer's page starts the call on `call_started`, not on the answer); the booth's
        coalesced broadcast follows with the rest (the employers' view with its late list).
        The places' stamp is taken inside the transaction before the booth is loaded, as
        _send_booths takes its own before its load: a later change's batch, stamped after
        this one, then always wins."""
        key = f"booth:{session_id}"
        async with self.app[DB].write() as conn:
            stamp, = await self.server.manager.next_stamps([key])
            called = await make(conn)
        if called is not None and called.ticket is not None:
            own = called.answer_grace  # the school's, else the hall's default
            seconds = (own.total_seconds() if own is not None
                       else self.app[SETTINGS].hall_answer_grace_seconds)
            # together: in one process both only queue their packets (rtc/sockets.py,
            # emit_here), and with Redis the places need not wait for the `called`'s
            # publish; started in this order, the student's `called` is still queued first
            await asyncio.gather(
                self.tell_called(called.ticket, answer_seconds=seconds,
                                 names=(called.booth.employer_name, called.row.job_title)),
                self.server.manager.emit_batch(self.namespace, key, stamp,
                                               self._places(called.booth, self.now)))
        if called is not None:
            for row in called.passed_over:  # at another booth's call: told they come when free
                await self.emit("passed_over", {
                    "ticket_id": row.id, "session_id": session_id, "interview_id": row.interview_id,
                    "employer": called.booth.employer_name, "job": row.job_title},
                    room=f"user:{row.account_id}")
        self.broadcast(session_id)
        return called

    # ---- connection -----------------------------------------------------------------

    async def on_connect(self, sid: str, environ: dict, auth: Any = None) -> None:
        ident, open_tickets = await identify(self.app, environ, (Role.STUDENT, Role.EMPLOYER),
                                             "无权进入面试大厅", then=_open_tickets_of_student)
        await self.admit(sid, ident, employer_id=ident.employer_id, name=ident.display_name)
        if ident.role == Role.STUDENT:
            self.students[sid] = ident.account_id
            await self._student_back(sid, ident.account_id, open_tickets or [], _page_booth(auth))

    async def _student_back(self, sid: str, account_id: int, open_tickets: list[Any],
                            page_booth: int | None) -> None:
        """A student (re)connects: their places come back, a running call resumes. A first
        visit (no open ticket) costs nothing past the session look-up it shares a read with.
        Each hall page is one booth's (`page_booth`, sent by the page): only that booth's
        running call resumes in it; a call ringing anywhere is told to every page (the
        booth's page rings, the others show where it rings)."""
        if not open_tickets:
            return
        async with self.app[DB].write() as conn:
            for t in open_tickets:
                await tickets.set_connected(conn, t.id, True, self.now, self.process_id)
        for t in open_tickets:
            if t.status == "in_call" and page_booth in (None, t.session_id):
                await self.enter_room(sid, f"call:{t.id}")
                await self.emit("call_resumed", {"ticket_id": t.id, "session_id": t.session_id},
                                room=f"call:{t.id}")
            if t.status == "called":  # reloaded while being called: the page rings again
                await self.tell_called(t, to=sid)
            self.broadcast(t.session_id)
            await self._replay_notices(sid, account_id, t.session_id)

    async def _replay_notices(self, sid: str, account_id: int, session_id: int) -> None:
        """Today's hall notices again after a reload or a reconnect (shown once per page)."""
        async with self.app[DB].read() as conn:
            posted = await monitor_store.notices_for_student(conn, account_id, session_id, self.now)
        await self._send_notices(sid, posted)

    async def _send_notices(self, sid: str, posted: list[dict[str, Any]]) -> None:
        for notice in posted:
            await self.emit("hall_notice", notice, to=sid)

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        self.students.pop(sid, None)
        who = await self.who(sid)
        if who.get("role") == Role.EMPLOYER:
            await self._employer_left(sid)
            return
        if who.get("role") != Role.STUDENT:
            return
        # another tab of the same student may still be connected
        others = [s for s in self.server.manager.get_participants(self.namespace,
                                                                  f"user:{who['account_id']}")
                  if s[0] != sid]
        if others:
            return
        async with self.app[DB].read() as conn:
            open_tickets = await tickets.open_tickets_of(conn, who["account_id"])
        if not open_tickets:
            return
        async with self.app[DB].write() as conn:
            for t in open_tickets:
                await tickets.set_connected(conn, t.id, False, self.now)
        for t in open_tickets:
            self.broadcast(t.session_id)

    # ---- events (each returns the ack payload) --------------------------------------

    async def on_ping(self, sid: str, data: Any = None) -> dict[str, Any]:
        """A liveness check: clients time its ack to show connection health. No I/O, so
        its round trip is the floor the other events are measured against (bench/)."""
        return {"ok": True}

    async def on_join(self, sid: str, data: Any = None) -> dict[str, Any]:
        ticket, place = await self._take_place(sid, data, "interview_id", tickets.join)
        return {"ok": True, "ticket_id": ticket.id, "session_id": ticket.session_id,
                "status": ticket.status, **place}

    async def on_walk_in(self, sid: str, data: Any = None) -> dict[str, Any]:
        ticket, _ = await self._take_place(sid, data, "session_id", tickets.walk_in)
        return {"ok": True, "ticket_id": ticket.id, "session_id": ticket.session_id,
                "status": ticket.status, "interview_id": ticket.interview_id}

    async def _take_place(self, sid: str, data: Any, key: str,
                          take: Callable[..., Awaitable[Any]]) -> tuple[Any, dict[str, Any]]:
        """A student queues (join: by invitation; walk_in: at a booth): the place is taken,
        its first estimate kept as the promise, the booth told, today's notices shown. One
        write transaction, notices included: a join burst is thousands of these at once."""
        who = await self.who(sid)
        if who["role"] != Role.STUDENT:
            raise NotAllowed("只有学生可以排队")
        target = _int(data, key)
        probe = _probe(data)
        async with self.app[DB].write() as conn:
            ticket = await take(conn, account_id=who["account_id"], now=self.now,
                                open_minutes=self.app[SETTINGS].hall_open_minutes, probe=probe,
                                process_id=self.process_id, **{key: target})
            place = await tickets.promise(conn, ticket, self.now, self.waiter_grace)
            posted = await monitor_store.notices_for_student(conn, who["account_id"],
                                                             ticket.session_id, self.now)
        self.broadcast(ticket.session_id)
        await self._send_notices(sid, posted)
        return ticket, place

    async def on_set_walk_ins(self, sid: str, data: Any = None) -> dict[str, Any]:
        _, session_id = await self._own_booth(sid, data)
        allow = data.get("allow") is True
        async with self.app[DB].write() as conn:
            await tickets.set_walk_ins(conn, session_id, allow)
        self.broadcast(session_id)
        return {"ok": True, "allow": allow}

    async def _own_booth(self, sid: str, data: Any) -> tuple[dict[str, Any], int]:
        who = await self.who(sid)
        session_id = _int(data, "session_id")
        if who["role"] != Role.EMPLOYER:
            raise NotAllowed("只有单位可以操作面试间")
        if self.watching.get(sid) == session_id:
            return who, session_id  # checked at 【进入面试间】 (on_watch); a booth never changes hands
        async with self.app[DB].read() as conn:
            if not await tickets.employer_session(conn, session_id, who["employer_id"] or 0):
                raise NotAllowed("无权操作该面试间")
        return who, session_id

    async def _employer_left(self, sid: str) -> None:
        self.watching.pop(sid, None)
        async with self.app[DB].write() as conn:
            left = await monitor_store.drop_watcher(conn, sid)
        for session_id in left:
            self.broadcast(session_id)

    async def on_watch(self, sid: str, data: Any = None) -> dict[str, Any]:
        who, session_id = await self._own_booth(sid, data)
        await self.enter_room(sid, f"booth:{session_id}")
        self.watching[sid] = session_id
        async with self.app[DB].write() as conn:
            await monitor_store.add_watcher(conn, sid=sid, session_id=session_id,
                                            account_id=who["account_id"], name=who["name"],
                                            now=self.now)
        async with self.app[DB].read() as conn:
            booth = await tickets.load_booth(conn, session_id)
            posted = await monitor_store.notices_for_booth(conn, session_id, self.now)
        current = booth.current_call()
        if current is not None and current.status == "in_call":
            await self.enter_room(sid, f"call:{current.id}")
            await self.emit("call_resumed", {"ticket_id": current.id}, room=f"call:{current.id}")
        self.broadcast(session_id)
        for notice in posted:
            await self.emit("hall_notice", notice, to=sid)
        return {"ok": True, "booth": tickets.booth_view(booth, self.now, self.waiter_grace)}

    async def on_call_next(self, sid: str, data: Any = None) -> dict[str, Any]:
        _, session_id = await self._own_booth(sid, data)
        called = await self.make_call(session_id, lambda conn: tickets.call_next(
            conn, session_id, self.now, self.waiter_grace))
        ack: dict[str, Any] = {"ok": True,
                               "ticket_id": called.ticket.id if called and called.ticket else None}
        if called is not None and called.passed_over:  # the employer's page says why
            ack["passed_over"] = len(called.passed_over)
        return ack

    async def on_recall(self, sid: str, data: Any = None) -> dict[str, Any]:
        _, session_id = await self._own_booth(sid, data)
        ticket_id = _int(data, "ticket_id")
        called = await self.make_call(session_id, lambda conn: tickets.recall(
            conn, ticket_id, session_id, self.now, self.waiter_grace))
        return {"ok": True, "ticket_id": called.ticket.id if called else None}

    async def on_skip(self, sid: str, data: Any = None) -> dict[str, Any]:
        _, session_id = await self._own_booth(sid, data)
        async with self.app[DB].write() as conn:
            await tickets.skip(conn, _int(data, "ticket_id"), session_id, self.now)
        self.broadcast(session_id)  # the student's `queue` says 未到 (no_show)
        return {"ok": True}

    async def on_end_session(self, sid: str, data: Any = None) -> dict[str, Any]:
        _, session_id = await self._own_booth(sid, data)
        async with self.app[DB].write() as conn:
            told = await tickets.end_session(conn, session_id, self.now)
        for account_id in told:
            await self.emit("session_ended", {"session_id": session_id}, room=f"user:{account_id}")
        self.broadcast(session_id)
        return {"ok": True, "told": len(told)}

    async def tell_called(self, ticket: Any, to: str | None = None,
                          answer_seconds: float | None = None,
                          names: tuple[str, str | None] | None = None) -> None:
        """The student's pages (or the one socket `to`) learn of the call, who calls (the
        employer and the job: `names`), and the answer time left, which their countdown
        shows: their school's answer time (the sweep holds them to the same). What the
        caller has not at hand is read here."""
        if answer_seconds is None or names is None:
            async with self.app[DB].read() as conn:
                times = await school_settings.hall_times_of_account(conn, ticket.account_id,
                                                                    self.app[SETTINGS])
                names = names or await tickets.call_names(conn, ticket.id)
            answer_seconds = answer_seconds if answer_seconds is not None else times.answer_grace_seconds
        waited = (self.now - ticket.called_at).total_seconds() if ticket.called_at else 0.0
        await self.emit("called", {"ticket_id": ticket.id, "session_id": ticket.session_id,
                                   "interview_id": ticket.interview_id, "employer": names[0],
                                   "job": names[1],
                                   "answer_seconds": max(0, math.ceil(answer_seconds - waited))},
                        to=to or f"user:{ticket.account_id}")

    async def on_answer(self, sid: str, data: Any = None) -> dict[str, Any]:
        who = await self.who(sid)
        async with self.app[DB].write() as conn:
            ticket = await tickets.answer(conn, _int(data, "ticket_id"), who["account_id"], self.now,
                                          self.process_id)
        room = f"call:{ticket.id}"
        await self.enter_room(sid, room)
        # the booth's interviewers join the call on whichever process they are connected to
        await self.server.manager.merge_room(f"booth:{ticket.session_id}", room, self.namespace)
        # the student is the "polite" peer in perfect negotiation; the employer makes the offer
        await self.emit("call_started", {"ticket_id": ticket.id}, room=room)
        self.broadcast(ticket.session_id)
        return {"ok": True, "ticket_id": ticket.id}

    async def on_signal(self, sid: str, data: Any = None) -> dict[str, Any]:
        """Relay an SDP description or ICE candidate to the other member of the call."""
        ticket_id = _int(data, "ticket_id")
        payload = data.get("payload")
        if not isinstance(payload, dict) or len(str(payload)) > MAX_SIGNAL_BYTES:
            raise NotAllowed("信令格式不正确")
        if f"call:{ticket_id}" not in self.rooms(sid):
            raise NotAllowed("不在该通话中")
        await self.emit("signal", {"ticket_id": ticket_id, "payload": payload},
                        room=f"call:{ticket_id}", skip_sid=sid)
        return {"ok": True}

    async def on_finish(self, sid: str, data: Any = None) -> dict[str, Any]:
        who = await self.who(sid)
        ticket_id = _int(data, "ticket_id")
        if who["role"] != Role.EMPLOYER:
            raise NotAllowed("只有单位可以结束面试")
        async with self.app[DB].write() as conn:
            ticket = await tickets.ticket_for_employer(conn, ticket_id, who["employer_id"] or 0)
            if ticket is None:
                raise NotAllowed("无权操作该面试")
            await tickets.finish(conn, ticket, outcome=str(data.get("outcome", "")),
                                 notes=str(data.get("notes", ""))[:5000],
                                 release=data.get("release") is True,
                                 actor_id=who["account_id"], now=self.now)
        await self.emit("call_ended", {"ticket_id": ticket_id}, room=f"call:{ticket_id}")
        await self.close_room(f"call:{ticket_id}")
        self.broadcast(ticket.session_id)
        return {"ok": True}

    async def on_quality(self, sid: str, data: Any = None) -> dict[str, Any]:
        """A browser's getStats summary of its call, every few seconds (kept as running
        figures per call and side; the monitor shows them at once)."""
        who = await self.who(sid)
        ticket_id = _int(data, "ticket_id")
        if f"call:{ticket_id}" not in self.rooms(sid):
            raise NotAllowed("不在该通话中")
        sample = monitor.parse_sample(data)
        side = "student" if who["role"] == Role.STUDENT else "employer"
        async with self.app[DB].write() as conn:
            ticket = await monitor_store.ticket_with_school(conn, ticket_id)
            if ticket is None or ticket.status != "in_call":
                raise NotAllowed("通话已结束")
            written = await monitor_store.record_quality(conn, ticket_id, side, sample, self.now)
        if written is None:
            return {"ok": True, "kept": False}
        if self.monitor is not None:
            await self.monitor.quality(ticket, side, written.row)
            if written.alert_changed:
                self.monitor.changed(ticket.session_id)
        return {"ok": True, "kept": True, "verdict": written.row.verdict}

    # ---- what admins do to the hall (app/monitor/views.py calls these) -------------------

    async def tell_notice(self, posted: monitor_store.Posted) -> None:
        for account_id in posted.students:
            await self.emit("hall_notice", posted.notice, room=f"user:{account_id}")
        for session_id in posted.sessions:
            await self.emit("hall_notice", posted.notice, room=f"booth:{session_id}")

    async def tell_taken_out(self, rows: list[Any], reason: str, kind: str) -> None:
        """Students an admin took out (kind: removed / closed): told, calls ended."""
        sessions = set()
        for r in rows:
            sessions.add(r.session_id)
            await self.emit("taken_out", {"ticket_id": r.id, "session_id": r.session_id,
                                          "kind": kind, "reason": reason},
                            room=f"user:{r.account_id}")
            if r.status in ("in_call", "called"):
                await self.emit("call_ended", {"ticket_id": r.id, "reason": reason},
                                room=f"call:{r.id}")
                await self.close_room(f"call:{r.id}")
        for session_id in sessions:
            self.broadcast(session_id)

    async def tell_closed(self, session_id: int, reason: str) -> None:
        await self.emit("booth_closed", {"session_id": session_id, "reason": reason},
                        room=f"booth:{session_id}")
        self.broadcast(session_id)
