"""The logged-in cache (app/accountcache.py): a student's session, 学生中心 and 我的投递 come
from memory, yet never show what a write has changed since, whoever made it: the student,
an employer, a reviewer (a write naming no account), on one process or across two sharing
the database and Redis; nor an invitation after its start, nor a session after its end."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.sql import visitors

from app.accountcache import GROUPS, SESSION
from app.auth import sessions
from app.clock import CHINA, china_date
from app.db import Database, for_accounts
from app.middleware import SESSION_COOKIE
from app.notify import notices
from app.state import ACCOUNT_CACHE, DB
from app.tables import applications, student_records
from app.web import create_app
from tests.conftest import FormClient
from tests.factories import PASSWORD
from tests.helpers import published_job, saved_resume
from tests.test_page_cache import redis_settings
from tests.test_page_queries import statements

STATE_NEW, STATE_REJECTED = "新投递", "不合适"


async def _applied(world, settings, clock, student_client: FormClient) -> tuple[int, int]:  # noqa: ANN001
    """The world's student applies to a new job through `student_client`: (job, application)."""
    job_id = await published_job(settings.database_url, world.employer_id,
                                 world.staff["employer"][1], world.staff["platform"][1],
                                 clock.now(), title="缓存测试岗位")
    student = world.active_student()
    await saved_resume(settings.database_url, student.account_id, clock.now(), name=student.name)
    assert (await student_client.post(f"/jobs/{job_id}/apply")).status == 303
    db = Database(settings.database_url)
    async with db.read() as conn:
        app_id = (await conn.execute(sa.select(applications.c.id).where(
            applications.c.job_id == job_id))).scalar_one()
    await db.dispose()
    return job_id, app_id


async def _cached(c: FormClient, path: str) -> str:
    """View `path` until it is kept (the first view learns whose session it is, the second
    keeps the page), then once more from memory; the page as served from memory."""
    for _ in range(3):
        resp = await c.get(path)
        assert resp.status == 200, resp.status
    assert any(name[1] == c.app.router[_route(c, path)].name
               for name in c.app[ACCOUNT_CACHE].pages.entries), "the page was not kept"
    return await resp.text()


def _token(c: FormClient) -> str:
    return c.client.session.cookie_jar.filter_cookies(c.client.make_url("/"))[SESSION_COOKIE].value


def _route(c: FormClient, path: str) -> str:
    return {"/student": "student_centre", "/student/applications": "my_applications"}[path]


@pytest.fixture
async def student(make_client, world) -> FormClient:  # noqa: ANN001
    c = await make_client()
    await c.login("student", world.active_student().email, PASSWORD)
    return c


async def test_my_applications_shows_an_employers_decision_at_once(
        make_client, student, world, settings, clock):
    _, app_id = await _applied(world, settings, clock, student)
    assert STATE_NEW in await _cached(student, "/student/applications")
    employer = await make_client()
    await employer.login("employer", "employer", PASSWORD)
    assert (await employer.post(f"/employer/applications/{app_id}/reject")).status == 303
    page = await (await student.get("/student/applications")).text()
    assert STATE_REJECTED in page and STATE_NEW not in page


async def test_the_students_own_withdrawal_shows_at_once(student, world, settings, clock):
    _, app_id = await _applied(world, settings, clock, student)
    assert "撤回" in await _cached(student, "/student/applications")
    assert (await student.post(f"/student/applications/{app_id}/withdraw")).status == 303
    page = await (await student.get("/student/applications")).text()
    assert "已撤回" in page and "重新投递" in page


