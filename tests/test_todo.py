"""待办事项 on every centre: the counts match the rows built for them, stay inside the user's
scope (another college's or school's rows are never counted), link to the page where the
work is done, and are read on indexes."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from app.clock import CHINA, china_date
from app.db import Database
from app.pages import todo
from tests import todo_kit as kit
from tests.factories import PASSWORD


@pytest.fixture
async def db(settings):  # noqa: ANN001, ANN201
    database = Database(settings.database_url)
    yield database
    await database.dispose()


async def centre(make_client, kind: str, account: str, path: str) -> str:  # noqa: ANN001
    client = await make_client()
    await client.login(kind, account, PASSWORD)
    resp = await client.get(path)
    assert resp.status == 200
    return await resp.text()


async def follow(make_client, kind: str, account: str, link: str) -> str:  # noqa: ANN001
    client = await make_client()
    await client.login(kind, account, PASSWORD)
    resp = await client.get(link)
    assert resp.status == 200, link
    return await resp.text()


async def test_a_counselor_counts_the_reviews_of_their_own_college_only(db, world, clock, make_client):
    now = clock.now()
    s0, s1 = world.schools
    author = world.staff["school_admin0"][1]
    async with db.write() as conn:
        other_college = await kit.second_college(conn, s0.id)
        mine, theirs, elsewhere = [], [], []
        for college, school, bucket in ((s0.college_ids[0], s0.id, mine),
                                        (other_college, s0.id, theirs),
                                        (s1.college_ids[0], s1.id, elsewhere)):
            for _ in range(3):
                bucket.append(await kit.student(conn, school, college, now))
        # in the counselor's college: 2 生源 waiting, 1 draft (not theirs to review yet)
        await kit.origin(conn, mine[0], "submitted", now)
        await kit.origin(conn, mine[1], "submitted", now)
        await kit.origin(conn, mine[2], "draft", now)
        a1 = await kit.agreement(conn, mine[0], "college", now, created_by=author)
        await kit.agreement(conn, mine[1], "school", now, created_by=author)  # the school's turn
        await kit.registration(conn, mine[0], "submitted", now)
        await kit.registration(conn, mine[1], "college_ok", now)
        effective = await kit.agreement(conn, mine[2], "effective", now, created_by=author)
        await kit.termination(conn, effective, "submitted", now, applicant_role="student",
                              applicant_id=author)
        # the same work in the school's other college and in the other school: not counted
        for bucket in (theirs, elsewhere):
            await kit.origin(conn, bucket[0], "submitted", now)
            await kit.agreement(conn, bucket[0], "college", now, created_by=author)
            await kit.registration(conn, bucket[0], "submitted", now)
            other = await kit.agreement(conn, bucket[1], "effective", now, created_by=author)
            await kit.termination(conn, other, "submitted", now, applicant_role="student",
                                  applicant_id=author)
    items = kit.todos(await centre(make_client, "staff", "counselor0", "/counselor"))
    assert items == {
        "origin_review": (2, "/reviews/origins?status=submitted"),
        "agreement_review": (1, "/reviews/agreements?status=waiting"),
        "registration_review": (1, "/reviews/registrations?status=submitted"),
        "termination_review": (1, "/reviews/terminations?status=waiting"),
    }
    # each link opens the list of exactly that work
    page = await follow(make_client, "staff", "counselor0", items["origin_review"][1])
    assert page.count('href="/reviews/origins/') == 2
    page = await follow(make_client, "staff", "counselor0", items["agreement_review"][1])
    assert page.count('href="/reviews/agreements/') == 1 and f"/reviews/agreements/{a1}" in page
    page = await follow(make_client, "staff", "counselor0", items["registration_review"][1])
    assert page.count('href="/reviews/registrations/') == 1
    page = await follow(make_client, "staff", "counselor0", items["termination_review"][1])
    assert page.count('href="/reviews/terminations/') == 1


async def test_a_school_admin_counts_their_whole_school_and_nothing_of_another(db, world, clock,
                                                                              make_client):
    now = clock.now()
    s0, s1 = world.schools
    author = world.staff["school_admin0"][1]
    async with db.write() as conn:
        other_college = await kit.second_college(conn, s0.id)
        ours = [await kit.student(conn, s0.id, c, now)
                for c in (s0.college_ids[0], other_college, other_college, s0.college_ids[0])]
        theirs = [await kit.student(conn, s1.id, s1.college_ids[0], now) for _ in range(2)]
        await kit.recommendation(conn, ours[0], "submitted", now)
        await kit.recommendation(conn, ours[1], "submitted", now)
        await kit.recommendation(conn, ours[2], "approved", now)
        await kit.agreement(conn, ours[0], "school", now, created_by=author)
        await kit.agreement(conn, ours[1], "scan_review", now, created_by=author, channel="offline")
        await kit.agreement(conn, ours[2], "scan_review", now, created_by=author, channel="offline")
        await kit.agreement(conn, ours[3], "college", now, created_by=author)  # the counselor's turn
        await kit.registration(conn, ours[1], "college_ok", now)
        await kit.registration(conn, ours[2], "submitted", now)
        effective = await kit.agreement(conn, ours[3], "effective", now, created_by=author)
        await kit.termination(conn, effective, "college_approved", now, applicant_role="student",
                              applicant_id=author)
        for record in theirs:
            await kit.recommendation(conn, record, "submitted", now)
            await kit.agreement(conn, record, "scan_review", now, created_by=author, channel="offline")
            await kit.registration(conn, record, "college_ok", now)
    items = kit.todos(await centre(make_client, "staff", "school_admin0", "/school"))
    assert items == {
        "recommendation_review": (2, "/school/recommendations?status=submitted"),
        "agreement_review": (1, "/reviews/agreements?status=school"),
        "scan_review": (2, "/reviews/agreements?status=scan_review"),
        "registration_review": (1, "/reviews/registrations?status=college_ok"),
        "termination_review": (1, "/reviews/terminations?status=waiting"),
    }
    page = await follow(make_client, "staff", "school_admin0", items["recommendation_review"][1])
    assert page.count('href="/school/recommendations/') == 2
    page = await follow(make_client, "staff", "school_admin0", items["scan_review"][1])
    assert page.count('href="/reviews/agreements/') == 2
    # the other school's admin sees only their own
    items = kit.todos(await centre(make_client, "staff", "school_admin1", "/school"))
    assert {k: n for k, (n, _) in items.items()} == {
        "recommendation_review": 2, "scan_review": 2, "registration_review": 2}


async def test_a_student_sees_only_their_own_waiting_things(db, world, clock, make_client):
    now = clock.now()
    me = world.active_student(0)
    other = world.active_student(1)
    author = world.staff["employer"][1]
    today_later = max(now + dt.timedelta(minutes=1),
                      dt.datetime.combine(china_date(now), dt.time(23, 0), tzinfo=CHINA))
    async with db.write() as conn:
        job = await kit.job(conn, world.employer_id, "published", now)
        mine = await kit.application(conn, job, me.account_id, "invited", now)
        others = await kit.application(conn, job, other.account_id, "invited", now)
        await kit.interview(conn, mine, now + dt.timedelta(days=2), "invited", now)   # to answer
        await kit.interview(conn, mine, now - dt.timedelta(days=2), "invited", now)   # too late
        await kit.interview(conn, mine, today_later, "accepted", now)                 # today
        await kit.interview(conn, mine, now + dt.timedelta(days=3), "accepted", now)  # not today
        await kit.interview(conn, others, now + dt.timedelta(days=2), "invited", now)
        await kit.agreement(conn, me.record_id, "invited", now, created_by=author,
                            employer_id=world.employer_id, valid_until=now + dt.timedelta(days=7))
        await kit.agreement(conn, me.record_id, "invited", now, created_by=author,  # expired
                            employer_id=world.employer_id, valid_until=now - dt.timedelta(days=1))
        await kit.agreement(conn, me.record_id, "scan_returned", now, created_by=me.account_id,
                            channel="offline")
        effective = await kit.agreement(conn, me.record_id, "effective", now, created_by=author)
        await kit.termination(conn, effective, "returned", now, applicant_role="student",
                              applicant_id=me.account_id)
        await kit.origin(conn, me.record_id, "returned", now)
        await kit.recommendation(conn, me.record_id, "returned", now)
        await kit.registration(conn, me.record_id, "returned", now)
        # the same things of another student
        await kit.agreement(conn, other.record_id, "invited", now, created_by=author,
                            employer_id=world.employer_id, valid_until=now + dt.timedelta(days=7))
        await kit.agreement(conn, other.record_id, "generated", now, created_by=other.account_id,
                            channel="offline")
        await kit.origin(conn, other.record_id, "draft", now)
    items = kit.todos(await centre(make_client, "student", me.email, "/student"))
    assert items == {
        "interview_invitations": (1, "/student/interviews"),
        "interviews_today": (1, "/student/interviews"),
        "signing_invitations": (1, "/student/signing"),
        "scans_returned": (1, "/student/signing/offline"),
        "origin_returned": (1, "/student/origin"),
        "recommendation_returned": (1, "/student/recommendation"),
        "registration_returned": (1, "/student/registration"),
        "termination_returned": (1, "/student/termination"),
    }
    items = kit.todos(await centre(make_client, "student", other.email, "/student"))
    assert {k: n for k, (n, _) in items.items()} == {
        "interview_invitations": 1, "signing_invitations": 1, "scans_to_upload": 1,
        "origin_to_check": 1}


async def test_an_employer_counts_its_own_applicants_interviews_and_returns(db, world, clock,
                                                                            make_client):
    now = clock.now()
    me = world.active_student(0)
    other_student = world.active_student(1)
    async with db.write() as conn:
        rival = await kit.employer(conn, "approved", now)
        ours = await kit.job(conn, world.employer_id, "published", now)
        await kit.job(conn, world.employer_id, "returned", now)
        theirs = await kit.job(conn, rival, "published", now)
        await kit.application(conn, ours, me.account_id, "new", now)
        await kit.application(conn, ours, other_student.account_id, "new", now)
        seen = await kit.application(conn, theirs, me.account_id, "viewed", now)
        await kit.application(conn, theirs, other_student.account_id, "new", now)
        invited = await kit.job(conn, world.employer_id, "published", now)
        app_id = await kit.application(conn, invited, me.account_id, "invited", now)
        await kit.interview(conn, app_id, now + dt.timedelta(minutes=30), "accepted", now)
        await kit.interview(conn, seen, now + dt.timedelta(minutes=30), "accepted", now)  # rival's
        returned = await kit.agreement(conn, me.record_id, "returned", now,
                                       created_by=world.staff["employer"][1],
                                       employer_id=world.employer_id)
        await kit.agreement(conn, other_student.record_id, "returned", now,
                            created_by=world.staff["employer"][1], employer_id=rival)
        effective = await kit.agreement(conn, other_student.record_id, "effective", now,
                                        created_by=world.staff["employer"][1],
                                        employer_id=world.employer_id)
        await kit.termination(conn, effective, "returned", now, applicant_role="employer",
                              applicant_id=world.staff["employer"][1])
    items = kit.todos(await centre(make_client, "employer", "employer", "/employer"))
    assert items == {
        "new_applications": (2, "/employer/jobs"),
        "interviews_today": (1, "/employer/interviews"),
        "jobs_returned": (1, "/employer/jobs"),
        "agreements_returned": (1, "/employer/agreements"),
        "termination_returned": (1, "/employer/termination"),
    }
    page = await follow(make_client, "employer", "employer", items["agreements_returned"][1])
    assert f'href="/employer/agreements/{returned}"' in page


async def test_the_platform_admin_and_an_idle_counselor(db, world, clock, make_client):
    now = clock.now()
    async with db.write() as conn:
        for status in ("pending", "pending", "approved", "returned"):
            await kit.employer(conn, status, now)
        await kit.job(conn, world.employer_id, "pending", now)
        await kit.job(conn, world.employer_id, "published", now)
        for status in ("failed", "sent", "pending"):
            await kit.mail(conn, status, now)
    html = await centre(make_client, "staff", "platform", "/platform")
    items = kit.todos(html)
    assert items == {
        "employer_review": (2, "/platform/employers?state=pending"),
        "job_review": (1, "/platform/jobs"),
        "failed_mail": (1, "/platform/outbox?status=failed"),
    }
    page = await follow(make_client, "staff", "platform", items["failed_mail"][1])
    assert page.count('<tr id="mail-') == 1
    # nothing waits for the counselor: the section says so, with no items
    html = await centre(make_client, "staff", "counselor1", "/counselor")
    assert kit.todos(html) == {} and 'id="todo-none">暂无待办事项' in html


async def test_every_todo_count_is_read_on_an_index(db, world, clock):
    """The counts of each centre are one statement; its plan has no full scan of a table
    (on PostgreSQL with sequential scans priced out, which still scans when no index fits).
    The school admin's counts search on (school, state) both, not on the school alone."""
    now = clock.now()
    me = world.active_student(0)
    statements = {
        "student": todo.statement(todo.student_items(me.account_id, me.record_id, now)),
        "employer": todo.statement(todo.employer_items(world.employer_id, now)),
        "counselor": todo.statement(todo.counselor_items(world.schools[0].id,
                                                         world.schools[0].college_ids[0])),
        "school": todo.statement(todo.school_items(world.schools[0].id)),
        "platform": todo.statement(todo.platform_items()),
    }
    async with db.read() as conn:
        for role, stmt in statements.items():
            plan = await _plan(conn, stmt)
            if db.is_sqlite:
                scans = [line for line in plan if line.startswith("SCAN ")]
                assert scans == [], (role, plan)
                if role == "school":
                    searches = [line for line in plan if line.startswith("SEARCH ")]
                    assert len(searches) == 5 and all("status=?" in s for s in searches), plan
            else:
                assert not [line for line in plan if "Seq Scan" in line], (role, plan)


async def _plan(conn, stmt: sa.Select) -> list[str]:  # noqa: ANN001
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "sqlite":
        rows = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)
        return [r[-1].strip() for r in rows if "CONSTANT ROW" not in r[-1]]
    await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    return [r[0] for r in await conn.exec_driver_sql("EXPLAIN " + sql)]
