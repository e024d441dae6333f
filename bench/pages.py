"""Pages under load: the job board, a job's page, 学生中心 and 我的投递 against a bare
aiohttp "hello", in the same run.

    python bench/pages.py [--db sqlite|postgres] [--jobs 200] [--seconds 10]
                          [--connections 32] [--redis]

A fresh database (a SQLite file in a temp folder, or a fresh PostgreSQL database on
127.0.0.1:5432 as user postgres, dropped at the end) is migrated and given the test world
(tests/factories.py), --jobs published jobs (so the board has pages and its filters have
cities), and a student who applied to five of them. One `python -m app serve` process
serves it (LOG_LEVEL=WARNING: no access log line per request, as for the hello), with
REDIS_URL when --redis (the page cache's generation is then a Redis GET per request). A
second process serves a bare aiohttp "hello". Each page is loaded by `wrk` (one thread,
--connections connections, --seconds seconds, after a 1 s warm-up) or, without wrk, by an
equivalent Python loader of two processes. The anonymous pages are asked for as a
returning visitor (with its CSRF cookie); 学生中心 and 我的投递 with a student's session.

A third process serves the same database with SESSION_CACHE_ENTRIES=0 and
ACCOUNT_PAGE_CACHE_ENTRIES=0: its 学生中心 and 我的投递 ("uncached") are what a view costs
when a change has just dropped the student's cached session and pages.

Figures: req/s and p99 of each; ratio lines: each page's req/s / hello's req/s (goal:
board ≥ 0.25, the logged-in pages ≥ 0.10; none for the uncached ones) and each p99 /
hello's p99.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOALS = {"job board": 0.25, "job page": 0.25, "学生中心": 0.10, "我的投递": 0.10}
UNCACHED = ("学生中心 uncached", "我的投递 uncached")  # every view after a change: no goal


def hello_server(port: int) -> None:
    from aiohttp import web

    async def hello(_request: web.Request) -> web.Response:
        return web.Response(text="hello")
    app = web.Application()
    app.router.add_get("/", hello)
    web.run_app(app, host="127.0.0.1", port=port, print=None)


async def seed(url: str, data_dir: Path, n_jobs: int) -> dict:
    from app.applications import service as applications
    from app.db import Database
    from app.jobs import service as jobs
    from app.uploads import FileStore
    from tests.factories import PASSWORD, build_world
    from tests.helpers import job_input, saved_resume

    now = dt.datetime.now(dt.timezone.utc)
    world = await build_world(url, now)
    student = world.active_student()
    await saved_resume(url, student.account_id, now, name=student.name)
    cities = ("重庆", "成都", "西安", "武汉", "南京", "杭州", "长沙", "贵阳")
    db = Database(url)
    try:
        async with db.write() as conn:
            ids = []
            for n in range(n_jobs):
                job_id = await jobs.create(
                    conn, world.employer_id,
                    job_input(f"岗位{n:04d} 软件开发工程师", city=cities[n % len(cities)]),
                    actor_id=world.staff["employer"][1], now=now)
                await jobs.review(conn, job_id, "approve", actor_id=world.staff["platform"][1],
                                  reason=None, now=now)
                ids.append(job_id)
            for job_id in ids[:5]:
                await applications.apply(conn, FileStore(data_dir), job_id=job_id,
                                         account_id=student.account_id, now=now)
        async with db.engine.connect() as conn:  # a deployment's planner has statistics
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("ANALYZE")
    finally:
        await db.dispose()
    return {"email": student.email, "password": PASSWORD, "job_id": ids[len(ids) // 2]}


def wait_for(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"server for {url} did not start")
            time.sleep(0.2)


def cookies_of(base: str, student: dict) -> tuple[str, str]:
    """(a returning visitor's cookie, a logged-in student's cookie)."""
    import http.cookiejar
    import urllib.parse
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(base + "/").read()
    csrf = next(c.value for c in jar if c.name == "csrftoken")
    visitor = f"csrftoken={csrf}"
    data = urllib.parse.urlencode({"account": student["email"], "password": student["password"],
                                   "_csrf": csrf}).encode()
    opener.open(base + "/login/student", data=data).read()
    values = {c.name: c.value for c in jar}
    if "sid" not in values:
        raise SystemExit("student login failed")
    return visitor, "; ".join(f"{k}={v}" for k, v in values.items())


def check_page(url: str, cookie: str, expect: str) -> None:
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=10) as r:
        body = r.read().decode()
        if r.status != 200 or expect not in body or r.url != url:
            raise SystemExit(f"{url}: {r.status}, {r.url}, {expect!r} not in the page")


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, cookie: str, seconds: float, connections: int) -> tuple[float, float]:
    common = ["wrk", "-t1", f"-c{connections}", "--timeout", "10s"]
    if cookie:
        common += ["-H", f"Cookie: {cookie}"]
    subprocess.run(common + ["-d1s", url], capture_output=True, check=True)  # warm-up
    out = subprocess.run(common + [f"-d{max(1, round(seconds))}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"{url}: error answers under load\n{out}")
    for line in out.splitlines():
        if "Socket errors" in line:
            print(f"  ({url}: {line.strip()})")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    return rps, _ms(p99[1], p99[2])


def _loader(url: str, cookie: str, seconds: float, connections: int, out) -> None:  # noqa: ANN001
    import aiohttp

    async def run() -> None:
        latencies: list[float] = []
        end = time.perf_counter() + seconds
        async with aiohttp.ClientSession(headers={"Cookie": cookie} if cookie else {},
                                         connector=aiohttp.TCPConnector(limit=connections)) as s:
            async def one() -> None:
                while time.perf_counter() < end:
                    start = time.perf_counter()
                    async with s.get(url, allow_redirects=False) as resp:
                        await resp.read()
                        if resp.status != 200:
                            raise SystemExit(f"{url}: {resp.status}")
                    latencies.append((time.perf_counter() - start) * 1000)
            await asyncio.gather(*(one() for _ in range(connections)))
        out.put(latencies)
    asyncio.run(run())


def python_load(url: str, cookie: str, seconds: float, connections: int,
                processes: int = 2) -> tuple[float, float]:
    """wrk's figures from a Python loader: `processes` processes sharing the connections."""
    queue = multiprocessing.Queue()
    per = max(1, connections // processes)
    workers = [multiprocessing.Process(target=_loader, args=(url, cookie, seconds, per, queue))
               for _ in range(processes)]
    for w in workers:
        w.start()
    latencies = [x for _ in workers for x in queue.get()]
    for w in workers:
        w.join()
    latencies.sort()
    return len(latencies) / seconds, latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]


