"""An aiortc client of our own server, for tests and benchmarks: it logs nothing in by
itself (give it a logged-in aiohttp session), runs the connectivity probe the way the
browser does (static/js/probe.js), and can be a media peer with a synthetic camera.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json

import aiohttp
from aiortc import RTCDataChannel, RTCPeerConnection, RTCSessionDescription, VideoStreamTrack
from aiortc.rtcconfiguration import RTCConfiguration
from av import VideoFrame
from yarl import URL

from .ice import rtc_configuration
from .quality import Figures, Verdict, verdict

CSRF_COOKIE = "csrftoken"
CSRF_HEADER = "X-CSRF-Token"
PING_TIMEOUT_SECONDS = 1.0  # as the browser: a later answer counts as lost
OPEN_TIMEOUT_SECONDS = 10.0


class ProbeFailed(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


@dataclasses.dataclass(frozen=True)
class ProbeResult:
    samples_ms: list[float]
    verdict: Verdict
    figures: Figures

    @property
    def median_rtt_ms(self) -> float | None:
        return self.figures.median_rtt_ms

    @property
    def loss(self) -> float:
        return self.figures.loss


async def csrf_token(base_url: str, session: aiohttp.ClientSession) -> str:
    """The double-submit token: the cookie's value, sent back as a header. GET a page
    first when the session has none yet."""
    base = URL(base_url)
    cookie = session.cookie_jar.filter_cookies(base).get(CSRF_COOKIE)
    if cookie is None:
        async with session.get(base.with_path("/")) as resp:
            resp.raise_for_status()
        cookie = session.cookie_jar.filter_cookies(base).get(CSRF_COOKIE)
    if cookie is None:
        raise ProbeFailed(0, "the server set no CSRF cookie")
    return cookie.value


async def ice_configuration(base_url: str, session: aiohttp.ClientSession) -> RTCConfiguration:
    async with session.get(URL(base_url).with_path("/hall/ice"),
                           allow_redirects=False) as resp:
        if resp.status != 200:
            raise ProbeFailed(resp.status, await resp.text())
        return rtc_configuration((await resp.json())["iceServers"])


async def probe(base_url: str, session: aiohttp.ClientSession, count: int = 20) -> ProbeResult:
    """Offer over POST /hall/probe, then `count` pings over an unreliable DataChannel,
    one in flight at a time, each answer timing one round trip."""
    token = await csrf_token(base_url, session)
    pc = RTCPeerConnection(await ice_configuration(base_url, session))
    try:
        # unordered, never retransmitted: a lost ping stays lost (as in the browser)
        channel = pc.createDataChannel("probe", ordered=False, maxRetransmits=0)
        opened = asyncio.get_running_loop().create_future()
        channel.on("open", lambda: opened.done() or opened.set_result(None))
        await pc.setLocalDescription(await pc.createOffer())
        offer = pc.localDescription
        async with session.post(URL(base_url).with_path("/hall/probe"),
                                json={"sdp": offer.sdp, "type": offer.type},
                                headers={CSRF_HEADER: token}, allow_redirects=False) as resp:
            if resp.status != 200:
                raise ProbeFailed(resp.status, await resp.text())
            answer = await resp.json()
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type=answer["type"]))
        await asyncio.wait_for(opened, OPEN_TIMEOUT_SECONDS)
        samples = await _ping(channel, count)
    finally:
        await pc.close()
    judged, figures = verdict(samples, count, len(samples))
    return ProbeResult(samples_ms=samples, verdict=judged, figures=figures)


async def _ping(channel: RTCDataChannel, count: int) -> list[float]:
    loop = asyncio.get_running_loop()
    now_ms = lambda: loop.time() * 1000  # noqa: E731  (monotonic, like performance.now())
    waiting: dict[int, asyncio.Future[float]] = {}

    @channel.on("message")
    def on_message(message: str | bytes) -> None:
        try:
            data = json.loads(message)
            answered = waiting.get(data["seq"])
            rtt = now_ms() - float(data["t"])
        except (ValueError, KeyError, TypeError):
            return
        if answered is not None and not answered.done():
            answered.set_result(rtt)

    samples: list[float] = []
    for seq in range(count):
        waiting[seq] = loop.create_future()
        channel.send(json.dumps({"seq": seq, "t": now_ms()}))
        try:
            samples.append(await asyncio.wait_for(waiting[seq], PING_TIMEOUT_SECONDS))
        except TimeoutError:
            continue  # lost
    return samples


class SyntheticVideoTrack(VideoStreamTrack):
    """A camera for bots: frames whose brightness cycles, so encoders see motion."""

    def __init__(self, width: int = 320, height: int = 240) -> None:
        super().__init__()
        self.width = width
        self.height = height
        self.frames = 0

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame(width=self.width, height=self.height, format="yuv420p")
        luma, *chroma = frame.planes
        luma.update(bytes([16 + (self.frames * 4) % 220]) * luma.buffer_size)
        for plane in chroma:
            plane.update(b"\x80" * plane.buffer_size)
        frame.pts = pts
        frame.time_base = time_base
        self.frames += 1
        return frame


def media_peer(configuration: RTCConfiguration | None = None,
               track: SyntheticVideoTrack | None = None
               ) -> tuple[RTCPeerConnection, SyntheticVideoTrack]:
    """A peer that sends a synthetic camera; the caller negotiates and closes it."""
    pc = RTCPeerConnection(configuration)
    track = track or SyntheticVideoTrack()
    pc.addTrack(track)
    return pc, track
