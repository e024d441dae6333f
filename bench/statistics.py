"""就业统计 benchmark: a generated province on one served app.

    python bench/statistics.py [--db sqlite|postgres] [--schools 20 --graduates 60000]
                               [--requests 30]

A fresh database (a SQLite file in a temp folder, or a fresh PostgreSQL database on
127.0.0.1:5432 as user postgres, dropped at the end) is migrated and filled in bulk with
tests/statistics_kit.py: --schools schools of 5 colleges × 3 majors, --graduates graduates
of 2026 spread over them, each with a 生源 record (most) and a destination (most). The app
is served in this process (aiohttp TestServer, real sockets) and driven with an aiohttp
client logged in as a school admin and as a platform admin:
  - GET /statistics?year=2026 --requests times each, one after the other: p50/p99;
  - 导出毕业生去向 as the platform admin (every graduate, one row each, 53 columns): the
    export job from the click to the file downloaded, and the peak RSS growth of this
    process (VmHWM reset through /proc/self/clear_refs before, read after); the same
    export of the school admin's school;
  - the school admin's statistics page --requests times while the platform export runs:
    its p99 against the p99 at rest.
  - an import of --import-rows new student records (学号, 姓名, 身份证号 … as a school's
    CSV) into the first school, through the import job as 【导入学生信息】 runs it: time, and
    the peak RSS growth of this process.
Ratio lines: p99 / 300 ms (school), p99 / 1 s (platform), export s / 10 s (the whole
province), school export s / 1 s, RSS growth / 100 MB, p99 during the export / p99 at rest
(goal ≤ 1.5), import s / 30 s, import RSS growth / 100 MB.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file's name is the standard library's `statistics`, which the app imports: take its
# folder off the import path before anything else is imported.
sys.path[:] = [e for e in sys.path if Path(e or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from typing import AsyncIterator, Awaitable, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import yarl  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402

from app.auth.service import create_account  # noqa: E402
from app.config import Settings  # noqa: E402
from app.db import Database  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.roles import Role  # noqa: E402
from app.security import hash_password  # noqa: E402
from app.web import create_app  # noqa: E402
from bench.hall_load import drop_postgres, fresh_postgres  # noqa: E402
from tests.statistics_kit import make_schools, populate  # noqa: E402

PASSWORD = "Bench12345!"


def _status(field: str) -> float:
    """A VmRSS/VmHWM figure of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


async def seed(url: str, n_schools: int, n_graduates: int) -> None:
    db = Database(url)
    now = dt.datetime.now(dt.timezone.utc)
    digest = hash_password(PASSWORD)
    try:
        async with db.write() as conn:
            made = await make_schools(conn, n_schools, 5, 3)
            per = n_graduates // n_schools
            for i, (sid, pairs) in enumerate(made):
                await populate(conn, sid, pairs, per + (n_graduates % n_schools if i == 0 else 0),
                               seed=100 + i, now=now, prefix=f"B{i}", years=(2026,))
            await create_account(conn, role=Role.SCHOOL_ADMIN, username="bench_school", password=None,
                                 password_hash=digest, display_name="bench", now=now,
                                 school_id=made[0][0])
            await create_account(conn, role=Role.PLATFORM_ADMIN, username="bench_platform",
                                 password=None, password_hash=digest, display_name="bench", now=now)
        # A deployment's planner has table statistics (autovacuum on PostgreSQL, ANALYZE
        # after an import on SQLite); a bulk load just made has none yet.
        async with db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("ANALYZE")
    finally:
        await db.dispose()


async def login(base: str, username: str) -> aiohttp.ClientSession:
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with session.get(base + "/") as resp:
        await resp.read()
    token = session.cookie_jar.filter_cookies(yarl.URL(base))["csrftoken"].value
    async with session.post(base + "/login/staff", allow_redirects=False, data={
            "account": username, "password": PASSWORD, "_csrf": token}) as resp:
        if resp.status != 303:
            raise SystemExit(f"login {username} failed: {resp.status}")
    return session


