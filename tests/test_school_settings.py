"""学校设置: a school admin changes the school's settings on one page; each change takes effect
at once (线上应约 暂未开启, a passed 登记截止, the hall's times for the school's students), is
audited, and is refused with messages next to the fields when wrong. Only that school's admin
(or a platform admin) may see or change it."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from app.clock import CHINA, ManualClock, china_date
from app.db import Database
from app.school_settings import service as school_settings
from app.school_settings.tables import school_settings as ss_table
from app.signing.tables import agreements
from app.tables import audit_log, hall_tickets
from rtc.setup import sweep_once
from tests.conftest import count, field_error, form_error
from tests.hall_kit import build_hall, with_everyone
from tests.registration_helpers import ready_student
from tests.signing_kit import as_user, invite_form

# Every field of the form as the page posts it with nothing changed from the defaults.
BLANK = {"online_signing": "1", "termination_opens": "", "termination_closes": "",
         "registration_deadline": "", "hall_open_minutes": "", "hall_answer_grace_seconds": "",
         "hall_waiter_grace_seconds": ""}


@pytest.fixture
def clock() -> ManualClock:
    """June of the graduation year (2026, tests/factories.py): before the default deadline."""
    return ManualClock(dt.datetime(2026, 6, 1, 1, 0, tzinfo=dt.timezone.utc))


def settings_url(world, school: int = 0) -> str:  # noqa: ANN001
    return f"/schools/{world.schools[school].id}/settings"


async def settings_audit(database_url: str) -> list[sa.Row]:
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return list(await conn.execute(sa.select(audit_log).where(
                audit_log.c.action == "school_settings.change").order_by(audit_log.c.id)))
    finally:
        await db.dispose()


async def test_switching_off_online_signing_shows_暂未开启_at_once_and_is_audited(
        make_client, world, settings, clock):
    await ready_student(settings.database_url, world, clock.now())
    student = await as_user(make_client, "student", world.active_student().email)
    assert 'id="online-closed"' not in await (await student.get("/student/signing")).text()

    admin = await as_user(make_client, "staff", "school_admin0")
    centre = await (await admin.get("/school")).text()
    assert f'href="{settings_url(world)}"' in centre and 'href="/audit"' in centre
    page = await (await admin.get(settings_url(world))).text()
    assert 'name="online_signing" value="1" checked' in page
    resp = await admin.post(settings_url(world), {**BLANK, "online_signing": ""})
    assert resp.status == 303
    assert "设置已保存" in await (await admin.get(resp.headers["Location"])).text()

    assert 'id="online-closed">暂未开启' in await (await student.get("/student/signing")).text()
    employer = await as_user(make_client, "employer", "employer")
    await employer.get("/employer/agreements/new")
    until = (china_date(clock.now()) + dt.timedelta(days=7)).isoformat()
    refused = await employer.post("/employer/agreements/new", invite_form(world, valid_until=until))
    assert refused.status == 400 and "暂未开启线上签约" in field_error(await refused.text(), "school_id")
    assert await count(settings.database_url, agreements) == 0

    rows = await settings_audit(settings.database_url)
    assert [(r.actor_id, r.school_id, r.detail) for r in rows] == [
        (world.staff["school_admin0"][1], world.schools[0].id, {"online_signing": [True, False]})]
    # saving the same values again changes nothing and writes no second row
    assert (await admin.post(settings_url(world), {**BLANK, "online_signing": ""})).status == 303
    assert len(await settings_audit(settings.database_url)) == 1


async def test_a_passed_registration_deadline_closes_the_students_page(
        make_client, world, settings, clock):
    student = await ready_student(settings.database_url, world, clock.now())
    s = await as_user(make_client, "student", student.email)
    assert "截止，如需登记" not in await (await s.get("/student/registration")).text()
    yesterday = china_date(clock.now()) - dt.timedelta(days=1)
    admin = await as_user(make_client, "staff", "school_admin0")
    await admin.get(settings_url(world))
    resp = await admin.post(settings_url(world), {**BLANK, "registration_deadline": yesterday.isoformat()})
    assert resp.status == 303
    page = await (await s.get("/student/registration")).text()
    assert f"就业信息登记已于 {yesterday:%Y年%m月%d日} 截止" in page
    assert (await s.get("/student/registration/form")).status == 303
    # 截止后重新开放登记 on the same page lets the student in again
    resp = await admin.post(settings_url(world), {**BLANK, "registration_deadline": yesterday.isoformat(),
                                                  "registration_reopened": "1"})
    assert resp.status == 303
    assert f"已于 {yesterday:%Y年%m月%d日} 截止" not in await (await s.get("/student/registration")).text()
    details = [r.detail for r in await settings_audit(settings.database_url)]
    assert details == [{"registration_deadline": [None, yesterday.isoformat()]},
                       {"registration_reopened": [False, True]}]


async def test_the_termination_window_set_here_is_the_one_the_queue_shows(
        make_client, world, settings, clock):
    admin = await as_user(make_client, "staff", "school_admin0")
    await admin.get(settings_url(world))
    resp = await admin.post(settings_url(world), {**BLANK, "termination_opens": "2026-07-01",
                                                  "termination_closes": "2026-07-31"})
    assert resp.status == 303
    queue = await (await admin.get("/reviews/terminations")).text()
    assert "2026-07-01 至 2026-07-31" in queue
    db = Database(settings.database_url)
    try:
        async with db.read() as conn:
            current = await school_settings.load(conn, world.schools[0].id)
    finally:
        await db.dispose()
    assert not current.termination_open(china_date(clock.now()))  # 1 June: not yet open


async def test_wrong_values_are_refused_next_to_their_fields_and_nothing_is_written(
        make_client, world, settings, clock):
    admin = await as_user(make_client, "staff", "school_admin0")
    await admin.get(settings_url(world))
    resp = await admin.post(settings_url(world), {
        **BLANK, "online_signing": "", "termination_opens": "2026-07-10",
        "termination_closes": "2026-07-01", "registration_deadline": "8月31日",
        "hall_open_minutes": "abc", "hall_answer_grace_seconds": "5",
        "hall_waiter_grace_seconds": "99999"})
    html = await resp.text()
    assert resp.status == 400
    assert field_error(html, "termination_closes") == "截止日期不能早于开放日期"
    assert "年-月-日" in field_error(html, "registration_deadline")
    assert "0–120" in field_error(html, "hall_open_minutes")
    assert "10–600" in field_error(html, "hall_answer_grace_seconds")
    assert "10–1800" in field_error(html, "hall_waiter_grace_seconds")
    assert "未保存" in form_error(html)
    # what was typed stays, the unticked box stays unticked
    for typed in ('value="8月31日"', 'value="abc"', 'value="5"', 'value="99999"', 'value="2026-07-10"'):
        assert typed in html
    assert 'name="online_signing" value="1" checked' not in html
    assert await count(settings.database_url, ss_table) == 0
    assert await settings_audit(settings.database_url) == []
    # a bad date and an overlong value are refused the same way
    resp = await admin.post(settings_url(world), {**BLANK, "termination_opens": "2026-02-30",
                                                  "hall_open_minutes": "1" * 50})
    html = await resp.text()
    assert resp.status == 400 and "年-月-日" in field_error(html, "termination_opens")
    assert field_error(html, "hall_open_minutes") == "内容过长"
    assert await count(settings.database_url, ss_table) == 0


async def test_only_that_schools_admin_or_a_platform_admin_may_see_or_change_it(
        make_client, world, settings, clock):
    other = settings_url(world, 1)
    admin0 = await as_user(make_client, "staff", "school_admin0")
    assert (await admin0.get(other)).status == 404
    assert (await admin0.post(other, {**BLANK, "online_signing": ""})).status == 404
    assert (await admin0.get("/schools/999999/settings")).status == 404
    index = await admin0.get("/schools/settings")
    assert index.status == 303 and index.headers["Location"] == settings_url(world)
    for kind, account in (("staff", "counselor0"), ("student", world.active_student().email),
                          ("employer", "employer")):
        c = await as_user(make_client, kind, account)
        assert (await c.get(settings_url(world))).status == 403, kind
        assert (await c.post(settings_url(world), {**BLANK, "online_signing": ""})).status == 403, kind
    assert await count(settings.database_url, ss_table) == 0

    # the platform admin may change any school's; the change shows in that school's log only
    platform = await as_user(make_client, "staff", "platform")
    listing = await (await platform.get("/schools/settings")).text()
    assert settings_url(world, 0) in listing and other in listing
    assert (await platform.post(other, {**BLANK, "hall_open_minutes": "15"})).status == 303
    rows = await settings_audit(settings.database_url)
    assert [(r.actor_id, r.school_id, r.detail) for r in rows] == [
        (world.staff["platform"][1], world.schools[1].id, {"hall_open_minutes": [None, 15]})]
    admin1 = await as_user(make_client, "staff", "school_admin1")
    log1 = await (await admin1.get("/audit?action=school_settings.change")).text()
    assert f'data-id="{rows[0].id}"' in log1
    log0 = await (await admin0.get("/audit?action=school_settings.change")).text()
    assert f'data-id="{rows[0].id}"' not in log0 and "没有符合条件的记录" in log0


async def set_hall(database_url: str, school_id: int, now: dt.datetime, **values: int) -> None:
    db = Database(database_url)
    try:
        async with db.write() as conn:
            await school_settings.change(conn, school_id, actor_id=None, at=now, **values)
    finally:
        await db.dispose()


@pytest.fixture
async def hall(world, settings, clock, make_client, sockets):  # noqa: ANN001, ANN201
    """Three invited students: s0 and s2 of school 0, s1 of school 1 (tests/hall_kit.py)."""
    return await with_everyone(await build_hall(world, settings, clock), make_client, sockets)


async def test_the_hall_holds_each_student_to_their_own_schools_answer_time(hall, world, settings, clock):
    """School 0 gives 30 s to answer; school 1 keeps the global 60 s. The booth calls s0,
    who does not answer: after 31 s s0 is 未到 and s1 is called with 60 s."""
    await set_hall(settings.database_url, world.schools[0].id, clock.now(), hall_answer_grace_seconds=30)
    s0, s1, emp = await hall["sock"]("s0"), await hall["sock"]("s1"), await hall["sock"]("employer")
    await emp.call("watch", {"session_id": hall["session_id"]})
    t0 = (await s0.call("join", {"interview_id": hall["interview_ids"][0]}))["ticket_id"]
    t1 = (await s1.call("join", {"interview_id": hall["interview_ids"][1]}))["ticket_id"]
    assert (await emp.call("call_next", {"session_id": hall["session_id"]}))["ticket_id"] == t0
    called = await s0.events.wait("called", lambda d: d["ticket_id"] == t0)
    assert called["answer_seconds"] == 30
    clock.advance(seconds=31)  # past school 0's 30 s, well within the global 60 s
    await sweep_once(hall["app"])
    called = await s1.events.wait("called", lambda d: d["ticket_id"] == t1)
    assert called["answer_seconds"] == settings.hall_answer_grace_seconds == 60
    booth = await emp.events.wait("booth", lambda d: d["no_show"])
    assert [n["ticket_id"] for n in booth["no_show"]] == [t0]


async def test_a_dropped_waiter_keeps_the_place_for_their_schools_grace(hall, world, settings, clock):
    """School 1 keeps a dropped waiter's place 600 s; school 0 the global 120 s."""
    await set_hall(settings.database_url, world.schools[1].id, clock.now(), hall_waiter_grace_seconds=600)
    s0, s1, emp = await hall["sock"]("s0"), await hall["sock"]("s1"), await hall["sock"]("employer")
    await emp.call("watch", {"session_id": hall["session_id"]})
    t0 = (await s0.call("join", {"interview_id": hall["interview_ids"][0]}))["ticket_id"]
    t1 = (await s1.call("join", {"interview_id": hall["interview_ids"][1]}))["ticket_id"]
    await s0.sio.disconnect()
    await s1.sio.disconnect()
    await emp.events.wait("booth", lambda d: len(d["waiting"]) == 2
                          and not any(w["connected"] for w in d["waiting"]))
    clock.advance(seconds=settings.hall_waiter_grace_seconds + 1)
    emp.events.clear()
    await sweep_once(hall["app"])
    booth = await emp.events.wait("booth", lambda d: len(d["waiting"]) == 1)
    assert [w["ticket_id"] for w in booth["waiting"]] == [t1]
    db = Database(settings.database_url)
    try:
        async with db.read() as conn:
            states = dict((await conn.execute(sa.select(hall_tickets.c.id, hall_tickets.c.status)
                                              .where(hall_tickets.c.id.in_([t0, t1])))).all())
    finally:
        await db.dispose()
    assert states == {t0: "left", t1: "waiting"}


