"""视频面试邀请: invite one or several applicants, the student answers in 我的面试, the
employer reschedules or cancels; mail with an .ics file goes through a real SMTP server."""

import dataclasses
import datetime as dt
import re

import pytest
import sqlalchemy as sa

from app.db import Database
from app.interviews import ics, rules
from app.tables import applications, interviews, notices
from tests.conftest import count, field_error, form_error
from tests.factories import PASSWORD
from tests.helpers import published_job, saved_resume
from tests.mailbox import body_text

CHINA = rules.CHINA


def calendar_of(msg) -> str:
    [part] = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    return part.get_payload(decode=True).decode()


def test_ics_escapes_folds_and_cancels():
    start = dt.datetime(2026, 6, 2, 6, 30, tzinfo=dt.timezone.utc)
    text = ics.interview_event(uid="interview-1@x", sequence=2, starts_at=start, minutes=20,
                               summary="视频面试：甲, 乙; 丙", description="第一行\n第二行" * 10,
                               url="http://x/i/1", stamp=start, organizer=("甲", "hr@x.cn"),
                               attendee=("乙", "s@x.cn")).decode()
    assert "DTSTART:20260602T063000Z\r\n" in text and "DTEND:20260602T065000Z\r\n" in text
    assert "SUMMARY:视频面试：甲\\, 乙\\; 丙" in text and "SEQUENCE:2" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    assert "METHOD:REQUEST" in text and "STATUS:CONFIRMED" in text
    unfolded = text.replace("\r\n ", "")
    assert "第一行\\n第二行" in unfolded
    cancelled = ics.interview_event(uid="u", sequence=3, starts_at=start, minutes=20, summary="s",
                                    description="", url="u", stamp=start, organizer=("甲", "hr@x.cn"),
                                    attendee=("乙", "s@x.cn"), cancelled=True).decode()
    assert "METHOD:CANCEL" in cancelled and "STATUS:CANCELLED" in cancelled


def test_slots_clashes_and_hall_window():
    first = rules.china_datetime(dt.date(2026, 6, 2), dt.time(14, 0))
    assert first == dt.datetime(2026, 6, 2, 6, 0, tzinfo=dt.timezone.utc)
    slots = rules.consecutive(first, 20, 3)
    assert [s.starts_at.astimezone(CHINA).strftime("%H:%M") for s in slots] == ["14:00", "14:20", "14:40"]
    assert rules.clashes(slots, [rules.Slot(first + dt.timedelta(minutes=59), 10)]) == [slots[2]]
    assert rules.clashes(slots, [rules.Slot(first + dt.timedelta(minutes=60), 10)]) == []
    window = dict(starts_at=first, session_ends_at=first + dt.timedelta(hours=1),
                  session_status="scheduled", open_minutes=10)
    assert not rules.hall_is_open(first - dt.timedelta(minutes=10, seconds=1), **window)
    assert rules.hall_is_open(first - dt.timedelta(minutes=10), **window)
    assert rules.hall_is_open(first + dt.timedelta(hours=2), **window)
    assert not rules.hall_is_open(first + dt.timedelta(hours=2, seconds=1), **window)
    assert not rules.hall_is_open(first, **{**window, "session_status": "ended"})


@pytest.fixture
def settings(settings, mailbox):
    return dataclasses.replace(settings, smtp_host=mailbox.host, smtp_port=mailbox.port)


@pytest.fixture
async def setup(world, settings, clock, make_client):
    """A published job with applications from both active students of school 0 and 1."""
    job_id = await published_job(settings.database_url, world.employer_id,
                                 world.staff["employer"][1], world.staff["platform"][1], clock.now())
    students = [world.active_student(0), world.active_student(1)]
    clients = []
    for s in students:
        await saved_resume(settings.database_url, s.account_id, clock.now(), name=s.name)
        c = await make_client()
        await c.login("student", s.email, PASSWORD)
        assert (await c.post(f"/jobs/{job_id}/apply")).status == 303
        clients.append(c)
    employer = await make_client()
    await employer.login("employer", "employer", PASSWORD)
    db = Database(settings.database_url)
    async with db.read() as conn:
        app_ids = [r.id for r in await conn.execute(sa.select(applications).order_by(applications.c.id))]
    await db.dispose()
    return {"job_id": job_id, "students": students, "clients": clients, "employer": employer,
            "app_ids": app_ids}