def _padded(name: str, width: int = 10) -> str:
    """Left-aligned in `width` terminal columns (a Chinese character takes two)."""
    return name + " " * max(0, width - sum(2 if ord(ch) > 0x2E80 else 1 for ch in name))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--redis", action="store_true", help="serve with REDIS_URL set")
    parser.add_argument("--python-loader", action="store_true", help="even when wrk is installed")
    parser.add_argument("--hello", type=int, help=argparse.SUPPRESS)  # the hello server itself
    args = parser.parse_args()
    if args.hello:
        hello_server(args.hello)
        return
    from app.migrate import upgrade
    from tests.mailbox import free_port

    tmp = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    pg_name = None
    if args.db == "postgres":
        from bench.hall_load import fresh_postgres
        url, pg_name = asyncio.run(fresh_postgres("bench_pages"))
    else:
        url = f"sqlite+aiosqlite:///{tmp / 'app.db'}"
    procs: list[subprocess.Popen] = []
    try:
        upgrade(url)
        student = asyncio.run(seed(url, tmp / "data", args.jobs))
        app_port, hello_port = free_port(), free_port()
        env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": str(tmp / "data"),
               "SECRET_KEY": "bench-secret", "PUBLIC_BASE_URL": f"http://127.0.0.1:{app_port}",
               "LOG_LEVEL": "WARNING", "SMTP_HOST": ""}
        if args.redis:
            env["REDIS_URL"] = f"redis://127.0.0.1:6379/0?channel=bench{uuid.uuid4().hex[:8]}"
        procs.append(subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(app_port)],
                                      cwd=ROOT, env=env, stdout=subprocess.DEVNULL))
        procs.append(subprocess.Popen([sys.executable, __file__, "--hello", str(hello_port)],
                                      cwd=ROOT, stdout=subprocess.DEVNULL))
        # the same pages with no logged-in cache: what a view costs after each change
        uncached_port = free_port()
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(uncached_port)], cwd=ROOT,
            env={**env, "SESSION_CACHE_ENTRIES": "0", "ACCOUNT_PAGE_CACHE_ENTRIES": "0"},
            stdout=subprocess.DEVNULL))
        base = f"http://127.0.0.1:{app_port}"
        uncached = f"http://127.0.0.1:{uncached_port}"
        wait_for(base + "/healthz", procs[0])
        wait_for(f"http://127.0.0.1:{hello_port}/", procs[1])
        wait_for(uncached + "/healthz", procs[2])
        visitor, logged_in = cookies_of(base, student)
        targets = [
            ("hello", f"http://127.0.0.1:{hello_port}/", "", "hello"),
            ("job board", base + "/jobs", visitor, "招聘岗位"),
            ("job page", f"{base}/jobs/{student['job_id']}", visitor, "岗位描述"),
            ("学生中心", base + "/student", logged_in, "学生中心"),
            ("我的投递", base + "/student/applications", logged_in, "岗位0000"),
            ("学生中心 uncached", uncached + "/student", logged_in, "学生中心"),
            ("我的投递 uncached", uncached + "/student/applications", logged_in, "岗位0000"),
        ]
        use_wrk = shutil.which("wrk") is not None and not args.python_loader
        print(f"pages on {args.db}{' + Redis' if args.redis else ''}: {args.jobs} jobs, "
              f"{'wrk -t1' if use_wrk else 'Python loader, 2 processes'} "
              f"-c{args.connections} for {args.seconds:g} s each, one server process")
        figures = {}
        for name, target, cookie, expect in targets:
            check_page(target, cookie, expect)
            load = wrk if use_wrk else python_load
            rps, p99 = load(target, cookie, args.seconds, args.connections)
            figures[name] = (rps, p99)
            print(f"{_padded(name, 18)} req/s={rps:9.1f} p99={p99:8.2f} ms")
        hello_rps, hello_p99 = figures["hello"]
        for name, goal in GOALS.items():
            rps, p99 = figures[name]
            print(f"ratio {name} req/s / hello req/s: {rps / hello_rps:.2f} (goal >= {goal:.2f})")
        for name in UNCACHED:
            print(f"ratio {name} req/s / hello req/s: {figures[name][0] / hello_rps:.2f}")
        for name in (*GOALS, *UNCACHED):
            print(f"ratio {name} p99 / hello p99: {figures[name][1] / hello_p99:.2f}")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)
        if pg_name:
            from bench.hall_load import drop_postgres
            asyncio.run(drop_postgres(pg_name))


if __name__ == "__main__":
    main()