async def test_an_invitation_shows_at_once_and_leaves_when_its_start_passes(
        make_client, student, world, settings, clock):
    # tomorrow 09:56 in China; the invitation is for 10:00 the same day
    tomorrow = china_date(clock.now()) + dt.timedelta(days=1)
    clock.advance(seconds=(dt.datetime.combine(tomorrow, dt.time(9, 56), tzinfo=CHINA)
                           - clock.now()).total_seconds())
    _, app_id = await _applied(world, settings, clock, student)
    assert "视频面试邀请待回复" not in await _cached(student, "/student")
    employer = await make_client()
    await employer.login("employer", "employer", PASSWORD)
    resp = await employer.post("/employer/interviews/invite", {
        "application_ids": str(app_id), "day": tomorrow.isoformat(), "start": "10:00",
        "minutes": "20"})
    assert resp.status == 303
    assert "视频面试邀请待回复" in await _cached(student, "/student")
    # the clock alone passes the start: no write (the session's touch is 5 minutes apart)
    clock.advance(minutes=4, seconds=30)
    assert "视频面试邀请待回复" not in await (await student.get("/student")).text()


async def test_a_write_naming_no_account_drops_every_cached_page(student, app, world):
    """A reviewer's change to a student record names no account: it must reach the page."""
    name = world.active_student().name
    assert name in await _cached(student, "/student")
    async with app[DB].write() as conn:
        await conn.execute(student_records.update()
                           .where(student_records.c.account_id == world.active_student().account_id)
                           .values(name="改后的姓名"))
    page = await (await student.get("/student")).text()
    assert "改后的姓名" in page


async def test_a_new_notice_shows_in_the_header_at_once(student, app, world, clock):
    assert "条未读" not in await _cached(student, "/student")
    async with app[DB].write() as conn:
        await notices.add(conn, account_id=world.active_student().account_id, title="新通知",
                          at=clock.now())
    assert 'aria-label="1条未读"' in await (await student.get("/student")).text()


async def test_an_ended_session_is_never_served_from_memory(make_client, student, app, world):
    """Logged out: the same cookie, sent again by anyone, is a visitor's. Ended by a password
    change elsewhere: the other browser is logged out at its next request."""
    await _cached(student, "/student")
    token = _token(student)
    assert (await student.post("/logout")).status == 303
    replay = await make_client()
    replay.client.session.cookie_jar.update_cookies({SESSION_COOKIE: token})
    assert (await replay.get("/student")).status == 303  # to the login page

    again = await make_client()
    await again.login("student", world.active_student().email, PASSWORD)
    await _cached(again, "/student")
    async with app[DB].write() as conn:
        await sessions.end_all(conn, world.active_student().account_id)
    assert (await again.get("/student")).status == 303


async def test_a_session_past_its_expiry_is_not_served_from_memory(student, settings, clock):
    await _cached(student, "/student")
    clock.advance(days=settings.session_days, minutes=1)
    assert (await student.get("/student")).status == 303


async def test_every_table_a_kept_session_or_page_reads_is_in_its_group(
        app, student, world, settings, clock):
    """A table read by a kept session or page but missing from its group in GROUPS would let
    its changes go unseen: every statement of each is recorded and checked, the session's
    look-up on its own and each page's queries on their own (its group alone bumped)."""
    await _applied(world, settings, clock, student)
    account = world.active_student().account_id
    read: set[str] = set()
    this_test = asyncio.current_task()

    def on_execute(_conn, clause, *_args):  # noqa: ANN001
        # this test's own look-up and the requests it makes, not the app's background
        # workers (the outboxes poll their tables meanwhile)
        task = asyncio.current_task()
        if task is this_test or (task is not None and task.get_coro().__qualname__
                                 .startswith("RequestHandler.")):
            read.update(e.name for e in visitors.iterate(clause) if isinstance(e, sa.Table))
    engine = app[DB].engine.sync_engine
    sa.event.listen(engine, "before_execute", on_execute)
    try:
        async with app[DB].read() as conn:
            assert await sessions.load_for_page(conn, _token(student), clock.now()) is not None
        assert {"sessions", "notices"} <= read <= set(GROUPS[SESSION]), read
        for path, group, shown in (("/student", "student_centre", "student_records"),
                                   ("/student/applications", "my_applications", "jobs")):
            await _cached(student, path)
            await app[ACCOUNT_CACHE].source.bump(group, frozenset({account}))
            read.clear()
            assert (await student.get(path)).status == 200
            assert shown in read and read <= set(GROUPS[group]), (group, read)
    finally:
        sa.event.remove(engine, "before_execute", on_execute)


