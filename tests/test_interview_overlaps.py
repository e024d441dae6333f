"""A student with several interviews at the same time at different employers: the student is
warned on the invitation before accepting (and may still accept); the inviting employer
sees that the student is busy then, but never where."""

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from app.db import Database
from app.interviews import rules
from app.tables import interviews
from tests.helpers import published_job, saved_resume
from tests.signing_kit import as_user, second_employer

CHINA = rules.CHINA
OTHER_EMPLOYER, OTHER_JOB = "另一家单位有限公司", "数据分析师"


def at(hour: int, minute: int) -> dt.datetime:
    return rules.china_datetime(dt.date(2026, 6, 2), dt.time(hour, minute))


def test_overlapping_finds_what_shares_time_earliest_first():
    ten = rules.Slot(at(10, 0), 30)
    others = [(rules.Slot(at(10, 20), 15), "later"), (rules.Slot(at(9, 45), 20), "earlier"),
              (rules.Slot(at(10, 30), 15), "right after"), (rules.Slot(at(9, 30), 30), "right before")]
    assert rules.overlapping(ten, others) == ["earlier", "later"]
    assert rules.overlapping(ten, []) == []


def test_clashes_per_student_only_looks_at_the_same_student():
    ours = [(1, 100, rules.Slot(at(10, 0), 20)), (2, 200, rules.Slot(at(10, 20), 20)),
            (3, 300, rules.Slot(at(11, 0), 20))]
    elsewhere = [(100, rules.Slot(at(10, 10), 30)), (100, rules.Slot(at(9, 50), 15)),
                 (200, rules.Slot(at(10, 0), 20)),  # ends as ours begins
                 (300, rules.Slot(at(10, 20), 30)), (999, rules.Slot(at(11, 0), 20))]
    assert rules.clashes_per_student(ours, elsewhere) == {
        1: [rules.Slot(at(9, 50), 15), rules.Slot(at(10, 10), 30)]}


@pytest.fixture
async def people(world, settings, clock, make_client):
    """Two students who applied to a job at each of two employers, everyone logged in."""
    now = clock.now()
    platform = world.staff["platform"][1]
    other_id, other_login, other_account = await second_employer(settings.database_url, now)
    ours = await published_job(settings.database_url, world.employer_id, world.staff["employer"][1],
                               platform, now)
    theirs = await published_job(settings.database_url, other_id, other_account, platform, now,
                                 title=OTHER_JOB)
    students, clients = [world.active_student(0), world.active_student(1)], []
    for s in students:
        await saved_resume(settings.database_url, s.account_id, now, name=s.name)
        c = await as_user(make_client, "student", s.email)
        for job_id in (ours, theirs):
            assert (await c.post(f"/jobs/{job_id}/apply")).status == 303
        clients.append(c)
    return {"students": students, "clients": clients, "day": tomorrow(clock),
            "ours": await as_user(make_client, "employer", "employer"),
            "theirs": await as_user(make_client, "employer", other_login),
            "app": {(s.account_id, job): await application_id(settings, s.account_id, job)
                    for s in students for job in (ours, theirs)},
            "jobs": {"ours": ours, "theirs": theirs}}


def tomorrow(clock) -> dt.date:  # noqa: ANN001
    return (clock.now().astimezone(CHINA) + dt.timedelta(days=1)).date()


async def application_id(settings, account_id: int, job_id: int) -> int:  # noqa: ANN001
    from app.tables import applications
    db = Database(settings.database_url)
    try:
        async with db.read() as conn:
            return (await conn.execute(sa.select(applications.c.id).where(
                applications.c.account_id == account_id, applications.c.job_id == job_id))).scalar_one()
    finally:
        await db.dispose()


async def interview_of(settings, app_id: int) -> int:  # noqa: ANN001
    """The application's newest interview."""
    db = Database(settings.database_url)
    try:
        async with db.read() as conn:
            return (await conn.execute(sa.select(interviews.c.id).where(
                interviews.c.application_id == app_id).order_by(interviews.c.id.desc()))).scalars().first()
    finally:
        await db.dispose()


async def invite(p, who: str, students: list, start: str, minutes: int):  # noqa: ANN001, ANN201
    """`who` ("ours" or "theirs") invites the students (in that order) from `start`."""
    ids = [str(p["app"][(s.account_id, p["jobs"][who])]) for s in students]
    resp = await p[who].post("/employer/interviews/invite", {
        "application_ids": ids, "day": p["day"].isoformat(), "start": start,
        "minutes": str(minutes)})
    assert resp.status == 303, await resp.text()
    return resp


async def answer(p, settings, who: str, student: int, action: str) -> str:  # noqa: ANN001
    """The student answers `who`'s invitation → the page shown after the answer."""
    s = p["students"][student]
    interview_id = await interview_of(settings, p["app"][(s.account_id, p["jobs"][who])])
    c = p["clients"][student]
    resp = await c.post(f"/student/interviews/{interview_id}/answer", {"action": action})
    assert resp.status == 303
    return await (await c.get(resp.headers["Location"])).text()


async def invitation_page(p, settings, who: str, student: int = 0) -> str:  # noqa: ANN001
    s = p["students"][student]
    interview_id = await interview_of(settings, p["app"][(s.account_id, p["jobs"][who])])
    return await (await p["clients"][student].get(f"/student/interviews/{interview_id}")).text()


