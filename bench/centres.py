"""Centre pages with their 待办事项, and a paged review list, at the size of a large school.

    python bench/centres.py [--db sqlite|postgres] [--graduates 60000] [--requests 30]

One school of 5 colleges × 3 majors gets --graduates graduates (tests/statistics_kit.py:
records and 生源 in every state), and as many agreements, registrations and 解约申请 again
spread over their states, so every count of the school admin's and the counselor's
待办事项 has tens of thousands of rows under it. The app is served in this process and
driven by an aiohttp client; each page --requests times, one after the other:
  /school (school admin centre), /counselor (counselor centre),
  /reviews/origins?status=&page=1, the same at page 1000 (a deep offset), and with ?q=.
Ratio lines: centre p99 / 300 ms, list p99 / 500 ms.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [e for e in sys.path if Path(e or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import datetime as dt  # noqa: E402
import random  # noqa: E402

import sqlalchemy as sa  # noqa: E402

from app.auth.service import create_account  # noqa: E402
from app.db import Database  # noqa: E402
from app.registration.tables import registrations  # noqa: E402
from app.roles import Role  # noqa: E402
from app.security import hash_password  # noqa: E402
from app.signing.tables import agreements  # noqa: E402
from app.tables import student_records  # noqa: E402
from app.termination.tables import termination_requests  # noqa: E402
from tests.statistics_kit import make_schools, populate  # noqa: E402
# the set-up, login, timing and percentiles as the statistics benchmark does them
import bench.statistics as stats_bench  # noqa: E402


AGREEMENT_STATES = ("college", "school", "scan_review", "returned", "effective", "generated")
REGISTRATION_STATES = ("draft", "submitted", "college_ok", "returned", "approved")
TERMINATION_STATES = ("submitted", "college_approved", "returned", "approved", "withdrawn")


async def seed(url: str, n: int) -> None:
    db = Database(url)
    now = dt.datetime.now(dt.timezone.utc)
    rng = random.Random(7)
    digest = hash_password(stats_bench.PASSWORD)
    try:
        async with db.write() as conn:
            [(school_id, pairs)] = await make_schools(conn, 1, 5, 3)
            await populate(conn, school_id, pairs, n, seed=11, now=now, years=(2026,))
            admin = await create_account(conn, role=Role.SCHOOL_ADMIN, username="bench_school",
                                         password=None, password_hash=digest, display_name="bench",
                                         now=now, school_id=school_id)
            await create_account(conn, role=Role.COUNSELOR, username="bench_counselor", password=None,
                                 password_hash=digest, display_name="bench", now=now,
                                 school_id=school_id, college_id=pairs[0][0])
            records = list(await conn.execute(sa.select(
                student_records.c.id, student_records.c.college_id)
                .where(student_records.c.school_id == school_id)))
            for start in range(0, len(records), 2000):
                chunk = records[start:start + 2000]
                ags = [dict(channel="online", status=rng.choice(AGREEMENT_STATES), student_record_id=r.id,
                            school_id=school_id, college_id=r.college_id, created_by=admin,
                            data={}, scans=[], created_at=now, updated_at=now) for r in chunk]
                ids = [x.id for x in await conn.execute(
                    agreements.insert().returning(agreements.c.id, sort_by_parameter_order=True), ags)]
                await conn.execute(registrations.insert(), [dict(
                    school_id=school_id, college_id=r.college_id, student_record_id=r.id,
                    status=rng.choice(REGISTRATION_STATES), code="46", data={}, files={},
                    created_at=now, updated_at=now, submitted_at=now) for r in chunk])
                await conn.execute(termination_requests.insert(), [dict(
                    agreement_id=a, student_record_id=r.id, school_id=school_id,
                    college_id=r.college_id, applicant_role="student", applicant_id=admin,
                    status=rng.choice(TERMINATION_STATES), reason_code="personal_study",
                    reason_text="bench", created_at=now, updated_at=now, submitted_at=now)
                    for a, r in zip(ids, chunk)])
        async with db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("ANALYZE")
    finally:
        await db.dispose()


async def run(args: argparse.Namespace) -> None:
    said = (f"{args.graduates} graduates (with as many agreements, registrations and 解约申请) "
            "in one school")
    async with stats_bench.served(args.db, "centres", lambda url: seed(url, args.graduates),
                                  said) as served:
        base = served.base
        worst = {"centre": 0.0, "list": 0.0}
        school = await stats_bench.login(base, "bench_school")
        counselor = await stats_bench.login(base, "bench_counselor")
        pages = (("school centre", "centre", school, "/school"),
                 ("counselor centre", "centre", counselor, "/counselor"),
                 ("origin list p1", "list", school, "/reviews/origins?status=&page=1"),
                 ("origin list p1000", "list", school, "/reviews/origins?status=&page=1000"),
                 ("origin list q", "list", school, "/reviews/origins?status=&q=G0012"))
        for name, kind, session, path in pages:
            await stats_bench.timed_pages(session, base + path, 2)   # warm up
            t = await stats_bench.timed_pages(session, base + path, args.requests)
            p50, p99 = stats_bench.p(t, .5), stats_bench.p(t, .99)
            worst[kind] = max(worst[kind], p99)
            print(f"{name:18s} n={len(t)} p50={p50:7.1f} ms p99={p99:7.1f} ms")
        print(f"ratio centre p99 / 300 ms: {worst['centre'] / 300:.2f}")
        print(f"ratio list p99 / 500 ms: {worst['list'] / 500:.2f}")
        await school.close()
        await counselor.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--graduates", type=int, default=60_000)
    parser.add_argument("--requests", type=int, default=30)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
