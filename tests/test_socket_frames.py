"""Malformed socket.io frames over a raw websocket (as an attacker sends them, not through a
socket.io client): the connection is closed after a few, anonymous or logged in, and the
log holds a line or two, no tracebacks (it held two tracebacks per frame)."""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from rtc.frames import ANONYMOUS_BAD_FRAMES, BAD_FRAMES
from tests.factories import PASSWORD
from tests.hall_kit import cookie_of

BROKEN = '42/hall,1["join",{"interview_id":1'


async def flood(base: str, cookie: str | None, frames: int, join_hall: bool) -> tuple[int, bool]:
    """Send up to `frames` broken frames; (how many went out before the server closed the
    socket, whether it closed it)."""
    headers = {"Origin": base}
    if cookie:
        headers["Cookie"] = cookie
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(f"{base}/socket.io/?EIO=4&transport=websocket",
                                   headers=headers) as ws:
            opened = await ws.receive()
            assert opened.data.startswith("0{")  # engine.io's open packet
            if join_hall:
                await ws.send_str("40/hall,")
                while True:  # the namespace's answer (after a ping, maybe)
                    msg = await ws.receive()
                    if msg.type == aiohttp.WSMsgType.TEXT and msg.data.startswith("40/hall"):
                        break
            sent, closed = 0, False
            for _ in range(frames):
                try:
                    await ws.send_str(BROKEN)
                except aiohttp.ClientConnectionResetError:  # the server closed the socket
                    closed = True
                    break
                sent += 1
                await asyncio.sleep(0)  # the server's close can come in between
            while not closed:  # what the server still sends: its close ends this
                msg = await ws.receive()
                closed = msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                                      aiohttp.WSMsgType.ERROR)
            return sent, closed


async def test_broken_frames_close_the_socket_and_log_one_line(make_client, world, caplog):
    caplog.set_level(logging.INFO)
    anonymous = await make_client()
    base = str(anonymous.client.make_url("/")).rstrip("/")
    student = await make_client()
    await student.login("student", world.active_student().email, PASSWORD)
    for cookie, join, bound in ((None, False, ANONYMOUS_BAD_FRAMES),
                                (cookie_of(student), True, BAD_FRAMES)):
        caplog.clear()
        sent, closed = await flood(base, cookie, 300, join)
        assert closed and sent >= bound
        lines = [r for r in caplog.records if r.name.startswith(("engineio", "socketio", "rtc"))]
        assert not any(r.exc_info for r in lines), [r.getMessage() for r in lines]
        assert [r.getMessage().split(":")[0] for r in lines
                if "malformed" in r.getMessage() or "closed after" in r.getMessage()] == [
            lines[0].getMessage().split(":")[0], f"socket closed after {bound} malformed frames"]
