"""The probe end to end: the real app on a real port, a real aiortc client (rtc/bot.py)."""

import asyncio
import dataclasses

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from app.web import create_app
from rtc.bot import ProbeFailed, csrf_token, probe
from rtc.ice import turn_credential
from rtc.probe import PROBES, ProbeRefused, ProbeRegistry
from rtc.quality import Verdict
from tests.conftest import FormClient
from tests.factories import PASSWORD

WAIT = 10  # seconds: a bound on awaited events, never a sleep


async def student(make_client, world):  # noqa: ANN001, ANN201
    c = await make_client()
    await c.login("student", world.active_student().email, PASSWORD)
    return c


def base(c) -> str:  # noqa: ANN001
    return str(c.client.make_url("/"))


async def offer_sdp() -> tuple[RTCPeerConnection, str]:
    """A data-channel offer as a browser makes it; the caller closes the peer."""
    pc = RTCPeerConnection()
    pc.createDataChannel("probe", ordered=False, maxRetransmits=0)
    await pc.setLocalDescription(await pc.createOffer())
    return pc, pc.localDescription.sdp


async def post_offer(c, sdp: str):  # noqa: ANN001, ANN201
    return await c.client.post("/hall/probe", json={"sdp": sdp, "type": "offer"},
                               headers={"X-CSRF-Token": c.csrf()}, allow_redirects=False)


async def test_bot_measures_round_trips_on_loopback(make_client, world, app):
    c = await student(make_client, world)
    result = await probe(base(c), c.client.session, count=20)
    assert len(result.samples_ms) == 20
    assert all(isinstance(s, float) and s > 0 for s in result.samples_ms)
    assert result.median_rtt_ms > 0
    assert (result.figures.sent, result.figures.received, result.loss) == (20, 20, 0.0)
    assert result.verdict in set(Verdict)
    # the server's peer closes when the bot leaves (it may have already)
    for peer in app[PROBES].peers():
        await asyncio.wait_for(peer.closed.wait(), WAIT)
    assert len(app[PROBES]) == 0


async def test_server_peer_states_and_close_when_client_leaves(make_client, world, app):
    c = await student(make_client, world)
    pc, sdp = await offer_sdp()
    try:
        resp = await post_offer(c, sdp)
        assert resp.status == 200, await resp.text()
        answer = await resp.json()
        assert answer["type"] == "answer" and "a=candidate" in answer["sdp"]
        (peer,) = app[PROBES].peers()
        assert peer.prefix.startswith("probe ") and f"user {world.active_student().account_id}" in peer.prefix
        connected = asyncio.get_running_loop().create_future()

        @pc.on("connectionstatechange")
        def on_state() -> None:
            if pc.connectionState == "connected" and not connected.done():
                connected.set_result(None)
        await pc.setRemoteDescription(RTCSessionDescription(**answer))
        await asyncio.wait_for(connected, WAIT)
    finally:
        await pc.close()
    await asyncio.wait_for(peer.closed.wait(), WAIT)
    assert peer.states == ["connecting", "connected", "closed"]
    assert len(app[PROBES]) == 0
    await peer.close()  # safe twice


async def test_peer_is_closed_after_its_lifetime(make_client, world, app):
    c = await student(make_client, world)
    app[PROBES].lifetime = 0.2
    pc, sdp = await offer_sdp()
    try:
        assert (await post_offer(c, sdp)).status == 200
        (peer,) = app[PROBES].peers()
        await asyncio.wait_for(peer.closed.wait(), WAIT)  # nobody ever connected
        assert len(app[PROBES]) == 0
        assert peer.states == ["connecting", "closed"]
    finally:
        await pc.close()


async def test_app_shutdown_closes_live_probes(aiohttp_client, app, world):
    c = FormClient(await aiohttp_client(app))
    await c.login("student", world.active_student().email, PASSWORD)
    registry = app[PROBES]
    clients = [await offer_sdp() for _ in range(3)]
    try:
        for _, sdp in clients:
            assert (await post_offer(c, sdp)).status == 200
        peers = registry.peers()
        assert len(peers) == 3
        await c.client.close()  # stops the server and runs the app's cleanup_ctx
        assert len(registry) == 0
        assert all(p.closed.is_set() and p.pc.connectionState == "closed" for p in peers)
    finally:
        for pc, _ in clients:
            await pc.close()


async def test_a_registry_shutting_down_refuses_new_probes():
    registry = ProbeRegistry()
    await registry.close_all()
    pc, sdp = await offer_sdp()
    try:
        with pytest.raises(ProbeRefused, match="服务器正在重启"):
            await registry.answer(RTCSessionDescription(sdp=sdp, type="offer"), 1,
                                  RTCConfiguration())
        assert len(registry) == 0
    finally:
        await pc.close()


