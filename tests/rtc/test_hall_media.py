"""Two aiortc peers joined through the real /hall signaling exchange video, and each
receiving side decodes frames. Signaling goes only through the socket.io relay."""

from tests.hall_kit import exchange_media
from tests.test_hall_socket import employer_socket, hall, student_socket  # noqa: F401


async def test_two_aiortc_peers_through_the_hall_relay(hall):  # noqa: F811
    student, employer = await student_socket(hall, 0), await employer_socket(hall)
    await employer.call("watch", {"session_id": hall["session_id"]})
    ticket = (await student.call("join", {"interview_id": hall["interview_ids"][0]}))["ticket_id"]
    await employer.call("call_next", {"session_id": hall["session_id"]})
    await student.events.wait("called")
    assert (await student.call("answer", {"ticket_id": ticket}))["ok"]
    await employer.events.wait("call_started")

    await exchange_media(student, employer, ticket)
