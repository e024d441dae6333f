"""大厅监控 with real socket.io clients over a real server: booth changes, call quality,
alerts, scope (a school admin sees only its own students), refusals, and the actions
(notice, close a booth, remove a participant) reaching the people in the hall."""

import json

import pytest
import socketio
import sqlalchemy as sa

from app.clock import CHINA
from app.db import Database
from app.tables import audit_log, call_quality, hall_tickets
from rtc.setup import MONITOR, sweep_once
from tests.factories import PASSWORD
from tests.hall_kit import build_hall, connect, cookie_of, with_everyone
from tests.test_page_cache import redis_settings

GOOD = {"rtt_ms": 40, "loss": 0.0, "out_kbps": 900, "in_kbps": 850, "fps": 30, "width": 640,
        "height": 480, "relay": False}
POOR = {**GOOD, "rtt_ms": 900, "loss": 0.2, "relay": True}


@pytest.fixture
async def hall(world, settings, clock, make_client, sockets):
    """Students 0 and 2 are of school 0, student 1 of school 1 (tests/hall_kit.py)."""
    return await with_everyone(await build_hall(world, settings, clock), make_client, sockets)


def names_in(client) -> str:
    return json.dumps(client.events.seen, ensure_ascii=False)


async def test_only_admins_connect_to_the_monitor(hall):
    for key in ("s0", "employer", "counselor"):
        with pytest.raises(socketio.exceptions.ConnectionError):
            await hall["sock"](key, "/monitor")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect(hall["base"], None, namespace="/monitor")
    with pytest.raises(socketio.exceptions.ConnectionError):  # a page of another site
        await connect(hall["base"], cookie_of(hall["http"]["platform"]), origin="https://evil.example",
                      namespace="/monitor")
    for key in ("platform", "school0"):
        admin = await hall["sock"](key, "/monitor")
        snap = await admin.call("refresh", {})
        assert [b["session_id"] for b in snap["booths"]] == [hall["session_id"]]


async def test_booth_changes_reach_the_monitor(hall, clock):
    admin = await hall["sock"]("platform", "/monitor")
    snap = await admin.call("refresh", {})
    booth = snap["booths"][0]
    assert booth["counts"] == {"present": 0, "waiting": 0, "late": 0, "no_show": 0, "done": 0}
    assert booth["interviewers"] == [] and booth["employer"] == "测试科技有限公司"
    emp = await hall["sock"]("employer")
    await emp.call("watch", {"session_id": hall["session_id"]})
    await admin.events.wait("booth", lambda b: b["interviewers"] == ["测试科技有限公司"])
    s0 = await hall["sock"]("s0")
    joined = await s0.call("join", {"interview_id": hall["interview_ids"][0]})
    b = await admin.events.wait("booth", lambda b: b["counts"]["waiting"] == 1)
    assert b["waiting"][0]["ticket_id"] == joined["ticket_id"]
    assert b["longest_wait_since"] == clock.now().isoformat()
    await emp.call("call_next", {"session_id": hall["session_id"]})
    await s0.events.wait("called")
    await s0.call("answer", {"ticket_id": joined["ticket_id"]})
    b = await admin.events.wait("booth", lambda b: b["call"] and b["call"]["status"] == "in_call")
    assert b["call"]["name"] == hall["students"][0].name and b["counts"]["present"] == 1
    # the employer's tab closes: the monitor sees the booth unattended
    await emp.sio.disconnect()
    await admin.events.wait("booth", lambda b: b["interviewers"] == [])
    # a monitor that (re)connects later rebuilds the same view from the database
    again = await hall["sock"]("platform", "/monitor")
    snap = await again.call("refresh", {})
    assert snap["booths"][0]["call"]["ticket_id"] == joined["ticket_id"]


