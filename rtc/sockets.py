"""Room operations every process must carry out for its own sockets: closing the sockets of
an ended login session, and putting a booth's interviewers into a call.

Each socket of /hall and /monitor is in the rooms `session:<session hash>` and
`user:<account>` (rtc/namespace.py). Ending a session disconnects every member of its
room. python-socketio's managers can disconnect one sid across processes, but not a room,
and only the process holding a socket knows which room it is in; so the managers here
learn one more message, `disconnect_room`: handled at once in this process and, with
Redis, published on the socket.io channel for the other processes to handle for their own
sockets. App code calls `end_sockets` after the transaction that ended the session.

The same holds for a call: the student answers on one process, the booth's interviewers may
be connected to others, and only each process can put its own sockets into the call's
room. `merge_room` puts every member of one room into another, here and (published on the
channel, handled in order before any later message) everywhere else, so the `call_started`
that follows reaches them on whatever process they are.

A booth's state goes out as one batch (`emit_batch`, rtc/coalesce.py): the employers' view
and every waiter's place in a single message on the channel instead of one per socket.
Each process delivers a batch to its own sockets only if it is the freshest it has seen for
that booth (its stamp), and skips the rooms that already have that payload.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, AsyncIterator

import engineio
import socketio
from aiohttp import web

from .coalesce import Delivery, LastSent, Latest, to_deliver

log = logging.getLogger(__name__)
NAMESPACES = ("/hall", "/monitor")
SIO = web.AppKey("sio", socketio.AsyncServer)


class _HallRooms:
    """Mixin for a socket.io client manager: disconnect every local member of a room, put
    a room's members into another, deliver a booth's batch."""

    server: socketio.AsyncServer
    _latest: Latest
    _last_sent: LastSent

    def _batch_state(self) -> None:
        self._latest = Latest()
        self._last_sent = LastSent()
        self._stamps: dict[str, int] = {}
        # Each socket's rooms, kept beside python-socketio's room → members map: its own
        # disconnect and get_rooms scan every room of the namespace (about four per socket),
        # so 5,000 students leaving the hall cost 5,000 × 20,000 membership tests, minutes
        # of the loop (measured: bench/hall_load.py's server at shutdown).
        self._rooms_of: dict[tuple[str, str], set[str | None]] = {}

    def basic_enter_room(self, sid: str, namespace: str, room: str | None,
                         eio_sid: Any = None) -> None:
        self._last_sent.forget(room)  # a newcomer gets the next payload even if unchanged
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)  # type: ignore[misc]
        self._rooms_of.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid: str, namespace: str, room: str | None) -> None:
        super().basic_leave_room(sid, namespace, room)  # type: ignore[misc]
        mine = self._rooms_of.get((namespace, sid))
        if mine is not None:
            mine.discard(room)
            if not mine:
                del self._rooms_of[(namespace, sid)]

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        """The library's disconnect (python-socketio 5.x base_manager) with its scan of every
        room replaced by the socket's own rooms; the rest of what it clears (the socket's
        ack callbacks, its pending connect or disconnect) is cleared as it does.
        tests/test_socket_rooms.py holds both to the same rooms after any sequence."""
        for room in list(self._rooms_of.pop((namespace, sid), ())):
            super().basic_leave_room(sid, namespace, room)  # type: ignore[misc]
        callbacks = self.callbacks  # type: ignore[attr-defined]
        callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):  # type: ignore[attr-defined]
            waiting = pending.get(namespace)
            if waiting is not None and sid in waiting:
                waiting.remove(sid)
                if not waiting:
                    del pending[namespace]

    def get_rooms(self, sid: str, namespace: str) -> list[str]:
        return [room for room in self._rooms_of.get((namespace, sid), ()) if room is not None]

    async def _deliver_batch(self, namespace: str, key: str, stamp: int,
                             items: list[Delivery]) -> int:
        """This process's sockets get the batch unless a fresher one of `key` came first;
        returns the emits made."""
        rooms = self.rooms.get(namespace, {})  # type: ignore[attr-defined]
        fresh = to_deliver(self._latest, self._last_sent, key, stamp, items,
                           present=lambda room: bool(rooms.get(room)))
        # To this process's members only, never published; all in this turn of the loop
        for d in fresh:
            await self.emit_here(d.event, d.data, namespace, d.room)
        return len(fresh)

    async def emit_here(self, event: str, data: Any, namespace: str, room: str | None,
                        skip_sid: Any = None) -> None:
        """python-socketio's local emit (AsyncManager.emit without an ack callback) without
        its task per recipient. engine.io's send only puts the packet on the socket's queue
        (unbounded: it never waits), so the tasks only cost: a call's twenty recipients went
        out over three turns of a loop serving 5,000 sockets instead of one. A socket that
        closed meanwhile is skipped, as a failed task was."""
        if namespace not in self.rooms:  # type: ignore[attr-defined]
            return
        args = list(data) if isinstance(data, tuple) else [] if data is None else [data]
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        encoded = self.server.packet_class(socketio.packet.EVENT, namespace=namespace,
                                           data=[event, *args]).encode()
        pkts = [engineio.packet.Packet(engineio.packet.MESSAGE, p)
                for p in (encoded if isinstance(encoded, list) else [encoded])]
        for sid, eio_sid in self.get_participants(namespace, room):  # type: ignore[attr-defined]
            if sid in skip:
                continue
            for pkt in pkts:
                try:
                    await self.server._send_eio_packet(eio_sid, pkt)
                except engineio.exceptions.EngineIOError:
                    break

    async def emit_batch(self, namespace: str, key: str, stamp: int,
                         items: list[Delivery]) -> None:
        await self._deliver_batch(namespace, key, stamp, items)

    async def next_stamps(self, keys: list[str]) -> list[int]:
        """For each key a number higher than any it had before, here and in every process."""
        for key in keys:
            self._stamps[key] = self._stamps.get(key, 0) + 1
        return [self._stamps[key] for key in keys]

    async def _disconnect_local(self, room: str, namespace: str) -> None:
        members = [sid for sid, _ in self.get_participants(namespace, room)]  # type: ignore[attr-defined]
        for sid in members:
            await self.server.disconnect(sid, namespace=namespace, ignore_queue=True)

    async def disconnect_room(self, room: str, namespace: str) -> None:
        await self._disconnect_local(room, namespace)

    def _merge_local(self, source: str, target: str, namespace: str) -> None:
        for sid, eio_sid in list(self.get_participants(namespace, source)):  # type: ignore[attr-defined]
            self.basic_enter_room(sid, namespace, target, eio_sid=eio_sid)  # type: ignore[attr-defined]

    async def merge_room(self, source: str, target: str, namespace: str) -> None:
        """Every member of `source` also enters `target` (a booth's interviewers, a call)."""
        self._merge_local(source, target, namespace)


class LocalManager(_HallRooms, socketio.AsyncManager):
    """One process: the room's members are all here."""

    def __init__(self) -> None:
        super().__init__()
        self._batch_state()

    async def emit(self, event: str, data: Any, namespace: str, room: str | None = None,
                   skip_sid: Any = None, callback: Any = None, to: str | None = None,
                   **kwargs: Any) -> None:
        if callback is not None:  # a packet per recipient with its own ack id: the library's
            await super().emit(event, data, namespace, room=room, skip_sid=skip_sid,
                               callback=callback, to=to, **kwargs)
            return
        await self.emit_here(event, data, namespace, to or room, skip_sid)

    async def close(self) -> None:
        pass


class RedisManager(_HallRooms, socketio.AsyncRedisManager):
    """Several processes: this one's members now, the others' through the channel."""

    async def disconnect_room(self, room: str, namespace: str) -> None:
        await self._disconnect_local(room, namespace)
        await self._publish({"method": "disconnect_room", "room": room, "namespace": namespace,
                             "host_id": self.host_id})

    async def merge_room(self, source: str, target: str, namespace: str) -> None:
        self._merge_local(source, target, namespace)
        await self._publish({"method": "merge_room", "source": source, "target": target,
                             "namespace": namespace, "host_id": self.host_id})

    async def emit_batch(self, namespace: str, key: str, stamp: int,
                         items: list[Delivery]) -> None:
        await self._deliver_batch(namespace, key, stamp, items)
        await self._publish({"method": "emit_batch", "namespace": namespace, "key": key,
                             "stamp": stamp, "host_id": self.host_id,
                             "items": [[d.event, d.room, d.data, d.tag] for d in items]})

    async def next_stamps(self, keys: list[str]) -> list[int]:
        """Redis's INCR: one counter per booth shared by every process (kept a day), all
        keys in one round trip."""
        if not keys:
            return []
        if self._counter is None:
            self._counter = self._get_redis_module().Redis.from_url(self.redis_url)
        async with self._counter.pipeline(transaction=True) as pipe:
            for key in keys:
                name = f"{self.channel}:stamp:{key}"
                pipe.incr(name).expire(name, 86400)
            done = await pipe.execute()
        return [int(v) for v in done[0::2]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._batch_state()
        self._tasks: set[asyncio.Task] = set()
        self._counter: Any = None  # a Redis client of its own (the listener owns `redis`)

    async def _disconnect_from_channel(self, data: dict[str, Any]) -> None:
        try:
            await self._disconnect_local(str(data["room"]), str(data["namespace"]))
        except Exception:  # one bad message must not end anything else
            log.exception("disconnect_room from another process failed")

    async def close(self) -> None:
        """Stop listening to the channel (app shutdown): python-socketio leaves its listener
        task running until the loop itself closes."""
        if self._counter is not None:
            await self._counter.aclose()
        listener = getattr(self, "thread", None)
        if listener is None or listener.done():
            return
        listener.cancel()
        await asyncio.wait([listener], timeout=5)

    async def _listen(self) -> AsyncIterator[Any]:  # type: ignore[override]
        # python-socketio's listener ignores methods it does not know: take ours out of the
        # stream before it, pass everything else on untouched.
        async for message in super()._listen():
            data = _decoded(message)
            if data is not None and data.get("method") == "merge_room":
                # in the listener itself, so it is done before the emit published after it
                if data.get("host_id") != self.host_id:
                    self._merge_local(str(data["source"]), str(data["target"]),
                                      str(data["namespace"]))
                continue
            if data is not None and data.get("method") == "emit_batch":
                if data.get("host_id") != self.host_id:
                    # in the listener, in channel order with the plain emits around it
                    try:
                        await self._deliver_batch(
                            str(data["namespace"]), str(data["key"]), int(data["stamp"]),
                            [Delivery(e, r, d, t) for e, r, d, t in data["items"]])
                    except Exception:  # one bad message must not stop the listener
                        log.exception("a booth batch from another process failed")
                continue
            if data is not None and data.get("method") == "disconnect_room":
                if data.get("host_id") != self.host_id:
                    # in a task of its own: the disconnect handlers do database work, and
                    # the listener must keep reading (and stay cancellable at shutdown)
                    task = asyncio.create_task(self._disconnect_from_channel(data))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                continue
            yield message


def _decoded(message: Any) -> dict[str, Any] | None:
    if isinstance(message, dict):
        return message
    try:
        data = json.loads(message)
    except (TypeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


async def end_sockets(app: web.Application, *, session_hash: str | None = None,
                      account_id: int | None = None) -> None:
    """Disconnect the sockets of one login session, or of every session of an account
    (password reset, account disabled), in every process."""
    manager = app[SIO].manager
    rooms = []
    if session_hash:
        rooms.append(f"session:{session_hash}")
    if account_id is not None:
        rooms.append(f"user:{account_id}")
    for room in rooms:
        for namespace in NAMESPACES:
            await manager.disconnect_room(room, namespace)
