"""Authenticated pages read the database at most three times (session and account and the
header's unread count in one query, then the page's own), and a cached public page not at
all. Statements are counted with SQLAlchemy's cursor event on the app's own engine: a
count, not a timing. Transaction control (BEGIN/COMMIT) is not a query and is not counted,
nor are the statements of the app's background tasks (hall sweeper, leases, outbox) that
happen to run meanwhile: only those made in aiohttp's request-serving task.

If a page gains a panel (a to-do list on 学生中心, say), its counts belong in one of these
queries, or this test says by how many the page went over."""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Iterator

import pytest
import sqlalchemy as sa

from app.state import DB
from app.tables import notices
from tests.conftest import count
from tests.factories import PASSWORD
from tests.helpers import published_job, saved_resume
from tests.test_applicant_list import applicants

QUERY_WORDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


@contextlib.contextmanager
def statements(app) -> Iterator[list[str]]:  # noqa: ANN001
    seen: list[str] = []

    def on_execute(_conn, _cursor, statement, *_args):  # noqa: ANN001
        task = asyncio.current_task()
        serving = task is not None and task.get_coro().__qualname__.startswith("RequestHandler.")
        if serving and statement.lstrip().split(None, 1)[0].upper() in QUERY_WORDS:
            seen.append(statement)

    engine = app[DB].engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)


@pytest.fixture
async def applied(make_client, world, settings, clock):  # noqa: ANN201
    """A student who applied to one job, and the employer of that job; both logged in."""
    job_id = await published_job(settings.database_url, world.employer_id,
                                 world.staff["employer"][1], world.staff["platform"][1],
                                 clock.now(), title="查询计数岗位")
    student = world.active_student()
    await saved_resume(settings.database_url, student.account_id, clock.now(), name=student.name)
    s = await make_client()
    await s.login("student", student.email, PASSWORD)
    assert (await s.post(f"/jobs/{job_id}/apply")).status == 303
    e = await make_client()
    await e.login("employer", "employer", PASSWORD)
    return s, e, job_id


async def _count(app, client, path: str) -> tuple[int, str]:  # noqa: ANN001
    with statements(app) as seen:
        resp = await client.get(path)
        page = await resp.text()
    assert resp.status == 200, page
    return len(seen), page


async def test_student_centre_in_three_queries(app, applied):
    student, _, _ = applied
    n, page = await _count(app, student, "/student")
    assert "学生中心" in page and n <= 3, f"{n} queries"


async def test_my_applications_in_three_queries(app, applied):
    student, _, _ = applied
    n, page = await _count(app, student, "/student/applications")
    assert "查询计数岗位" in page and n <= 3, f"{n} queries"


async def test_a_students_own_pages_seen_again_read_nothing(app, applied):
    """The session and the page are kept in memory (app/accountcache.py) until a write
    changes what they show: the second view of each asks the database nothing."""
    student, _, _ = applied
    for path, shown in (("/student", "学生中心"), ("/student/applications", "查询计数岗位")):
        first, _ = await _count(app, student, path)
        again, page = await _count(app, student, path)
        assert shown in page and first >= 1 and again == 0, (path, first, again)


async def test_applicant_list_reads_the_same_few_statements_however_many_applied(
        app, applied, world, settings, clock):
    """A list on the component reads the job (its own?), the filter options, the count and
    the page: four, whether one student applied or twenty-one."""
    _, employer, job_id = applied
    path = f"/employer/jobs/{job_id}/applicants"
    await _count(app, employer, path)            # the session is read once, then cached
    n, page = await _count(app, employer, path)
    assert world.active_student().name in page and n <= 4, f"{n} queries"
    await applicants(settings.database_url, world, job_id, clock.now(), 20)
    again, page = await _count(app, employer, path)
    shown = int(re.search(r'data-total="(\d+)"', page).group(1))
    assert shown == 17 and again == n, (shown, n, again)   # the first and 16 of the 20 (4 withdrew)


async def test_the_header_count_of_unread_notices_comes_with_the_session(app, applied, world,
                                                                        settings):
    """The employer was told of the job's approval and of the application: the header's
    badge shows both, read in the session's query; reading them empties it."""
    _, employer, _ = applied
    unread = await count(settings.database_url, notices,
                         notices.c.account_id == world.staff["employer"][1],
                         notices.c.read_at.is_(None))
    assert unread == 2
    page = await (await employer.get("/employer")).text()
    assert f'aria-label="{unread}条未读"' in page
    assert (await employer.post("/notices/read")).status == 303
    assert "条未读" not in await (await employer.get("/employer")).text()


async def test_a_cached_public_page_reads_nothing(app, make_client, world, settings, clock):
    await published_job(settings.database_url, world.employer_id, world.staff["employer"][1],
                        world.staff["platform"][1], clock.now())
    anon = await make_client()
    first, _ = await _count(app, anon, "/jobs")
    again, _ = await _count(app, anon, "/jobs")
    assert first >= 2 and again == 0, (first, again)