async def test_call_quality_reaches_the_monitor_and_is_kept(hall, clock, settings):
    admin = await hall["sock"]("platform", "/monitor")
    await admin.call("refresh", {})
    emp, s0 = await hall["sock"]("employer"), await hall["sock"]("s0")
    await emp.call("watch", {"session_id": hall["session_id"]})
    t = (await s0.call("join", {"interview_id": hall["interview_ids"][0]}))["ticket_id"]
    # no figures for a call one is not in
    assert (await s0.call("quality", {"ticket_id": t, **GOOD}))["ok"] is False
    await emp.call("call_next", {"session_id": hall["session_id"]})
    await s0.call("answer", {"ticket_id": t})
    ack = await s0.call("quality", {"ticket_id": t, **GOOD})
    assert ack == {"ok": True, "kept": True, "verdict": "good"}
    q = await admin.events.wait("quality", lambda q: q["side"] == "student")
    assert (q["rtt_ms"], q["out_kbps"], q["fps"], q["resolution"], q["path"]) == (40, 900, 30.0, "640×480", "直连")
    # bad figures are refused whole
    bad = await s0.call("quality", {"ticket_id": t, **GOOD, "loss": 3})
    assert bad["ok"] is False
    # a page that sends too often is ignored until the gap has passed
    assert (await emp.call("quality", {"ticket_id": t, **POOR}))["kept"] is True
    assert (await emp.call("quality", {"ticket_id": t, **POOR}))["kept"] is False
    q = await admin.events.wait("quality", lambda q: q["side"] == "employer")
    assert q["verdict"] == "poor" and q["path"] == "中继"
    # poor for over a minute: an alert
    for _ in range(3):  # the browser sends every 5 s; here every 20 s, still one poor stretch
        clock.advance(seconds=20)
        await emp.call("quality", {"ticket_id": t, **POOR})
    b = await admin.events.wait("booth", lambda b: any(a["kind"] == "poor_call" for a in b["alerts"]))
    assert b["call"]["quality"]["employer"]["verdict"] == "poor"
    clock.advance(seconds=5)
    await emp.call("quality", {"ticket_id": t, **GOOD})
    await admin.events.wait("booth", lambda b: not any(a["kind"] == "poor_call" for a in b["alerts"]))
    await emp.call("finish", {"ticket_id": t, "outcome": "通过"})
    db = Database(settings.database_url)
    async with db.read() as conn:
        rows = {r.side: r for r in await conn.execute(sa.select(call_quality).where(
            call_quality.c.ticket_id == t))}
    await db.dispose()
    assert set(rows) == {"student", "employer"}
    emp_row = rows["employer"]
    assert emp_row.samples == 5 and emp_row.poor_samples == 4 and emp_row.poor_seconds == pytest.approx(60)
    assert emp_row.rtt_max == 900 and emp_row.relay_samples == 4 and emp_row.poor_since is None
    assert rows["student"].samples == 1 and rows["student"].verdict == "good"
    # after the call, no more figures are taken
    assert (await s0.call("quality", {"ticket_id": t, **GOOD}))["ok"] is False


async def test_a_school_admin_sees_only_its_own_students(hall):
    s0_name, s1_name = hall["students"][0].name, hall["students"][1].name
    school0 = await hall["sock"]("school0", "/monitor")
    school1 = await hall["sock"]("school1", "/monitor")
    platform = await hall["sock"]("platform", "/monitor")
    for admin in (school0, school1, platform):
        await admin.call("refresh", {})
    s0, s1 = await hall["sock"]("s0"), await hall["sock"]("s1")
    t0 = (await s0.call("join", {"interview_id": hall["interview_ids"][0]}))["ticket_id"]
    t1 = (await s1.call("join", {"interview_id": hall["interview_ids"][1]}))["ticket_id"]
    await platform.events.wait("booth", lambda b: b["counts"]["waiting"] == 2)
    b0 = await school0.events.wait("booth", lambda b: [w["ticket_id"] for w in b["waiting"]] == [t0])
    b1 = await school1.events.wait("booth", lambda b: [w["ticket_id"] for w in b["waiting"]] == [t1])
    assert b0["counts"]["waiting"] == 1 and b1["counts"]["waiting"] == 1
    emp = await hall["sock"]("employer")
    await emp.call("watch", {"session_id": hall["session_id"]})
    await emp.call("call_next", {"session_id": hall["session_id"]})
    await s0.call("answer", {"ticket_id": t0})
    await s0.call("quality", {"ticket_id": t0, **GOOD})
    await platform.events.wait("quality", lambda q: q["ticket_id"] == t0)
    await school0.events.wait("quality", lambda q: q["ticket_id"] == t0)
    # the answer may reach the monitor in a later summary than the call (its 0.25 s flush)
    other = await school1.events.wait("booth", lambda b: b["call"] is not None
                                      and b["call"]["status"] == "in_call")
    assert other["call"] == {"status": "in_call", "started_at": other["call"]["started_at"],
                             "other_school": True}
    snap1 = await school1.call("refresh", {})
    await emp.call("finish", {"ticket_id": t0, "outcome": "通过"})
    await school0.events.wait("booth", lambda b: b["counts"]["done"] == 1)
    await school1.events.wait("booth", lambda b: b["call"] is None)
    assert s0_name not in names_in(school1) and s0_name not in json.dumps(snap1, ensure_ascii=False)
    assert s1_name not in names_in(school0)
    assert not [e for e, d in school1.events.seen if e == "quality"]
    assert s0_name in names_in(platform) and s1_name in names_in(platform)