async def test_a_write_naming_no_account_drops_only_the_pages_that_read_its_table(
        app, student, world, settings, clock):
    """A counselor's change to student records names no account: it drops every 学生中心,
    which shows the record, and neither the sessions nor 我的投递, which do not read it."""
    await _applied(world, settings, clock, student)
    for path in ("/student", "/student/applications"):
        await _cached(student, path)
    async with app[DB].write() as conn:
        await conn.execute(student_records.update().values(name=student_records.c.name))
    with statements(app) as seen:
        assert (await student.get("/student/applications")).status == 200
    assert seen == []
    with statements(app) as seen:
        assert (await student.get("/student")).status == 200
    assert seen and not any("sessions" in q for q in seen), seen


async def test_writes_name_their_accounts_or_all_of_them(settings, world):  # noqa: ARG001
    """What a commit tells the cache: the accounts named by for_accounts; None (every
    account) for a write that names none; nothing for an update that matched no row."""
    db = Database(settings.database_url)
    told: list[frozenset[int] | None] = []

    async def tell(accounts: frozenset[int] | None) -> None:
        told.append(accounts)
    db.on_commit_accounts(["student_records", "notices"], tell)
    try:
        async with db.write() as conn:
            await conn.execute(for_accounts(student_records.update(), 7, None)
                               .where(student_records.c.id == -1).values(name="x"))
        assert told == []  # matched nothing
        async with db.write() as conn:
            await conn.execute(for_accounts(student_records.update(), 7, None)
                               .values(graduation_year=student_records.c.graduation_year))
        assert told == [frozenset({7})]
        async with db.write() as conn:
            await conn.execute(for_accounts(student_records.update(), 7)
                               .values(graduation_year=student_records.c.graduation_year))
            await conn.execute(student_records.update()
                               .values(graduation_year=student_records.c.graduation_year))
        assert told[-1] is None
        async with db.write() as conn:
            await conn.execute(sa.select(student_records.c.id))
        assert len(told) == 2  # a read tells nothing
    finally:
        await db.dispose()


async def test_two_processes_sharing_redis_never_show_a_changed_page(
        aiohttp_client, world, settings, clock):
    """Process A keeps the student's 我的投递 and session; the employer's 不合适 and then the
    student's logout go through process B: A's next answers show both."""
    shared = await redis_settings(settings)
    a = FormClient(await aiohttp_client(create_app(shared, clock=clock)))
    b_server = await aiohttp_client(create_app(shared, clock=clock))
    b_employer = FormClient(b_server)
    await a.login("student", world.active_student().email, PASSWORD)
    _, app_id = await _applied(world, settings, clock, a)
    assert STATE_NEW in await _cached(a, "/student/applications")
    await b_employer.login("employer", "employer", PASSWORD)
    assert (await b_employer.post(f"/employer/applications/{app_id}/reject")).status == 303
    assert STATE_REJECTED in await (await a.get("/student/applications")).text()

    await _cached(a, "/student/applications")
    b_student = FormClient(await aiohttp_client(b_server.server))
    token = _token(a)
    b_student.client.session.cookie_jar.update_cookies({SESSION_COOKIE: token})
    await b_student.get("/")
    assert (await b_student.post("/logout")).status == 303
    assert (await a.get("/student/applications")).status == 303


async def test_sessions_and_pages_are_bounded(app, make_client, world):
    c = await make_client()
    cache = app[ACCOUNT_CACHE]
    assert cache.sessions.max_entries > 0 and cache.pages.max_bytes > 0
    cache.pages.max_entries = 1
    await c.login("student", world.active_student().email, PASSWORD)
    await _cached(c, "/student")
    await _cached(c, "/student/applications")
    assert [name[1] for name in cache.pages.entries] == ["my_applications"]
