"""随到随面: when the employer allows walk-ins, a student who applied queues without a slot
and fills the gaps before students whose slot has not come."""

import pytest

from tests.factories import PASSWORD, PASSWORD_HASH
from tests.hall_kit import build_hall, connect, cookie_of


@pytest.fixture
async def booth(world, settings, clock, make_client, sockets):
    data = await build_hall(world, settings, clock, students=3, invited=2)
    clients = []
    for s in data["students"]:
        c = await make_client()
        await c.login("student", s.email, PASSWORD)
        clients.append(c)
    employer = await make_client()
    await employer.login("employer", "employer", PASSWORD)
    base = str(employer.client.make_url("/"))
    sockets.extend([await connect(base, cookie_of(c)) for c in clients + [employer]])
    data.update(sockets=sockets, http=clients)
    return data


async def test_walk_in_needs_permission_then_fills_the_gap(booth, clock):
    s0, s1, walker, emp = booth["sockets"]
    await emp.call("watch", {"session_id": booth["session_id"]})
    refused = await walker.call("walk_in", {"session_id": booth["session_id"]})
    assert refused == {"ok": False, "error": "该面试间目前不接受随到随面"}
    assert (await emp.call("set_walk_ins", {"session_id": booth["session_id"], "allow": True}))["allow"]
    t0 = (await s0.call("join", {"interview_id": booth["interview_ids"][0]}))["ticket_id"]
    joined = await walker.call("walk_in", {"session_id": booth["session_id"]})
    assert joined["ok"] and joined["interview_id"]
    # s0's slot is a minute away: the walk-in goes first
    view = await emp.events.wait("booth", lambda d: len(d["waiting"]) == 2)
    assert [w["ticket_id"] for w in view["waiting"]] == [joined["ticket_id"], t0]
    clock.advance(minutes=2)  # now s0's slot has come: s0 first
    await s1.call("join", {"interview_id": booth["interview_ids"][1]})
    view = await emp.events.wait("booth", lambda d: len(d["waiting"]) == 3)
    assert [w["ticket_id"] for w in view["waiting"]][0] == t0
    # the walk-in's visit shows in 我的面试 like any interview
    page = await (await booth["http"][2].get("/student/interviews")).text()
    assert "查看面试邀请" in page


async def test_walk_in_only_for_applicants(booth, world, settings, clock, make_client):
    from app.auth import service as accounts
    from app.db import Database
    *_, emp = booth["sockets"]
    await emp.call("watch", {"session_id": booth["session_id"]})
    await emp.call("set_walk_ins", {"session_id": booth["session_id"], "allow": True})
    outsider = world.inactive_student(1)  # never applied to this employer
    db = Database(settings.database_url)
    async with db.write() as conn:
        await accounts.activate(conn, record_id=outsider.record_id, email="outsider@test.example.cn",
                                phone="13900008888", password_hash=PASSWORD_HASH, now=clock.now())
    await db.dispose()
    c = await make_client()
    await c.login("student", "outsider@test.example.cn", PASSWORD)
    sock = await connect(str(c.client.make_url("/")), cookie_of(c))
    try:
        r = await sock.call("walk_in", {"session_id": booth["session_id"]})
        assert r == {"ok": False, "error": "随到随面仅对已投递该单位岗位的学生开放"}
    finally:
        await sock.sio.disconnect()
    assert (await emp.call("walk_in", {"session_id": booth["session_id"]}))["ok"] is False
    assert (await booth["sockets"][0].call("set_walk_ins", {"session_id": booth["session_id"],
                                                            "allow": False}))["ok"] is False