async def test_alerts_long_wait_absent_employer_and_no_shows(hall, clock, settings):
    admin = await hall["sock"]("platform", "/monitor")
    await admin.call("refresh", {})
    socks = [await hall["sock"](f"s{i}") for i in range(3)]
    tickets = [(await s.call("join", {"interview_id": hall["interview_ids"][i]}))["ticket_id"]
               for i, s in enumerate(socks[:2])]
    await admin.events.wait("booth", lambda b: b["counts"]["waiting"] == 2)
    # the first slot passes with nobody of the employer in the room
    clock.advance(seconds=90)
    assert await hall["app"][MONITOR].tick() >= 1
    tickets.append((await socks[2].call("join", {"interview_id": hall["interview_ids"][2]}))["ticket_id"])
    b = await admin.events.wait("booth", lambda b: any(a["kind"] == "employer_absent" for a in b["alerts"]))
    assert "面试官不在面试间" in next(a["text"] for a in b["alerts"] if a["kind"] == "employer_absent")
    # waits far beyond the promise (the first was promised no wait at all)
    clock.advance(minutes=11)
    await hall["app"][MONITOR].tick()
    b = await admin.events.wait("booth", lambda b: any(a["kind"] == "wait_overdue" for a in b["alerts"]))
    overdue = {a["ticket_id"] for a in b["alerts"] if a["kind"] == "wait_overdue"}
    # promised no wait, 5 and 10 minutes: only the first is far over after 12.5 minutes
    assert overdue == {tickets[0]}
    # three called students miss their call
    emp = await hall["sock"]("employer")
    await emp.call("watch", {"session_id": hall["session_id"]})
    for t in tickets:
        await emp.call("call_next", {"session_id": hall["session_id"]})
        await emp.call("skip", {"session_id": hall["session_id"], "ticket_id": t})
    b = await admin.events.wait("booth", lambda b: any(a["kind"] == "no_show_rate" for a in b["alerts"]))
    assert b["counts"]["no_show"] == 3 and not any(a["kind"] == "employer_absent" for a in b["alerts"])


