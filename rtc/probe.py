"""The connectivity probe: a short-lived aiortc peer on the server that echoes DataChannel
messages, so the browser measures round-trip time and loss to us over the same kind of
path (ICE, DTLS, SCTP over UDP) the interview will use.

Signaling is one HTTP exchange (POST /hall/probe): the offer in, the answer out with all
our candidates in it (aiortc gathers before it returns the local description), so the
probe needs no socket.io and no trickle ICE.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import AsyncIterator

from aiohttp import web
from aiortc import RTCConfiguration, RTCDataChannel, RTCPeerConnection, RTCSessionDescription

from app.state import CLOCK, SETTINGS

from .ice import ice_servers, rtc_configuration

log = logging.getLogger(__name__)

# A probe sends ~20 pings a second apart at most; 30 s covers connecting and a slow
# network, and bounds what a peer that never says goodbye costs us.
LIFETIME_SECONDS = 30.0
# Each peer holds a UDP socket per interface and a DTLS context; 200 at once is far above
# a hall's arrivals per half-minute and far below what one process can hold.
MAX_PROBES = 200
# Reloading the check page a few times is normal; more at once is someone hogging probes.
MAX_PROBES_PER_USER = 4
# Pings are a few dozen bytes of JSON; do not echo bulk data (no free bandwidth test).
MAX_MESSAGE_BYTES = 1024


class ProbeRefused(Exception):
    """Too many probes: the message is shown to the user."""


class ProbePeer:
    """One browser's probe: an RTCPeerConnection that echoes and closes itself."""

    def __init__(self, number: int, user_id: int, configuration: RTCConfiguration,
                 registry: "ProbeRegistry") -> None:
        self.user_id = user_id
        self.prefix = f"probe {number} user {user_id}:"
        self.pc = RTCPeerConnection(configuration)
        self._registry = registry
        self.states: list[str] = []  # every connection state, in order, for logs and tests
        self.closed = asyncio.Event()
        self._closed = False
        self._closing: asyncio.Task | None = None
        self._expiry = asyncio.get_running_loop().call_later(
            registry.lifetime, self._close_soon, "lifetime over")
        self.pc.on("datachannel", self._on_datachannel)
        self.pc.on("connectionstatechange", self._on_connection_state)

    async def answer(self, offer: RTCSessionDescription) -> RTCSessionDescription:
        await self.pc.setRemoteDescription(offer)
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return self.pc.localDescription

    def _on_datachannel(self, channel: RTCDataChannel) -> None:
        log.info("%s data channel %r", self.prefix, channel.label)

        @channel.on("message")
        def echo(message: str | bytes) -> None:
            if len(message) <= MAX_MESSAGE_BYTES and channel.readyState == "open":
                channel.send(message)

    def _on_connection_state(self) -> None:
        state = self.pc.connectionState
        log.info("%s connection %s -> %s", self.prefix,
                 self.states[-1] if self.states else "new", state)
        self.states.append(state)
        if state in ("failed", "closed"):
            self._close_soon(f"connection {state}")

    def _close_soon(self, reason: str) -> None:
        if self._closing is None and not self._closed:
            log.info("%s closing: %s", self.prefix, reason)
            self._closing = asyncio.create_task(self.close(), name=self.prefix)
            self._registry._hold(self._closing)

    async def close(self) -> None:
        """Safe to call twice (the second waits for the first) and from the peer's own
        state handler (which only schedules it)."""
        if self._closed:
            await self.closed.wait()
            return
        self._closed = True
        self._expiry.cancel()
        self._registry._forget(self)
        try:
            await self.pc.close()
        finally:
            self.closed.set()


class ProbeRegistry:
    """The live probe peers of this process."""

    def __init__(self, *, lifetime: float = LIFETIME_SECONDS, limit: int = MAX_PROBES,
                 per_user: int = MAX_PROBES_PER_USER) -> None:
        self.lifetime = lifetime
        self.limit = limit
        self.per_user = per_user
        self._peers: set[ProbePeer] = set()
        self._numbers = itertools.count(1)
        self._tasks: set[asyncio.Task] = set()  # the loop only keeps weak references
        self._shut = False

    def __len__(self) -> int:
        return len(self._peers)

    def peers(self) -> tuple[ProbePeer, ...]:
        return tuple(self._peers)

    async def answer(self, offer: RTCSessionDescription, user_id: int,
                     configuration: RTCConfiguration) -> RTCSessionDescription:
        if self._shut:
            raise ProbeRefused("服务器正在重启，请稍后再试。")
        if len(self._peers) >= self.limit:
            raise ProbeRefused("网络检测人数较多，请稍后再试。")
        if sum(p.user_id == user_id for p in self._peers) >= self.per_user:
            raise ProbeRefused("检测过于频繁，请稍后再试。")
        peer = ProbePeer(next(self._numbers), user_id, configuration, self)
        self._peers.add(peer)
        log.info("%s offer received (%d live)", peer.prefix, len(self._peers))
        try:
            return await peer.answer(offer)
        except BaseException:
            await peer.close()
            raise

    def _forget(self, peer: ProbePeer) -> None:
        self._peers.discard(peer)

    def _hold(self, task: asyncio.Task) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close_all(self) -> None:
        self._shut = True
        peers = list(self._peers)
        await asyncio.gather(*(p.close() for p in peers))
        # closes started by a lifetime timer: let them finish inside the app's lifetime
        await asyncio.gather(*self._tasks, return_exceptions=True)
        log.info("closed %d probe peers at shutdown", len(peers))


PROBES = web.AppKey("probes", ProbeRegistry)


async def probe_registry_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: the registry lives with the app; shutdown closes every peer."""
    registry = ProbeRegistry()
    app[PROBES] = registry
    yield
    await registry.close_all()


def probe_configuration(app: web.Application, user_id: int) -> RTCConfiguration:
    return rtc_configuration(ice_servers(app[SETTINGS], user_id, app[CLOCK].now()))
