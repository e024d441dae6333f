"""Every long list pages and searches through app/paging.py: more rows than a page → the next
page shows the rest, a search narrows the list, a page past the end shows the last page,
and bad ?page= or ?q= values never give a 500."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Awaitable, Callable

import pytest
import sqlalchemy as sa

from app import paging
from app.db import Database
from app.notify import notices
from app.tables import employers, interview_sessions, jobs, student_records
from tests import todo_kit as kit
from tests.factories import PASSWORD

PER_PAGE = paging.PER_PAGE


def test_page_and_search_parameters_are_bounded():
    p = paging.params
    assert p({}) == paging.Params(1, "")
    for bad in ("abc", "-3", "0", "", "1.5", "１２", "²", "9" * 40):
        assert p({"page": bad}).page == 1, bad
    assert p({"page": "999999"}).page == paging.MAX_PAGE
    assert p({"page": "7"}).page == 7
    assert p({"q": "  张三 \u3000 S001  "}).q == "张三 S001"
    assert len(p({"q": "字" * 500}).q) == paging.Q_MAX


def test_search_words_are_literal_substrings():
    where = paging.matches("50%_off 张", student_records.c.name, student_records.c.student_no)
    sql = str(where.compile(compile_kwargs={"literal_binds": True}))
    assert "50/%/_off" in sql and sql.count("LIKE") == 4   # two words × two columns
    assert str(paging.matches("", student_records.c.name).compile()) == "true"


@pytest.fixture
async def db(settings):  # noqa: ANN001, ANN201
    database = Database(settings.database_url)
    yield database
    await database.dispose()


@dataclass(frozen=True)
class Listed:
    kind: str          # login kind and account of who reads the list
    account: str
    path: str          # the list, with its filter
    row: str           # a regex whose group is one row's id on the page
    per_page: int = PER_PAGE


Build = Callable[..., Awaitable[tuple[Listed, str, str]]]   # → (list, search term, its row id)


async def _students(conn, world, now, n, college=0, school=0):  # noqa: ANN001, ANN201
    s = world.schools[school]
    return [await kit.student(conn, s.id, s.college_ids[college], now) for _ in range(n)]


async def _name(conn, record_id: int) -> str:  # noqa: ANN001
    return (await conn.execute(sa.select(student_records.c.name).where(
        student_records.c.id == record_id))).scalar_one()


async def outbox(conn, world, now):  # noqa: ANN001, ANN201
    ids = [await kit.mail(conn, "pending", now) for _ in range(PER_PAGE + 3)]
    addr = (await conn.execute(sa.text("SELECT to_addr FROM email_outbox WHERE id = :i"),
                               {"i": ids[4]})).scalar_one()
    return Listed("staff", "platform", "/platform/outbox", r'<tr[^>]* id="mail-(\d+)"'), addr, str(ids[4])


async def employer_review(conn, world, now):  # noqa: ANN001, ANN201
    ids = [await kit.employer(conn, "pending", now) for _ in range(PER_PAGE + 3)]
    name = (await conn.execute(sa.select(employers.c.name).where(employers.c.id == ids[4]))).scalar_one()
    return (Listed("staff", "platform", "/platform/employers?state=pending",
                   r'href="/platform/employers/(\d+)[?"]'), name, str(ids[4]))


async def job_review(conn, world, now):  # noqa: ANN001, ANN201
    ids = [await kit.job(conn, world.employer_id, "pending", now) for _ in range(PER_PAGE + 3)]
    title = (await conn.execute(sa.select(jobs.c.title).where(jobs.c.id == ids[4]))).scalar_one()
    return Listed("staff", "platform", "/platform/jobs", r'href="/platform/jobs/(\d+)[?"]'), title, str(ids[4])


async def origin_queue(conn, world, now):  # noqa: ANN001, ANN201
    records = await _students(conn, world, now, PER_PAGE + 3)
    ids = [await kit.origin(conn, r, "submitted", now) for r in records]
    return (Listed("staff", "counselor0", "/reviews/origins?status=submitted",
                   r'href="/reviews/origins/(\d+)[?"]'), await _name(conn, records[4]), str(ids[4]))


async def recommendation_queue(conn, world, now):  # noqa: ANN001, ANN201
    records = await _students(conn, world, now, PER_PAGE + 3, college=1)
    ids = [await kit.recommendation(conn, r, "submitted", now) for r in records]
    return (Listed("staff", "school_admin0", "/school/recommendations?status=submitted",
                   r'href="/school/recommendations/(\d+)[?"]'), await _name(conn, records[4]), str(ids[4]))


async def agreement_queue(conn, world, now):  # noqa: ANN001, ANN201
    records = await _students(conn, world, now, PER_PAGE + 3)
    author = world.staff["employer"][1]
    ids = [await kit.agreement(conn, r, "school", now, created_by=author) for r in records]
    return (Listed("staff", "school_admin0", "/reviews/agreements?status=school",
                   r'href="/reviews/agreements/(\d+)[?"]'), await _name(conn, records[4]), str(ids[4]))


async def employer_agreements(conn, world, now):  # noqa: ANN001, ANN201
    records = await _students(conn, world, now, PER_PAGE + 3, school=1)
    author = world.staff["employer"][1]
    ids = [await kit.agreement(conn, r, "effective", now, created_by=author,
                               employer_id=world.employer_id) for r in records]
    return (Listed("employer", "employer", "/employer/agreements",
                   r'href="/employer/agreements/(\d+)"'), await _name(conn, records[4]), str(ids[4]))


async def termination_queue(conn, world, now):  # noqa: ANN001, ANN201
    records = await _students(conn, world, now, PER_PAGE + 3)
    author = world.staff["employer"][1]
    ids = []
    for r in records:
        agreement = await kit.agreement(conn, r, "effective", now, created_by=author)
        ids.append(await kit.termination(conn, agreement, "college_approved", now,
                                         applicant_role="employer", applicant_id=author))
    return (Listed("staff", "school_admin0", "/reviews/terminations?status=waiting",
                   r'href="/reviews/terminations/(\d+)[?"]'), await _name(conn, records[4]), str(ids[4]))


async def registration_queue(conn, world, now):  # noqa: ANN001, ANN201
    records = await _students(conn, world, now, PER_PAGE + 3)
    ids = [await kit.registration(conn, r, "submitted", now) for r in records]
    return (Listed("staff", "counselor0", "/reviews/registrations?status=submitted",
                   r'href="/reviews/registrations/(\d+)[?"]'), await _name(conn, records[4]), str(ids[4]))


async def hall_reports(conn, world, now):  # noqa: ANN001, ANN201
    other = await kit.employer(conn, "approved", now)
    ids = []
    for i in range(PER_PAGE + 3):
        owner = other if i == 4 else world.employer_id
        ids.append((await conn.execute(interview_sessions.insert().values(
            employer_id=owner, day=dt.date(2026, 3, 1) + dt.timedelta(days=i), starts_at=now,
            ends_at=now, status="ended", created_at=now).returning(interview_sessions.c.id))).scalar_one())
    name = (await conn.execute(sa.select(employers.c.name).where(employers.c.id == other))).scalar_one()
    return Listed("staff", "platform", "/monitor/reports", r'href="/monitor/reports/(\d+)"'), name, str(ids[4])


async def notice_list(conn, world, now):  # noqa: ANN001, ANN201
    me = world.active_student(0)
    for i in range(PER_PAGE + 3):
        await notices.add(conn, account_id=me.account_id, title=f"测试通知{i:03d}", at=now)
    return (Listed("student", me.email, "/notices", r"<strong>测试通知(\d+)</strong>"),
            "测试通知004", "004")


async def student_list(conn, world, now):  # noqa: ANN001, ANN201
    records = await _students(conn, world, now, 50)   # and the world's 3: 53 in all
    return (Listed("staff", "school_admin0", "/school/students", r'<td data-label="学号" class="nowrap">([ST]\d+)</td>', per_page=50),
            await _name(conn, records[4]),
            (await conn.execute(sa.select(student_records.c.student_no).where(
                student_records.c.id == records[4]))).scalar_one())


LISTS = [outbox, employer_review, job_review, origin_queue, recommendation_queue, agreement_queue,
         employer_agreements, termination_queue, registration_queue, hall_reports, notice_list,
         student_list]


def _with(path: str, **query: str) -> str:
    extra = "&".join(f"{k}={v}" for k, v in query.items())
    return f"{path}{'&' if '?' in path else '?'}{extra}"


@pytest.mark.parametrize("build", LISTS, ids=[b.__name__ for b in LISTS])
async def test_a_long_list_pages_searches_and_takes_bad_parameters(build: Build, db, world, clock,
                                                                   make_client):
    async with db.write() as conn:
        listed, term, wanted_id = await build(conn, world, clock.now())
    client = await make_client()
    await client.login(listed.kind, listed.account, PASSWORD)

    async def ids(path: str) -> list[str]:
        resp = await client.get(path)
        assert resp.status == 200, path
        return re.findall(listed.row, await resp.text())

    first = await ids(listed.path)
    second = await ids(_with(listed.path, page="2"))
    assert len(first) == listed.per_page and 1 <= len(second) < listed.per_page
    assert not set(first) & set(second)
    # a page past the end is the last page; nonsense is page 1
    assert await ids(_with(listed.path, page="999")) == second
    for bad in ("abc", "-1", "0", "99999999999999999999", "%FF"):
        assert await ids(_with(listed.path, page=bad)) == first, bad
    # a search narrows the list to the one row; a search too long is cut, not refused
    assert await ids(_with(listed.path, q=term)) == [wanted_id]
    assert await ids(_with(listed.path, q="无此" * 200)) == []
    # the page links keep the filter and the search
    html = await (await client.get(_with(listed.path, q=term[:1]))).text()
    links = re.findall(r'href="([^"]*)" rel="next"', html)
    if links:
        assert "q=" in links[0] and "page=2" in links[0]