async def test_a_notice_reaches_waiters_in_the_scope_and_survives_a_reload(hall, clock):
    s0, s1 = await hall["sock"]("s0"), await hall["sock"]("s1")
    await s0.call("join", {"interview_id": hall["interview_ids"][0]})
    await s1.call("join", {"interview_id": hall["interview_ids"][1]})
    emp = await hall["sock"]("employer")
    await emp.call("watch", {"session_id": hall["session_id"]})
    watcher = await hall["sock"]("platform", "/monitor")
    admin = hall["http"]["school0"]
    # refused: empty, too long, a booth that is not in the school's scope
    resp = await admin.post("/monitor/notices", {"body": "  "}, headers={"Accept": "application/json"})
    assert resp.status == 400 and (await resp.json())["field"] == "body"
    resp = await admin.post("/monitor/notices", {"body": "长" * 501})
    assert resp.status == 400 and "不能超过500字" in await resp.text() and "长" * 501 in await resp.text()
    resp = await admin.post("/monitor/notices", {"body": "好", "session_id": "999"},
                            headers={"Accept": "application/json"})
    assert (await resp.json())["error"] == "无权向该面试间发布通知"
    resp = await admin.post("/monitor/notices", {"body": "14:00 起网络维护，请勿刷新页面",
                                                 "session_id": ""})
    assert resp.status == 303
    n = await s0.events.wait("hall_notice")
    assert n["body"] == "14:00 起网络维护，请勿刷新页面"
    page = await (await admin.get("/monitor")).text()  # listed in China time, not UTC
    local = clock.now().astimezone(CHINA).strftime("%H:%M")
    assert f"14:00 起网络维护，请勿刷新页面 <time>{local}</time>" in page
    await emp.events.wait("hall_notice", lambda x: x["id"] == n["id"])
    await watcher.events.wait("notice", lambda x: x["id"] == n["id"])
    # the school's notice does not reach another school's student
    resp = await hall["http"]["platform"].post("/monitor/notices", {
        "body": "全体注意", "session_id": str(hall["session_id"])})
    assert resp.status == 303
    await s1.events.wait("hall_notice", lambda x: x["body"] == "全体注意")
    assert not [d for e, d in s1.events.seen if e == "hall_notice" and d["id"] == n["id"]]
    # a reconnecting student sees today's notices again
    await s0.sio.disconnect()
    back = await hall["sock"]("s0")
    await back.events.wait("hall_notice", lambda x: x["id"] == n["id"])


async def test_close_a_booth_and_remove_a_participant(hall, settings, clock):
    clock.advance(seconds=90)  # the third slot's hall is open too
    s0, s1, s2 = [await hall["sock"](f"s{i}") for i in range(3)]
    t = [(await s.call("join", {"interview_id": hall["interview_ids"][i]}))["ticket_id"]
         for i, s in enumerate((s0, s1, s2))]
    emp = await hall["sock"]("employer")
    await emp.call("watch", {"session_id": hall["session_id"]})
    school1 = hall["http"]["school1"]
    # a school admin cannot take out another school's student; a reason is required
    resp = await school1.post(f"/monitor/tickets/{t[0]}/remove", {"reason": "重复排队"},
                              headers={"Accept": "application/json"})
    assert resp.status == 400 and (await resp.json())["error"] == "无权操作该学生"
    resp = await school1.post(f"/monitor/tickets/{t[1]}/remove", {"reason": ""},
                              headers={"Accept": "application/json"})
    assert (await resp.json())["field"] == "reason"
    resp = await school1.post(f"/monitor/tickets/{t[1]}/remove", {"reason": "冒用他人账号"})
    assert resp.status == 303
    out = await s1.events.wait("taken_out")
    assert out == {"ticket_id": t[1], "session_id": hall["session_id"], "kind": "removed",
                   "reason": "冒用他人账号"}
    again = await s1.call("join", {"interview_id": hall["interview_ids"][1]})
    assert again == {"ok": False, "error": "你已被管理员移出该面试间：冒用他人账号"}
    # s0 is in a call when the platform closes the booth
    await emp.call("call_next", {"session_id": hall["session_id"]})
    await s0.call("answer", {"ticket_id": t[0]})
    resp = await hall["http"]["platform"].post(f"/monitor/booths/{hall['session_id']}/close",
                                               {"reason": "单位资质存疑"})
    assert resp.status == 303
    for sock, ticket in ((s0, t[0]), (s2, t[2])):
        got = await sock.events.wait("taken_out")
        assert got["kind"] == "closed" and got["ticket_id"] == ticket and got["reason"] == "单位资质存疑"
    await s0.events.wait("call_ended", lambda d: d["ticket_id"] == t[0])
    await emp.events.wait("booth_closed", lambda d: d["reason"] == "单位资质存疑")
    refused = await emp.call("call_next", {"session_id": hall["session_id"]})
    assert refused == {"ok": False, "error": "该面试间已被管理员关闭：单位资质存疑"}
    resp = await hall["http"]["platform"].post(f"/monitor/booths/{hall['session_id']}/close",
                                               {"reason": "再关一次"}, headers={"Accept": "application/json"})
    assert (await resp.json())["error"] == "该面试间已经结束或关闭"
    db = Database(settings.database_url)
    async with db.read() as conn:
        states = dict((await conn.execute(sa.select(hall_tickets.c.id, hall_tickets.c.status))).all())
        audits = [(r.action, r.entity_id, r.reason) for r in await conn.execute(
            sa.select(audit_log).where(audit_log.c.action.like("hall.%")).order_by(audit_log.c.id))]
    await db.dispose()
    assert states == {t[0]: "closed", t[1]: "removed", t[2]: "closed"}
    assert audits == [("hall.remove", str(t[1]), "冒用他人账号"),
                      ("hall.close_booth", str(hall["session_id"]), "单位资质存疑")]


