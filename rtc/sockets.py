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
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, AsyncIterator

import socketio
from aiohttp import web

log = logging.getLogger(__name__)
NAMESPACES = ("/hall", "/monitor")
SIO = web.AppKey("sio", socketio.AsyncServer)


class _RoomDisconnects:
    """Mixin for a socket.io client manager: disconnect every local member of a room."""

    server: socketio.AsyncServer

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


class LocalManager(_RoomDisconnects, socketio.AsyncManager):
    """One process: the room's members are all here."""

    async def close(self) -> None:
        pass


class RedisManager(_RoomDisconnects, socketio.AsyncRedisManager):
    """Several processes: this one's members now, the others' through the channel."""

    async def disconnect_room(self, room: str, namespace: str) -> None:
        await self._disconnect_local(room, namespace)
        await self._publish({"method": "disconnect_room", "room": room, "namespace": namespace,
                             "host_id": self.host_id})

    async def merge_room(self, source: str, target: str, namespace: str) -> None:
        self._merge_local(source, target, namespace)
        await self._publish({"method": "merge_room", "source": source, "target": target,
                             "namespace": namespace, "host_id": self.host_id})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tasks: set[asyncio.Task] = set()

    async def _disconnect_from_channel(self, data: dict[str, Any]) -> None:
        try:
            await self._disconnect_local(str(data["room"]), str(data["namespace"]))
        except Exception:  # one bad message must not end anything else
            log.exception("disconnect_room from another process failed")

    async def close(self) -> None:
        """Stop listening to the channel (app shutdown): python-socketio leaves its listener
        task running until the loop itself closes."""
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