def tomorrow(clock):
    return (clock.now().astimezone(CHINA) + dt.timedelta(days=1)).date()


async def test_invite_answer_and_hall_button(setup, clock, mailbox, settings):
    employer, (s0, _), (c0, c1) = setup["employer"], setup["students"], setup["clients"]
    day = tomorrow(clock)
    page = await (await employer.get(f"/employer/applications/{setup['app_ids'][0]}")).text()
    assert "发送视频面试邀请" in page
    resp = await employer.post("/employer/interviews/invite", {
        "application_ids": str(setup["app_ids"][0]), "day": day.isoformat(), "start": "14:30",
        "minutes": "20", "note": "请准备自我介绍", "back": "/employer/jobs"})
    assert resp.status == 303
    assert re.fullmatch(rf"/employer/interviews\?day={day}&invited=\d+", resp.headers["Location"])
    schedule = await (await employer.get(resp.headers["Location"])).text()
    assert "14:30" in schedule and s0.name in schedule and "待确认" in schedule
    [mail] = await mailbox.wait_for(s0.email)
    assert "视频面试邀请" in mail["Subject"] and "14:30" in body_text(mail)
    cal = calendar_of(mail)
    start_utc = rules.china_datetime(day, dt.time(14, 30)).strftime("%Y%m%dT%H%M%SZ")
    assert f"DTSTART:{start_utc}" in cal and "SEQUENCE:0" in cal
    assert await count(settings.database_url, applications, applications.c.status == "invited") == 1
    assert await count(settings.database_url, notices, notices.c.title.contains("邀请你参加视频面试")) == 1

    mine = await (await c0.get("/student/interviews")).text()
    assert "即将进行" in mine and ">查看面试邀请<" in mine
    interview_url = re.search(r'href="(/student/interviews/\d+)">查看面试邀请', mine).group(1)
    page = await (await c0.get(interview_url)).text()
    assert "请准备自我介绍" in page and ">接受<" in page and ">拒绝<" in page
    assert "洽谈面试大厅</button>" in page and "disabled" in page and "开放" in page
    resp = await c0.post(f"{interview_url}/answer", {"action": "accept"})
    assert resp.status == 303
    page = await (await c0.get(interview_url)).text()
    assert 'id="interview-status"><span class="state-badge tone-ok">已接受</span>' in page and 'value="accept"' not in page
    assert await count(settings.database_url, notices, notices.c.title.contains("接受了")) == 1
    # another student cannot open it
    assert (await c1.get(interview_url)).status == 404
    assert (await c1.post(f"{interview_url}/answer", {"action": "decline"})).status == 404


async def test_batch_invite_gets_consecutive_slots_and_clashes_are_refused(setup, clock, settings):
    employer = setup["employer"]
    day = tomorrow(clock)
    listing = await (await employer.get(f"/employer/jobs/{setup['job_id']}/applicants")).text()
    assert 'form="invite-form"' in listing
    resp = await employer.post("/employer/interviews/invite", {
        "application_ids": [str(a) for a in reversed(setup["app_ids"])], "day": day.isoformat(),
        "start": "09:00", "minutes": "30"})
    assert resp.status == 303
    db = Database(settings.database_url)
    async with db.read() as conn:
        rows = list(await conn.execute(sa.select(interviews).order_by(interviews.c.starts_at)))
    await db.dispose()
    assert [r.application_id for r in rows] == list(reversed(setup["app_ids"]))
    assert [r.starts_at.astimezone(CHINA).strftime("%H:%M") for r in rows] == ["09:00", "09:30"]
    assert len({r.session_id for r in rows}) == 1
    # a second invitation for the same applicant is refused while one is open
    resp = await employer.post("/employer/interviews/invite", {
        "application_ids": str(setup["app_ids"][0]), "day": day.isoformat(), "start": "15:00",
        "minutes": "30"})
    assert resp.status == 400 and "已有未完成的面试邀请" in await resp.text()