async def test_a_school_admin_closes_only_its_own_students_out_of_a_booth(hall, settings, clock):
    """Students 0 and 2 are of school 0, student 1 of school 1. School 0's admin "closes" the
    booth: its own students are taken out with its reason; the booth stays open and school
    1's student keeps the place, untold. The platform admin then closes the whole booth."""
    from app.tables import notices
    clock.advance(seconds=90)  # the third slot's hall is open too
    s0, s1, s2 = [await hall["sock"](f"s{i}") for i in range(3)]
    t = [(await s.call("join", {"interview_id": hall["interview_ids"][i]}))["ticket_id"]
         for i, s in enumerate((s0, s1, s2))]
    emp = await hall["sock"]("employer")
    await emp.call("watch", {"session_id": hall["session_id"]})
    resp = await hall["http"]["school0"].post(f"/monitor/booths/{hall['session_id']}/close",
                                              {"reason": "本校暂停参加"})
    assert resp.status == 303
    for sock, ticket in ((s0, t[0]), (s2, t[2])):
        got = await sock.events.wait("taken_out")
        assert got["kind"] == "closed" and got["ticket_id"] == ticket and got["reason"] == "本校暂停参加"
    booth = await emp.events.wait("booth", lambda b: [w["ticket_id"] for w in b["waiting"]] == [t[1]])
    assert booth["status"] != "closed"
    called = await emp.call("call_next", {"session_id": hall["session_id"]})  # the booth goes on
    assert called == {"ok": True, "ticket_id": t[1]}
    await s1.events.wait("called", lambda d: d["ticket_id"] == t[1])
    assert not [e for e, _ in s1.events.seen if e == "taken_out"]
    assert not [e for e, _ in emp.events.seen if e == "booth_closed"]
    db = Database(settings.database_url)
    async with db.read() as conn:
        states = dict((await conn.execute(sa.select(hall_tickets.c.id, hall_tickets.c.status))).all())
        told = list((await conn.execute(sa.select(notices.c.title).where(
            notices.c.account_id == hall["students"][1].account_id))).scalars())
    assert states == {t[0]: "closed", t[1]: "called", t[2]: "closed"}
    assert not [title for title in told if "本校暂停参加" in title]
    # the platform admin closes the booth: school 1's student is out too, with that reason
    resp = await hall["http"]["platform"].post(f"/monitor/booths/{hall['session_id']}/close",
                                               {"reason": "单位资质存疑"})
    assert resp.status == 303
    got = await s1.events.wait("taken_out")
    assert got["ticket_id"] == t[1] and got["reason"] == "单位资质存疑"
    await emp.events.wait("booth_closed", lambda d: d["reason"] == "单位资质存疑")
    async with db.read() as conn:
        states = dict((await conn.execute(sa.select(hall_tickets.c.id, hall_tickets.c.status))).all())
    await db.dispose()
    assert states == {t[0]: "closed", t[1]: "closed", t[2]: "closed"}


async def test_out_of_range_ids_are_not_found(hall):
    platform = hall["http"]["platform"]
    for path in ("/monitor/booths/99999999999/close", "/monitor/tickets/99999999999/remove"):
        resp = await platform.post(path, {"reason": "测试"})
        assert resp.status == 404, path
    assert (await platform.get("/monitor/reports/99999999999")).status == 404
    resp = await platform.post("/monitor/notices", {"session_id": "99999999999", "body": "通知"},
                               headers={"Accept": "application/json"})
    assert resp.status == 400 and (await resp.json())["field"] == "session_id"