async def test_the_hall_opens_by_the_students_schools_minutes(hall, world, settings, clock):
    """Slots start a minute from now: open for school 1 (global 10 minutes before), not yet
    for school 0, which opens its hall only 0 minutes before a slot."""
    await set_hall(settings.database_url, world.schools[0].id, clock.now(), hall_open_minutes=0)
    slot = clock.now() + dt.timedelta(minutes=1)
    page = await (await hall["http"]["s0"].get(f"/hall/interviews/{hall['interview_ids'][0]}")).text()
    assert f"面试大厅将于 {slot.astimezone(CHINA):%Y-%m-%d %H:%M} 开放" in page
    page = await (await hall["http"]["s1"].get(f"/hall/interviews/{hall['interview_ids'][1]}")).text()
    assert "面试大厅将于" not in page and "开始排队" in page
    s0, s1 = await hall["sock"]("s0"), await hall["sock"]("s1")
    refused = await s0.call("join", {"interview_id": hall["interview_ids"][0]})
    assert refused["ok"] is False and "面试大厅将于" in refused["error"]
    assert (await s1.call("join", {"interview_id": hall["interview_ids"][1]}))["ok"] is True
    clock.advance(minutes=1)
    assert (await s0.call("join", {"interview_id": hall["interview_ids"][0]}))["ok"] is True