async def test_bad_times_are_refused_with_messages(setup, clock, settings):
    employer = setup["employer"]
    yesterday = (clock.now().astimezone(CHINA) - dt.timedelta(days=1)).date()
    resp = await employer.post("/employer/interviews/invite", {
        "application_ids": str(setup["app_ids"][0]), "day": yesterday.isoformat(), "start": "10:00",
        "minutes": "30"})
    assert resp.status == 400 and field_error(await resp.text(), "start") == "面试时间必须晚于现在"
    resp = await employer.post("/employer/interviews/invite", {
        "application_ids": str(setup["app_ids"][0]), "day": "明天", "start": "25:00", "minutes": "0"})
    html = await resp.text()
    assert field_error(html, "day") == "请按“年-月-日”填写日期"
    assert field_error(html, "start") == "请按“时:分”填写时间，如 14:30"
    assert field_error(html, "minutes") == "面试时长应为5到180分钟"
    assert 'value="明天"' in html
    resp = await employer.post("/employer/interviews/invite", {
        "day": tomorrow(clock).isoformat(), "start": "10:00", "minutes": "30"})
    assert "请选择要邀请的应聘者" in await resp.text()
    assert await count(settings.database_url, interviews) == 0


async def test_reschedule_and_cancel_tell_the_student(setup, clock, mailbox, settings, make_client):
    employer, s0 = setup["employer"], setup["students"][0]
    day = tomorrow(clock)
    await employer.post("/employer/interviews/invite", {
        "application_ids": str(setup["app_ids"][0]), "day": day.isoformat(), "start": "10:00",
        "minutes": "30"})
    await employer.post("/employer/interviews/invite", {
        "application_ids": str(setup["app_ids"][1]), "day": day.isoformat(), "start": "11:00",
        "minutes": "30"})
    db = Database(settings.database_url)
    async with db.read() as conn:
        first_id = (await conn.execute(sa.select(interviews.c.id).where(
            interviews.c.application_id == setup["app_ids"][0]))).scalar_one()
    await db.dispose()
    resp = await employer.post(f"/employer/interviews/{first_id}", {
        "day": day.isoformat(), "start": "11:15", "minutes": "30"})
    assert resp.status == 400
    assert field_error(await resp.text(), "start") == "该时段与已安排的面试重叠，请换一个开始时间"
    resp = await employer.post(f"/employer/interviews/{first_id}", {
        "day": day.isoformat(), "start": "16:00", "minutes": "45"})
    assert resp.status == 303
    invited, moved = await mailbox.wait_for(s0.email, count=2)
    assert "改期" in moved["Subject"] and "SEQUENCE:1" in calendar_of(moved)
    resp = await employer.post(f"/employer/interviews/{first_id}/cancel", {"reason": "岗位已招满"})
    assert resp.status == 303
    *_, cancelled = await mailbox.wait_for(s0.email, count=3)
    assert "取消" in cancelled["Subject"] and "METHOD:CANCEL" in calendar_of(cancelled)
    page = await (await setup["clients"][0].get(f"/student/interviews/{first_id}")).text()
    assert "已取消" in page and "岗位已招满" in page
    # another employer cannot touch it
    from tests.test_employers import register
    other = await make_client()
    await register(other)
    assert (await other.get(f"/employer/interviews/{first_id}")).status == 404
    assert (await other.post(f"/employer/interviews/{first_id}/cancel")).status == 404
    resp = await other.post("/employer/interviews/invite", {
        "application_ids": str(setup["app_ids"][1]), "day": day.isoformat(), "start": "18:00",
        "minutes": "30"})
    assert resp.status == 400 and form_error(await resp.text()) == "所选的应聘者不存在"


def parse_ics(text: str) -> dict:
    """A careful reader of one VCALENDAR with one VEVENT: lines unfolded (RFC 5545 3.1),
    each property split into name, parameters (quoted values honoured) and value."""
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    lines = text.replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")[:-1]
    calendar: dict = {"props": {}, "event": {}}
    where = None
    for line in lines:
        head, value, quoted, i = "", None, False, 0
        for i, ch in enumerate(line):
            if ch == '"':
                quoted = not quoted
            elif ch == ":" and not quoted:
                head, value = line[:i], line[i + 1:]
                break
        assert value is not None, f"no value in {line!r}"
        name, *raw_params = re.findall(r'(?:[^;"]|"[^"]*")+', head)
        params = dict(p.split("=", 1) for p in raw_params)
        if (name, value) == ("BEGIN", "VEVENT"):
            where = calendar["event"]
        elif (name, value) == ("BEGIN", "VALARM"):
            where = {}
        elif (name, value) == ("END", "VALARM"):
            where = calendar["event"]
        elif name not in ("BEGIN", "END"):
            (where if where is not None else calendar["props"]).setdefault(name, []).append(
                (params, value))
    return calendar