async def test_restart_keeps_the_monitor_view(hall, settings, clock, aiohttp_client):
    """Presence and queue come from the database: a second app (a restart or another
    process) shows the same booth."""
    from app.web import create_app
    from tests.conftest import FormClient
    s0 = await hall["sock"]("s0")
    await s0.call("join", {"interview_id": hall["interview_ids"][0]})
    other = FormClient(await aiohttp_client(create_app(settings, clock=clock)))
    await other.login("staff", "platform", PASSWORD)
    sock = await connect(str(other.client.make_url("/")), cookie_of(other), namespace="/monitor")
    try:
        snap = await sock.call("refresh", {})
        assert snap["booths"][0]["counts"]["waiting"] == 1
        assert snap["booths"][0]["waiting"][0]["name"] == hall["students"][0].name
    finally:
        await sock.sio.disconnect()
    await sweep_once(hall["app"])


async def test_a_dead_process_watchers_expire(hall, settings, clock):
    """A watcher row whose process died (nobody refreshes it) stops counting after 30 s;
    this process's own watchers are refreshed by its sweeper and stay."""
    from app.tables import hall_watchers, interview_sessions
    emp = await hall["sock"]("employer")
    await emp.call("watch", {"session_id": hall["session_id"]})
    db = Database(settings.database_url)
    async with db.write() as conn:
        await conn.execute(hall_watchers.insert().values(
            sid="gone-process-sid", session_id=hall["session_id"], account_id=hall["students"][0].account_id,
            name="另一进程的面试官", seen_at=clock.now()))
    admin = await hall["sock"]("platform", "/monitor")
    snap = await admin.call("refresh", {})
    assert snap["booths"][0]["interviewers"] == ["另一进程的面试官", "测试科技有限公司"]
    clock.advance(seconds=31)
    await sweep_once(hall["app"])
    await admin.events.wait("booth", lambda b: b["interviewers"] == ["测试科技有限公司"])
    await emp.sio.disconnect()
    await admin.events.wait("booth", lambda b: b["interviewers"] == [])
    async with db.read() as conn:
        present = (await conn.execute(sa.select(interview_sessions.c.employer_present))).scalar_one()
    await db.dispose()
    assert present is False


async def test_a_change_during_a_publish_is_not_left_behind(app):
    """A booth marked while the previous flush is publishing goes out by itself, without
    waiting for another change or the ticker."""
    import asyncio
    from rtc.monitor_feed import MonitorNamespace
    feed = MonitorNamespace(app)
    calls, started, release = [], asyncio.Event(), asyncio.Event()

    async def publish(ids, **kw):  # noqa: ANN001, ANN003, ANN202
        calls.append(ids)
        started.set()
        await release.wait()
        return 0
    feed.publish = publish
    feed.changed(1)
    await asyncio.wait_for(started.wait(), 5)
    feed.changed(2)
    release.set()
    await asyncio.wait_for(feed._flush, 5)
    assert calls == [[1], [2]]


async def test_two_processes_share_the_monitor_through_redis(world, settings, clock, aiohttp_client):
    """With REDIS_URL, a change made in one process reaches an admin connected to another
    (two apps here, each with its own socket.io server and Redis manager)."""
    from app.web import create_app
    from tests.conftest import FormClient
    shared = await redis_settings(settings)  # a channel of its own: runs never hear each other
    data = await build_hall(world, settings, clock)
    one = FormClient(await aiohttp_client(create_app(shared, clock=clock)))
    second = create_app(shared, clock=clock)

    async def no_tick() -> int:  # the update must come through Redis, not the second's ticker
        return 0
    second[MONITOR].tick = no_tick
    two = FormClient(await aiohttp_client(second))
    await one.login("student", data["students"][0].email, PASSWORD)
    await two.login("staff", "platform", PASSWORD)
    admin = await connect(str(two.client.make_url("/")), cookie_of(two), namespace="/monitor")
    student = await connect(str(one.client.make_url("/")), cookie_of(one))
    try:
        await admin.call("refresh", {})
        joined = await student.call("join", {"interview_id": data["interview_ids"][0]})
        b = await admin.events.wait("booth", lambda b: b["counts"]["waiting"] == 1)
        assert b["waiting"][0]["ticket_id"] == joined["ticket_id"]
    finally:
        await student.sio.disconnect()
        await admin.sio.disconnect()