def warning(html: str) -> str | None:
    m = re.search(r'<p class="alert alert-warn" id="overlap-warning"[^>]*>([^<]*)</p>', html)
    return m.group(1) if m else None


def clash_notes(html: str) -> list[str]:
    return re.findall(r'<span class="clash-note" id="clash-\d+">([^<]*)</span>', html)


async def test_student_is_warned_before_accepting_and_may_still_accept(people, settings):
    p = people
    await invite(p, "theirs", p["students"][:1], "10:00", 30)
    await answer(p, settings, "theirs", 0, "accept")
    await invite(p, "ours", p["students"][:1], "10:15", 20)
    page = await invitation_page(p, settings, "ours")
    when = f"{p['day'].month:02d}月{p['day'].day:02d}日 10:00–10:30"
    assert warning(page) == (f"注意：该时段与你已接受的 {OTHER_EMPLOYER}（{OTHER_JOB}）{when} "
                             "的面试时间重叠。仍可接受，请合理安排。")
    assert re.search(r'value="accept" class="primary" aria-describedby="overlap-warning">接受<', page)
    # accepting is not refused, and the confirmation repeats the warning
    done = await answer(p, settings, "ours", 0, "accept")
    assert 'id="interview-status"><span class="state-badge tone-ok">已接受</span>' in done and 'id="answer-done"' in done
    assert warning(done).startswith(f"注意：该时段与你已接受的 {OTHER_EMPLOYER}（{OTHER_JOB}）{when}")
    assert warning(done).endswith("请合理安排。") and "仍可接受" not in warning(done)
    assert 'id="overlap-warning" role="status"' in done
    # the other invitation, accepted before, now overlaps this one: it says so too
    ours_when = f"{p['day'].month:02d}月{p['day'].day:02d}日 10:15–10:35"
    assert f"测试科技有限公司（软件开发工程师）{ours_when}" in warning(
        await invitation_page(p, settings, "theirs"))


async def test_employer_sees_the_clash_and_its_time_but_not_where(people, settings):
    p = people
    s0, s1 = p["students"]
    await invite(p, "theirs", [s0], "10:00", 30)  # still only invited: it counts for employers
    resp = await invite(p, "ours", [s0, s1], "10:15", 20)  # s0 10:15–10:35, s1 10:35–10:55
    assert "invited=" in resp.headers["Location"]
    page = await (await p["ours"].get(resp.headers["Location"])).text()
    notice = re.search(r'id="invite-clash-notice">(.*?)</div>', page, re.S).group(1)
    assert f"{s0.name}（10:15起）：该学生此时段已有其他面试（10:00–10:30）" in notice
    assert s1.name not in notice
    assert clash_notes(page) == ["该学生此时段已有其他面试（10:00–10:30）"]
    assert OTHER_EMPLOYER not in page and OTHER_JOB not in page
    # the day's schedule itself keeps the mark; the notice belongs to the invite alone
    plain = await (await p["ours"].get(f"/employer/interviews?day={p['day']}")).text()
    assert clash_notes(plain) == clash_notes(page) and 'id="invite-clash-notice"' not in plain
    # the other employer sees ours the same way, without our name or job
    theirs = await (await p["theirs"].get(f"/employer/interviews?day={p['day']}")).text()
    assert clash_notes(theirs) == ["该学生此时段已有其他面试（10:15–10:35）"]
    assert "测试科技有限公司" not in theirs and "软件开发工程师" not in theirs
    # the student has accepted nothing yet: no warning on their side
    assert warning(await invitation_page(p, settings, "ours")) is None


async def test_no_warning_when_times_only_touch_or_the_other_is_declined_or_cancelled(people, settings):
    p = people
    await invite(p, "theirs", p["students"][:1], "10:00", 30)
    await answer(p, settings, "theirs", 0, "decline")
    await invite(p, "ours", p["students"][:1], "10:15", 20)
    schedule_url = f"/employer/interviews?day={p['day']}"
    assert warning(await invitation_page(p, settings, "ours")) is None  # declined
    assert clash_notes(await (await p["ours"].get(schedule_url)).text()) == []

    await invite(p, "theirs", p["students"][:1], "09:45", 30)  # invited again, 09:45–10:15
    await answer(p, settings, "theirs", 0, "accept")
    assert warning(await invitation_page(p, settings, "ours")) is None  # ends as ours begins
    assert clash_notes(await (await p["ours"].get(schedule_url)).text()) == []

    theirs_id = await interview_of(settings, p["app"][(p["students"][0].account_id, p["jobs"]["theirs"])])
    assert (await p["theirs"].post(f"/employer/interviews/{theirs_id}", {
        "day": p["day"].isoformat(), "start": "10:20", "minutes": "30"})).status == 303
    # moved onto ours: the employers see it at once; the student, once they accept it again
    assert clash_notes(await (await p["ours"].get(schedule_url)).text()) == [
        "该学生此时段已有其他面试（10:20–10:50）"]
    assert warning(await invitation_page(p, settings, "ours")) is None
    await answer(p, settings, "theirs", 0, "accept")
    assert warning(await invitation_page(p, settings, "ours")) is not None

    assert (await p["theirs"].post(f"/employer/interviews/{theirs_id}/cancel",
                                   {"reason": "岗位已招满"})).status == 303
    assert warning(await invitation_page(p, settings, "ours")) is None  # cancelled
    assert clash_notes(await (await p["ours"].get(schedule_url)).text()) == []