# RFC 5546 3.2.2 (REQUEST) and 3.2.5 (CANCEL): properties a VEVENT must carry
REQUIRED = {"REQUEST": {"ATTENDEE", "DTSTAMP", "DTSTART", "ORGANIZER", "SEQUENCE", "SUMMARY", "UID"},
            "CANCEL": {"ATTENDEE", "DTSTAMP", "ORGANIZER", "SEQUENCE", "UID"}}


async def test_every_calendar_file_names_its_organizer_and_attendee(setup, clock, mailbox):
    employer, s0 = setup["employer"], setup["students"][0]
    day = tomorrow(clock)
    await employer.post("/employer/interviews/invite", {
        "application_ids": str(setup["app_ids"][0]), "day": day.isoformat(), "start": "10:00",
        "minutes": "30"})
    [invited] = await mailbox.wait_for(s0.email)
    interview_id = re.search(r"/student/interviews/(\d+)", body_text(invited)).group(1)
    await employer.post(f"/employer/interviews/{interview_id}",
                        {"day": day.isoformat(), "start": "16:00", "minutes": "45"})
    await employer.post(f"/employer/interviews/{interview_id}/cancel", {"reason": "岗位已招满"})
    mails = await mailbox.wait_for(s0.email, count=3)
    parsed = []
    # The outbox may send two pending mails in either order (a calendar orders them by
    # SEQUENCE, which is why it is there): taken in the order of their SEQUENCE.
    calendars = sorted(
        ((part, parse_ics(part.get_payload(decode=True).decode())) for mail in mails
         for part in mail.iter_attachments() if part.get_content_type() == "text/calendar"),
        key=lambda found: int(found[1]["event"]["SEQUENCE"][0][1]))
    assert len(calendars) == 3
    for (part, cal), method in zip(calendars, ("REQUEST", "REQUEST", "CANCEL")):
        assert part.get_param("method") == method
        assert cal["props"]["METHOD"] == [({}, method)]
        event = cal["event"]
        assert REQUIRED[method] <= set(event), f"{method} lacks {REQUIRED[method] - set(event)}"
        [(org_params, org)] = event["ORGANIZER"]
        assert org == "mailto:hr@test.example.cn" and org_params["CN"] == '"测试科技有限公司"'
        [(att_params, att)] = event["ATTENDEE"]
        assert att == f"mailto:{s0.email}" and att_params["CN"] == f'"{s0.name}"'
        assert att_params["RSVP"] == "FALSE"  # the student answers on the site
        parsed.append(event)
    assert len({e["UID"][0][1] for e in parsed}) == 1
    first, moved, cancelled = (int(e["SEQUENCE"][0][1]) for e in parsed)
    assert first < moved < cancelled  # each change supersedes the one before
    assert parsed[2]["STATUS"] == [({}, "CANCELLED")]


async def test_accepting_is_confirmed_and_the_history_is_not_called_a_review(setup, clock):
    employer, c0 = setup["employer"], setup["clients"][0]
    await employer.post("/employer/interviews/invite", {
        "application_ids": str(setup["app_ids"][0]), "day": tomorrow(clock).isoformat(),
        "start": "10:00", "minutes": "30"})
    mine = await (await c0.get("/student/interviews")).text()
    url = re.search(r'href="(/student/interviews/\d+)">查看面试邀请', mine).group(1)
    before = await (await c0.get(url)).text()
    assert 'id="answer-done"' not in before
    resp = await c0.post(f"{url}/answer", {"action": "accept"})
    assert resp.status == 303
    page = await (await c0.get(resp.headers["Location"])).text()
    done = re.search(r'<div class="alert alert-ok" role="status" id="answer-done">([^<]+)<', page)
    assert done and done.group(1).startswith("已接受面试邀请")
    assert "10分钟" in done.group(1)
    heading = re.search(r'<h2 id="history-title">([^<]+)</h2>', page).group(1)
    assert heading == "处理记录" and "审核记录" not in page
    # the confirmation follows the state: a forged query on another state says nothing
    assert 'id="answer-done"' not in await (await c0.get(f"{url}?answered=decline")).text()