async def test_too_many_probes_are_refused_in_chinese(make_client, world, app):
    c = await student(make_client, world)
    pcs = []
    try:
        app[PROBES].limit = 1
        pc, sdp = await offer_sdp()
        pcs.append(pc)
        assert (await post_offer(c, sdp)).status == 200
        pc, sdp = await offer_sdp()
        pcs.append(pc)
        resp = await post_offer(c, sdp)
        assert resp.status == 503
        assert (await resp.json())["error"] == "网络检测人数较多，请稍后再试。"
        app[PROBES].limit = 200
        app[PROBES].per_user = 1
        resp = await post_offer(c, sdp)
        assert resp.status == 503
        assert (await resp.json())["error"] == "检测过于频繁，请稍后再试。"
        assert len(app[PROBES]) == 1
    finally:
        for pc in pcs:
            await pc.close()


async def test_anonymous_is_sent_to_login(client):
    await client.get("/")
    resp = await client.client.post("/hall/probe", json={"sdp": "v=0", "type": "offer"},
                                    headers={"X-CSRF-Token": client.csrf()},
                                    allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/login/student")
    assert (await client.get("/hall/ice")).status == 303
    assert (await client.get("/hall/check")).status == 303
    with pytest.raises(ProbeFailed) as refused:
        await probe(base(client), client.client.session)
    assert refused.value.status == 303


async def test_post_without_csrf_token_is_refused(make_client, world, app):
    c = await student(make_client, world)
    pc, sdp = await offer_sdp()
    try:
        resp = await c.client.post("/hall/probe", json={"sdp": sdp, "type": "offer"})
        assert resp.status == 403
        resp = await c.client.post("/hall/probe", json={"sdp": sdp, "type": "offer"},
                                   headers={"X-CSRF-Token": "x" * 43})
        assert resp.status == 403
        assert len(app[PROBES]) == 0
    finally:
        await pc.close()


@pytest.mark.parametrize("body", [
    {"sdp": "v=0", "type": "answer"},
    {"type": "offer"},
    {"sdp": 12, "type": "offer"},
    {"sdp": "", "type": "offer"},
    {"sdp": "v=0\r\n" + "a=x\r\n" * 5000, "type": "offer"},       # over 20 kB
    {"sdp": "hello", "type": "offer"},                              # no data channel
    {"sdp": "v=0\r\nm=audio x\r\n", "type": "offer"},              # unparsable
    {"sdp": "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n",
     "type": "offer"},                                              # no ICE credentials
    ["offer"],
])
async def test_bad_payloads_are_refused(make_client, world, app, body):
    c = await student(make_client, world)
    resp = await c.client.post("/hall/probe", json=body, headers={"X-CSRF-Token": c.csrf()})
    assert resp.status == 400
    assert (await resp.json())["error"]
    assert len(app[PROBES]) == 0


async def test_not_json_is_refused(make_client, world):
    c = await student(make_client, world)
    for data, ctype in [("{not json", "application/json"), ("sdp=x", "text/plain")]:
        resp = await c.client.post("/hall/probe", data=data,
                                   headers={"X-CSRF-Token": c.csrf(), "Content-Type": ctype})
        assert resp.status == 400, data


async def test_ice_endpoint_gives_servers_with_a_turn_login(aiohttp_client, settings, clock,
                                                            world):
    configured = dataclasses.replace(settings, stun_urls=("stun:s.example.cn",),
                                     turn_urls=("turn:t.example.cn",), turn_secret="k")
    c = FormClient(await aiohttp_client(create_app(configured, clock=clock)))
    await c.login("student", world.active_student().email, PASSWORD)
    resp = await c.get("/hall/ice")
    assert resp.status == 200
    servers = (await resp.json())["iceServers"]
    assert servers[0] == {"urls": ["stun:s.example.cn"]}
    expiry = int(clock.now().timestamp()) + 3600
    assert servers[1]["username"] == f"{expiry}:{world.active_student().account_id}"
    assert servers[1]["credential"] == turn_credential("k", servers[1]["username"])


async def test_csrf_token_helper_fetches_a_page_first(client):
    token = await csrf_token(base(client), client.client.session)
    assert token == client.csrf() and len(token) >= 32


async def test_synthetic_camera_frames_move():
    from rtc.bot import media_peer
    pc, track = media_peer()
    try:
        first, second = await track.recv(), await track.recv()
        assert (first.width, first.height) == (320, 240)
        assert second.pts > first.pts
        assert bytes(first.planes[0])[:1] != bytes(second.planes[0])[:1]
        assert [t.kind for t in pc.getTransceivers()] == ["video"]
    finally:
        track.stop()
        await pc.close()
