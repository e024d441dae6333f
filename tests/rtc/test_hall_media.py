"""Two aiortc peers joined through the real /hall signaling exchange video, and each
receiving side decodes frames. Signaling goes only through the socket.io relay."""

import asyncio

from aiortc import RTCSessionDescription

from rtc.bot import media_peer
from tests.test_hall_socket import employer_socket, hall, student_socket  # noqa: F401


async def decoded_frames(track, count=5):
    frames = [await asyncio.wait_for(track.recv(), 10) for _ in range(count)]
    return [(f.width, f.height) for f in frames]


async def test_two_aiortc_peers_through_the_hall_relay(hall):  # noqa: F811
    student, employer = await student_socket(hall, 0), await employer_socket(hall)
    await employer.call("watch", {"session_id": hall["session_id"]})
    ticket = (await student.call("join", {"interview_id": hall["interview_ids"][0]}))["ticket_id"]
    await employer.call("call_next", {"session_id": hall["session_id"]})
    await student.events.wait("called")
    assert (await student.call("answer", {"ticket_id": ticket}))["ok"]
    await employer.events.wait("call_started")

    employer_pc, _ = media_peer()
    student_pc, _ = media_peer()
    received = {"employer": asyncio.get_running_loop().create_future(),
                "student": asyncio.get_running_loop().create_future()}
    employer_pc.on("track", lambda t: received["employer"].done() or received["employer"].set_result(t))
    student_pc.on("track", lambda t: received["student"].done() or received["student"].set_result(t))
    try:
        # the employer offers (aiortc gathers before returning: candidates ride in the SDP)
        await employer_pc.setLocalDescription(await employer_pc.createOffer())
        offer = employer_pc.localDescription
        assert (await employer.call("signal", {"ticket_id": ticket, "payload": {
            "description": {"type": offer.type, "sdp": offer.sdp}}}))["ok"]
        got = await student.events.wait("signal", lambda d: d["payload"].get("description"))
        await student_pc.setRemoteDescription(RTCSessionDescription(**got["payload"]["description"]))
        await student_pc.setLocalDescription(await student_pc.createAnswer())
        answer = student_pc.localDescription
        assert (await student.call("signal", {"ticket_id": ticket, "payload": {
            "description": {"type": answer.type, "sdp": answer.sdp}}}))["ok"]
        back = await employer.events.wait("signal", lambda d: d["payload"].get("description"))
        await employer_pc.setRemoteDescription(RTCSessionDescription(**back["payload"]["description"]))

        at_student = await asyncio.wait_for(received["student"], 15)
        at_employer = await asyncio.wait_for(received["employer"], 15)
        for track in (at_student, at_employer):
            sizes = await decoded_frames(track)
            assert all(w > 0 and h > 0 for w, h in sizes), sizes
        assert student_pc.connectionState == "connected" and employer_pc.connectionState == "connected"
    finally:
        await employer_pc.close()
        await student_pc.close()
