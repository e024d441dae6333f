"""/readyz and /metrics: readiness of the database and Redis, and the Prometheus figures
after a scripted hall session; /metrics refused to a foreign address, even forwarded."""

from __future__ import annotations

import dataclasses
import re
import uuid

import pytest

from app.web import create_app
from tests.conftest import FormClient
from tests.factories import PASSWORD
from tests.hall_kit import build_hall, connect, cookie_of


@pytest.fixture
def settings(settings):  # noqa: F811 - the shared settings, with the loop lag probe on
    return dataclasses.replace(settings, loop_lag_probe_seconds=0.01)


def sample(text: str, name: str, **labels: str) -> float | None:
    """One sample's value from the Prometheus text format."""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.fullmatch(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)", line)
        if not m or m.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        if found == labels:
            return float(m.group(3))
    return None


async def test_metrics_after_a_hall_session(world, settings, clock, make_client, sockets):
    hall = await build_hall(world, settings, clock, students=2)
    people = []
    for s in hall["students"]:
        c = await make_client()
        await c.login("student", s.email, PASSWORD)
        people.append(c)
    employer = await make_client()
    await employer.login("employer", "employer", PASSWORD)
    base = str(employer.client.make_url("/"))
    s0, s1, emp = [await connect(base, cookie_of(c)) for c in (*people, employer)]
    sockets.extend([s0, s1, emp])
    assert (await emp.call("watch", {"session_id": hall["session_id"]}))["ok"]
    for sock, interview_id in zip((s0, s1), hall["interview_ids"]):
        assert (await sock.call("join", {"interview_id": interview_id}))["ok"]
    before = await (await employer.get("/metrics")).text()
    assert sample(before, "hall_waiting_students") == 2
    assert sample(before, "hall_call_next_seconds_count") == 0
    called = await emp.call("call_next", {"session_id": hall["session_id"]})
    assert called["ok"] and called["ticket_id"]
    await s0.events.wait("called")
    clock.advance(seconds=30)  # the invitations' mails wait in the outbox (no SMTP_HOST)
    await employer.get(f"/hall/booths/{hall['session_id']}")
    resp = await employer.get("/metrics")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
    text = await resp.text()
    assert sample(text, "socketio_connected_sockets", namespace="/hall") == 3
    assert sample(text, "socketio_connected_sockets", namespace="/monitor") == 0
    assert sample(text, "hall_waiting_students") == 1
    assert sample(text, "hall_calls_in_progress", state="called") == 1
    assert sample(text, "hall_calls_in_progress", state="in_call") == 0
    assert sample(text, "hall_call_next_seconds_count") == 1
    assert sample(text, "outbox_pending_mails") >= 2
    assert sample(text, "outbox_oldest_pending_age_seconds") == 30
    assert sample(text, "event_loop_lag_seconds") is not None
    # request latency by route name: the booth page by its name, never its raw path
    assert sample(text, "http_request_duration_seconds_count", route="hall_booth",
                  method="GET") == 1
    # a route without a name of its own (a form's POST) is labelled with its pattern
    assert sample(text, "http_request_duration_seconds_count", route="/login/student",
                  method="POST") == 2
    assert f"/hall/booths/{hall['session_id']}" not in text, text


async def test_metrics_refused_from_a_foreign_address(aiohttp_client, settings, clock, world):
    async def client(**changes) -> FormClient:  # noqa: ANN003
        app = create_app(dataclasses.replace(settings, **changes), clock=clock)
        return FormClient(await aiohttp_client(app))
    # the test client is 127.0.0.1: here a trusted proxy, forwarding a foreign client
    behind = await client(trusted_proxies=("127.0.0.1",))
    assert (await behind.get("/metrics")).status == 200
    refused = await behind.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert refused.status == 404 and "hall_waiting_students" not in await refused.text()
    assert (await behind.get("/metrics", headers={"X-Forwarded-For": "::1"})).status == 200
    # an untrusted peer cannot forge its way in, nor is a peer outside METRICS_ALLOW let in
    narrow = await client(metrics_allow=("203.0.113.0/24",))
    assert (await narrow.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})).status == 404


async def test_readyz_checks_the_database_and_redis(aiohttp_client, settings, clock, world):
    async def ready(redis_url: str):  # noqa: ANN202
        app = create_app(dataclasses.replace(settings, redis_url=redis_url), clock=clock)
        resp = await (await aiohttp_client(app)).get("/readyz")
        return resp.status, await resp.json()
    assert await ready("") == (200, {"ok": True, "checked": ["database"]})
    channel = f"readyz-{uuid.uuid4().hex[:8]}"
    assert await ready(f"redis://127.0.0.1:6379/0?channel={channel}") == (
        200, {"ok": True, "checked": ["database", "redis"]})
    status, body = await ready(f"redis://127.0.0.1:1/0?channel={channel}")
    assert status == 503 and body["ok"] is False and list(body["reason"]) == ["redis"]


async def test_request_labels_are_bounded_whatever_the_method(client):
    """The HTTP parser knows some thirty methods (WebDAV's among them): the labels name the
    usual seven and count the rest as one, so the per-label cache stays small."""
    for method in ("PROPFIND", "MKCOL", "LOCK"):
        assert (await client.client.request(method, "/jobs")).status == 405
    text = await (await client.get("/metrics")).text()
    assert sample(text, "http_request_duration_seconds_count", route="unmatched", method="OTHER") == 3
    assert "PROPFIND" not in text and "MKCOL" not in text