async def timed_pages(session: aiohttp.ClientSession, url: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        async with session.get(url) as resp:
            await resp.read()
            if resp.status != 200:
                raise SystemExit(f"{url}: {resp.status}")
        times.append((time.perf_counter() - start) * 1000)
    return times


async def export(session: aiohttp.ClientSession, base: str) -> int:
    """导出毕业生去向 as a user does it: the click (a job), its progress polled, the file
    downloaded in chunks and dropped; the file's size."""
    token = session.cookie_jar.filter_cookies(yarl.URL(base))["csrftoken"].value
    async with session.post(base + "/exports", allow_redirects=False, data={
            "kind": "graduates", "year": "2026", "_csrf": token}) as resp:
        if resp.status != 303:
            raise SystemExit(f"export: {resp.status} {await resp.text()}")
        job = base + resp.headers["Location"].split("?")[0]
    while True:
        async with session.get(job + "/status") as resp:
            status = await resp.json()
        if status["status"] == "done":
            break
        if status["status"] not in ("queued", "running"):
            raise SystemExit(f"export: {status}")
        await asyncio.sleep(0.1)
    size = 0
    async with session.get(base + status["download"]) as resp:
        if resp.status != 200:
            raise SystemExit(f"download: {resp.status}")
        async for chunk in resp.content.iter_chunked(256 * 1024):
            size += len(chunk)
    return size


async def bench_import(url: str, settings: Settings, n: int) -> None:
    """n new records for the first school, as one CSV, through the import runner."""
    import dataclasses

    import sqlalchemy as sa

    from app.clock import Clock
    from app.offload import CpuPool
    from app.students.imports import ImportRunner
    from app.tables import colleges, majors, schools
    from app.validators import make_id_number
    db = Database(url)
    cpu = CpuPool(2)
    try:
        async with db.read() as conn:
            school_id = (await conn.execute(sa.select(sa.func.min(schools.c.id)))).scalar_one()
            pairs = list(await conn.execute(sa.select(colleges.c.name, majors.c.name)
                                            .join(majors, majors.c.college_id == colleges.c.id)
                                            .where(colleges.c.school_id == school_id)))
        lines = ["学号,姓名,身份证号,性别,学院,专业,学历,毕业年份,班级"]
        born = dt.date(2003, 1, 1)
        for i in range(n):
            college, major = pairs[i % len(pairs)]
            seq = i % 999 + 1  # its last digit's parity is the gender the number carries
            lines.append(f"I{i:07d},导入{i},{make_id_number('500103', born + dt.timedelta(days=i % 3000), seq)},"
                         f"{'男' if seq % 2 else '女'},{college},{major},本科生,2027,{i % 30 + 1}班")
        data = ("\n".join(lines) + "\n").encode("utf-8-sig")
        del lines
        runner = ImportRunner(db, dataclasses.replace(settings, import_max_rows=max(n, 50_000),
                                                      import_max_seconds=3600),
                              Clock(), cpu)
        Path("/proc/self/clear_refs").write_text("5")
        rss_before = _status("VmRSS")
        start = time.perf_counter()
        job_id = await runner.create(school_id=school_id, account_id=None, filename="bench.csv",
                                     data=data)
        runner.start(job_id)
        await runner.drain()
        took = time.perf_counter() - start
        growth = _status("VmHWM") - rss_before
        async with db.read() as conn:
            from app.tables import import_jobs
            job = (await conn.execute(sa.select(import_jobs).where(import_jobs.c.id == job_id))).one()
        print(f"import of {n} student records: {took:.1f} s, status {job.status}, "
              f"created {job.created_rows}, {len(data) / 2**20:.1f} MB file, peak RSS growth {growth:.1f} MB")
        print(f"ratio import s / 30 s: {took / 30:.2f}")
        print(f"ratio import RSS growth / 100 MB: {growth / 100:.2f}")
    finally:
        cpu.close()
        await db.dispose()


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


@dataclass(frozen=True)
class Served:
    url: str            # the database
    settings: Settings
    base: str           # the app's address


@contextlib.asynccontextmanager
async def served(db: str, name: str, fill: Callable[[str], Awaitable[None]],
                 said: str) -> AsyncIterator[Served]:
    """A fresh database (a SQLite file in a temp folder, or a PostgreSQL database on
    127.0.0.1:5432 dropped at the end), migrated, filled by `fill(url)` (timed and said), and
    the app served on it in this process (aiohttp TestServer, real sockets): the set-up every
    page benchmark shares."""
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    pg_name = None
    if db == "postgres":
        url, pg_name = await fresh_postgres(f"bench_{name}")
    else:
        url = f"sqlite+aiosqlite:///{tmp / 'app.db'}"
    try:
        await asyncio.to_thread(upgrade, url)
        start = time.perf_counter()
        await fill(url)
        print(f"seeded {said} on {db} in {time.perf_counter() - start:.1f} s", flush=True)
        settings = Settings.from_env({}, data_dir=tmp / "data", database_url=url,
                                     secret_key="bench-secret", public_base_url="http://127.0.0.1",
                                     log_level="WARNING")
        server = TestServer(create_app(settings), host="127.0.0.1")
        await server.start_server()
        try:
            yield Served(url, settings, str(server.make_url("")).rstrip("/"))
        finally:
            await server.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if pg_name:
            await drop_postgres(pg_name)


async def run(args: argparse.Namespace) -> None:
    said = f"{args.graduates} graduates in {args.schools} schools"
    async with served(args.db, "stats", lambda url: seed(url, args.schools, args.graduates),
                      said) as place:
        url, settings, base = place.url, place.settings, place.base
        school = await login(base, "bench_school")
        platform = await login(base, "bench_platform")
        page = "/statistics?year=2026"
        await timed_pages(school, base + page, 2)      # warm caches, compile templates
        await timed_pages(platform, base + page, 2)
        results = {}
        for name, session in (("school", school), ("platform", platform)):
            t = await timed_pages(session, base + page, args.requests)
            results[name] = t
            print(f"statistics page ({name:8s}) n={len(t)} p50={p(t, .5):7.1f} ms "
                  f"p99={p(t, .99):7.1f} ms  mean={statistics.mean(t):7.1f} ms")
        Path("/proc/self/clear_refs").write_text("5")   # reset VmHWM to the current RSS
        rss_before = _status("VmRSS")
        start = time.perf_counter()
        running = asyncio.create_task(export(platform, base))
        during = []
        while not running.done() and len(during) < args.requests:
            during += await timed_pages(school, base + page, 1)
        size = await running
        export_s = time.perf_counter() - start
        growth = _status("VmHWM") - rss_before
        print(f"export of {args.graduates} graduates: {export_s:.1f} s, {size / 2**20:.1f} MB file, "
              f"RSS {rss_before:.0f} MB before, peak growth {growth:.1f} MB")
        print(f"statistics page (school  ) during the export n={len(during)} "
              f"p50={p(during, .5):7.1f} ms p99={p(during, .99):7.1f} ms")
        start = time.perf_counter()
        school_size = await export(school, base)
        school_s = time.perf_counter() - start
        print(f"export of the school admin's school: {school_s:.2f} s, "
              f"{school_size / 2**20:.1f} MB file")
        print(f"ratio school p99 / 300 ms: {p(results['school'], .99) / 300:.2f}")
        print(f"ratio platform p99 / 1 s: {p(results['platform'], .99) / 1000:.2f}")
        print(f"ratio export s / 10 s: {export_s / 10:.2f}")
        print(f"ratio school export s / 1 s: {school_s:.2f}")
        print(f"ratio RSS growth / 100 MB: {growth / 100:.2f}")
        print(f"ratio school p99 during the export / at rest: "
              f"{p(during, .99) / p(results['school'], .99):.2f}")
        await school.close()
        await platform.close()
        if args.import_rows:
            await bench_import(url, settings, args.import_rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--schools", type=int, default=20)
    parser.add_argument("--graduates", type=int, default=60_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--import-rows", type=int, default=200_000)
    args = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
