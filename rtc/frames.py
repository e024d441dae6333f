"""Malformed socket.io frames, bounded before anything is logged.

A frame that does not decode (`42/hall,1["join",{"interview_id":1`, no closing bracket)
fails inside python-socketio's packet decoder, before any namespace or the per-socket
guard (rtc/guard.py) sees it, and engine.io logged a traceback for each: 3,000 frames in
3 s from a socket that never logged in wrote 9.4 MiB of log and the socket stayed open.
Here each connection's bad frames are counted: the first is told in one line (no
traceback), the connection is closed once it passes its bound (a socket that joined no
namespace, as an anonymous one has not, gets a tighter one), and nothing more is logged.
"""

from __future__ import annotations

import logging
from typing import Any

import socketio

from app.lru import Lru

log = logging.getLogger(__name__)
ANONYMOUS_BAD_FRAMES = 3   # a socket that joined no namespace: a client that speaks it right
BAD_FRAMES = 20            # never sends one, so a few are a bug, many an attack
# what the decoder raises for a malformed packet (json's errors are ValueErrors)
DECODE_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError)


class FrameGuardedServer(socketio.AsyncServer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bad_frames: dict[str, int] = {}  # engine.io sid → malformed frames so far
        # sockets closed for bad frames: whatever they still send before the websocket is
        # gone is dropped unread (bounded: a flood of such sockets cannot grow it)
        self.shut: Lru[bool] = Lru(max_entries=10_000, max_bytes=10_000, max_age=60.0)

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        if self.shut.get(eio_sid):
            return
        try:
            await super()._handle_eio_message(eio_sid, data)
        except DECODE_ERRORS as exc:
            await self._malformed(eio_sid, data, exc)

    async def _malformed(self, eio_sid: str, data: Any, exc: Exception) -> None:
        count = self.bad_frames.get(eio_sid, 0) + 1
        joined = any(self.manager.sid_from_eio_sid(eio_sid, ns)
                     for ns in self.manager.get_namespaces())
        bound = BAD_FRAMES if joined else ANONYMOUS_BAD_FRAMES
        self.bad_frames[eio_sid] = count
        if count == 1:
            environ = self.environ.get(eio_sid) or {}
            request = environ.get("aiohttp.request")
            log.warning("malformed socket.io frame from %s (%s): %s; %r…",
                        request.remote if request is not None else "?",
                        "in a namespace" if joined else "no namespace", type(exc).__name__,
                        str(data)[:60])
        if count >= bound:
            log.warning("socket closed after %d malformed frames", count)
            self.shut.put(eio_sid, True, 1)
            await self._close(eio_sid)

    async def _close(self, eio_sid: str) -> None:
        """Disconnect, and end the websocket itself: engine.io's disconnect only sends its
        close packet, and its websocket stays open for as long as the peer goes on sending
        (an attacker does). A None in the socket's queue ends its writer, which closes the
        websocket, and the reading side with it."""
        try:
            socket = self.eio._get_socket(eio_sid)
        except KeyError:
            return
        await self.eio.disconnect(eio_sid)
        await socket.queue.put(None)

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any = None) -> None:
        self.bad_frames.pop(eio_sid, None)
        await super()._handle_eio_disconnect(eio_sid, reason)
