"""Hall load benchmark: many waiting students over many booths on one server process.

    python bench/hall_load.py [--clients 2000 --booths 100 --calls 200 --db sqlite|postgres]
                              [--monitors 1]
    python bench/hall_load.py --clients 5000 --booths 250 --workers 3 [--db postgres]
    python bench/hall_load.py --mode cluster --clients 1000 --booths 50 --workers 2

--workers N puts the students in N client processes (bench/hall_spread.py, whose docstring
says what it measures: the connect and join burst, then calls without and with 20 logins
per second); without it everything below runs in this process. --mode cluster runs the
--workers run twice in one go on fresh PostgreSQL databases: against one process, then
against two processes behind nginx on Redis (tests/cluster_kit.py), and compares them.

A fresh database (a SQLite file in a temp folder, or a fresh PostgreSQL database on
127.0.0.1:5432 as user postgres) is migrated and seeded in bulk: employers with a job and
an interview session each, students invited to consecutive 5-minute slots, and a login
session per account (so no client logs in over HTTP). The server runs as a separate
process (`python -m app serve`, real clock); this process is the load generator: it
connects every student and employer as a real socket.io client (websocket, session
cookie, Origin), students `join` their booth's queue, employers `watch` their booth, and
`--monitors` platform admins (one account, one socket each) watch the hall on `/monitor`
(connected before the joins, `refresh` once, then receiving `booth` summaries).

Measured in this process with one clock (time.perf_counter), from the employer's emit:
  - call-next → called: until the called student's client receives `called`;
  - position update: until each other waiter of that booth receives its new place (`queue`);
  - echo: the ack round trip of the cheap `ping` event from ~100 students, sampled while
    the calls run, as the floor the two figures above are compared against;
  - monitor update delay (each admin, each change), from the moment the change is *sent*
    (the emit of `join` / `call_next`, not its ack) until the admin receives a `booth`
    summary of that booth that shows it: for a join, the student among the booth's
    `waiting`; for a call_next, the called student no longer among them (called, in the
    call or already done: the monitor coalesces changes for 0.25 s, so one summary may
    show the call, the answer and the finish at once). The call_next figure (2,000 clients
    connected, ~2,000 waiting) is the headline, compared with the 2 s the issue allows;
    the join figure is the burst of all joins (--concurrency in flight), whose own ack
    time is printed with it. Each delay is also given from the change's ack (the part
    the monitor adds after the hall answered; negative when the summary came first).
    The `booth` events each admin received are counted, and stale ones (a summary older
    than one already received). --monitors 0 leaves the monitor out.
After each measured call the student answers and the employer finishes with 待定, so the
booth's next call is measured too. Server RSS comes from /proc/<pid>/status at the end.
Exits non-zero when clients fail to connect or join, or samples are missing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import math
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import socketio  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from app.auth import sessions  # noqa: E402
from app.auth.service import create_account  # noqa: E402
from app.db import Database  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.roles import Role  # noqa: E402
from app.security import hash_password  # noqa: E402
from app.tables import (accounts, applications, colleges, employers, interview_sessions,  # noqa: E402
                        interviews, jobs, majors, schools, student_records)

CHINA = dt.timezone(dt.timedelta(hours=8))
SLOT_MINUTES = 5
STEP_TIMEOUT = 30.0  # any single wait: an ack, an event, a connect
MONITOR_BUDGET_MS = 2000  # the issue: the monitor "updates live (within 2 s of a change)"
SERVER_ENV = {
    # every student's slot is within the next hours: let all of them queue now
    "HALL_OPEN_MINUTES": "1440",
}


class BenchFailure(Exception):
    pass


# ---- seeding ------------------------------------------------------------------------

@dataclass
class Student:
    account_id: int
    interview_id: int
    name: str = ""  # display name: how the monitor's `waiting` list shows the student
    turn: int = 0   # place in the booth's slot order
    cookie: str = ""
    ticket_id: int | None = None
    sio: socketio.AsyncClient | None = None
    want_called: asyncio.Future | None = None
    want_position: tuple[int, asyncio.Future] | None = None


@dataclass
class Booth:
    employer_id: int
    account_id: int
    session_id: int
    students: list[Student] = field(default_factory=list)  # in slot order
    cookie: str = ""
    sio: socketio.AsyncClient | None = None


def _batches(rows: list[dict[str, Any]], size: int = 500):
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def _snapshot(name: str, i: int, now: dt.datetime) -> dict[str, Any]:
    """What app/applications/service.apply keeps: the student's card and the resume sent
    (the employer's room shows it during the call)."""
    return {"student": {"name": name, "student_no": f"B{i:08d}", "education": "本科",
                        "graduation_year": now.year, "school": "压测大学", "college": "计算机学院",
                        "major": "计算机科学与技术", "email": f"s{i}@bench.example.cn",
                        "phone": f"139{i:08d}"},
            "resume": {"kind": "zh", "title": "中文简历", "data": {
                "self_evaluation": {"text": "认真负责，乐于学习。"}}},
            "sent_at": now.isoformat()}


async def seed(url: str, n_students: int, n_booths: int, now: dt.datetime) -> tuple[list[Booth], str]:
    """Bulk inserts with explicit ids (the database is fresh), then a session per account.
    Returns the booths and the session cookie of a platform admin (for /monitor)."""
    pw = hash_password("bench-password-1")  # one argon2 hash for every account
    today = now.astimezone(CHINA).date()
    first = now + dt.timedelta(minutes=1)
    per_booth = math.ceil(n_students / n_booths)
    ends = first + dt.timedelta(minutes=SLOT_MINUTES * per_booth)
    booths = [Booth(employer_id=e, account_id=e, session_id=e) for e in range(1, n_booths + 1)]
    rows: dict[Any, list[dict[str, Any]]] = {t: [] for t in (
        accounts, employers, jobs, student_records, applications, interview_sessions, interviews)}
    for b in booths:
        e = b.employer_id
        rows[employers].append(dict(id=e, name=f"压测单位{e:04d}有限公司",
                                    credit_code=f"BENCH{e:013d}", status="approved", created_at=now))
        rows[accounts].append(dict(id=e, role="employer", username=f"bench-employer-{e}",
                                   email=None, phone=None, password_hash=pw,
                                   display_name=f"压测单位{e:04d}", school_id=None, college_id=None,
                                   employer_id=e, created_at=now))
        rows[jobs].append(dict(id=e, employer_id=e, title="软件工程师", kind="全职", city="重庆",
                               description="压测岗位", status="published", created_at=now))
        rows[interview_sessions].append(dict(id=e, employer_id=e, day=today, starts_at=first,
                                             ends_at=ends, status="scheduled", created_at=now))
    for i in range(n_students):
        sid = n_booths + 1 + i  # account id of the student
        booth = booths[i % n_booths]
        slot = i // n_booths
        name = f"学生{i:05d}"
        rows[accounts].append(dict(id=sid, role="student", email=f"s{i}@bench.example.cn",
                                   username=None, phone=f"139{i:08d}", password_hash=pw,
                                   display_name=name, school_id=1, college_id=1, employer_id=None,
                                   created_at=now))
        rows[student_records].append(dict(
            id=i + 1, school_id=1, student_no=f"B{i:08d}", name=name, id_number=f"50010120000101{i % 10000:04d}",
            gender="男", college_id=1, major_id=1, education="本科", graduation_year=now.year,
            account_id=sid, imported_at=now, updated_at=now))
        rows[applications].append(dict(
            id=i + 1, job_id=booth.employer_id, account_id=sid, status="invited",
            snapshot=_snapshot(name, i, now), created_at=now, updated_at=now))
        rows[interviews].append(dict(
            id=i + 1, session_id=booth.session_id, application_id=i + 1, account_id=sid,
            starts_at=first + dt.timedelta(minutes=SLOT_MINUTES * slot), minutes=SLOT_MINUTES,
            status="accepted", created_at=now, updated_at=now))
        booth.students.append(Student(account_id=sid, interview_id=i + 1, name=name, turn=slot))
    db = Database(url)
    try:
        async with db.write() as conn:
            await conn.execute(schools.insert().values(id=1, code="99999", name="压测大学"))
            await conn.execute(colleges.insert().values(id=1, school_id=1, code="01", name="计算机学院"))
            await conn.execute(majors.insert().values(id=1, college_id=1, code="080901", name="计算机科学与技术"))
            for table in (employers, accounts, jobs, student_records, applications,
                          interview_sessions, interviews):
                for chunk in _batches(rows[table]):
                    await conn.execute(table.insert(), chunk)
            for b in booths:
                b.cookie = f"sid={await sessions.start(conn, account_id=b.account_id, now=now, days=1)}"
                for s in b.students:
                    s.cookie = f"sid={await sessions.start(conn, account_id=s.account_id, now=now, days=1)}"
            if not db.is_sqlite:  # later inserts by the server must not collide with our ids
                for table in rows:
                    await conn.execute(sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT max(id) FROM {table.name}))"))
            admin_id = await create_account(conn, role=Role.PLATFORM_ADMIN, username="bench-admin",
                                            password=None, password_hash=pw,
                                            display_name="压测平台管理员", now=now)
            admin_cookie = f"sid={await sessions.start(conn, account_id=admin_id, now=now, days=1)}"
    finally:
        await db.dispose()
    return booths, admin_cookie


# ---- the server process -------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, data_dir: Path, port: int, log_path: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": str(data_dir),
           "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "SMTP_HOST": "", "REDIS_URL": "",
           **SERVER_ENV}
    log = open(log_path, "wb")
    try:
        return subprocess.Popen([sys.executable, "-m", "app", "serve", "--host", "127.0.0.1",
                                 "--port", str(port)], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    finally:
        log.close()


async def wait_listening(proc: subprocess.Popen, port: int, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchFailure(f"server exited early with code {proc.returncode}")
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            await writer.wait_closed()
            return
        await asyncio.sleep(0.1)
    raise BenchFailure("server did not start listening")


def memory_of(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak) in MB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found


def stop_server(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL: aiohttp's graceful shutdown would wait up to a minute for the
    open websockets, and the database is thrown away anyway."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


# ---- clients --------------------------------------------------------------------------

async def open_client(base: str, cookie: str) -> socketio.AsyncClient:
    sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
    await asyncio.wait_for(sio.connect(base, headers={"Origin": base, "Cookie": cookie},
                                       namespaces=["/hall"], transports=["websocket"],
                                       wait_timeout=STEP_TIMEOUT), STEP_TIMEOUT + 5)
    return sio


def student_handlers(sio: socketio.AsyncClient, st: Student) -> None:
    @sio.on("called", namespace="/hall")
    def called(data: Any) -> None:
        at = time.perf_counter()
        fut = st.want_called
        if fut is not None and not fut.done() and data.get("ticket_id") == st.ticket_id:
            fut.set_result(at)

    @sio.on("queue", namespace="/hall")
    def queue(data: Any) -> None:
        at = time.perf_counter()
        want = st.want_position
        if (want is not None and not want[1].done() and data.get("status") == "waiting"
                and data.get("position") == want[0]):
            want[1].set_result(at)


async def call(sio: socketio.AsyncClient, event: str, data: Any) -> Any:
    return await sio.call(event, data, namespace="/hall", timeout=STEP_TIMEOUT)


class Admin:
    """A platform admin's /monitor client: counts the `booth` summaries it receives and
    resolves, at receipt, the futures waiting for a summary of a booth that passes a check.

    It also counts stale summaries: while students only join, a booth's waiting count only
    grows, and while booths only call, it only shrinks (`direction` +1 / -1); a summary going
    the other way is older than one already received."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        self.booth_events = 0
        self.stale = 0
        self.direction = 0
        self.last_waiting: dict[int, int] = {}
        self.pending: dict[int, list[tuple[Any, asyncio.Future]]] = {}

        @self.sio.on("booth", namespace="/monitor")
        def booth(data: Any) -> None:
            at = time.perf_counter()
            self.booth_events += 1
            waiting = (data.get("counts") or {}).get("waiting")
            last = self.last_waiting.get(data.get("session_id"))
            if waiting is not None:
                if last is not None and self.direction and (waiting - last) * self.direction < 0:
                    self.stale += 1
                self.last_waiting[data.get("session_id")] = waiting
            waits = self.pending.get(data.get("session_id"))
            if not waits:
                return
            keep = []
            for check, fut in waits:
                if fut.done():
                    continue
                if check(data):
                    fut.set_result(at)
                else:
                    keep.append((check, fut))
            self.pending[data["session_id"]] = keep

    async def connect(self, base: str, cookie: str) -> None:
        await asyncio.wait_for(self.sio.connect(base, headers={"Origin": base, "Cookie": cookie},
                                                namespaces=["/monitor"], transports=["websocket"],
                                                wait_timeout=STEP_TIMEOUT), STEP_TIMEOUT + 5)

    async def refresh(self) -> dict[str, Any]:
        return await self.sio.call("refresh", {}, namespace="/monitor", timeout=STEP_TIMEOUT)

    def expect(self, session_id: int, check: Any) -> asyncio.Future:  # check: summary -> bool
        fut = asyncio.get_running_loop().create_future()
        self.pending.setdefault(session_id, []).append((check, fut))
        return fut


def waiting_ids(summary: dict[str, Any]) -> set[Any]:
    return {w.get("ticket_id") for w in summary.get("waiting") or []}


def waiting_names(summary: dict[str, Any]) -> set[Any]:
    return {w.get("name") for w in summary.get("waiting") or []}


@dataclass
class MonitorWait:
    """One change the admins must see: sent at t0, acked at t_ack, one future per admin."""
    what: str
    t0: float
    futures: list[asyncio.Future]
    t_ack: float | None = None


async def collect_monitor(waits: list[MonitorWait], from_sent: list[float], from_ack: list[float],
                          missing: list[str]) -> None:
    """Delays of the resolved futures, from the emit and from its ack; the rest get
    STEP_TIMEOUT more, then count as missing."""
    futures = [f for w in waits for f in w.futures]
    if futures:
        await asyncio.wait(futures, timeout=STEP_TIMEOUT)
    for w in waits:
        for i, f in enumerate(w.futures):
            if f.done():
                from_sent.append(f.result() - w.t0)
                if w.t_ack is not None:
                    from_ack.append(f.result() - w.t_ack)
            else:
                f.cancel()
                missing.append(f"{w.what}: admin {i} saw no `booth` update")


async def bounded(items: list[Any], work, concurrency: int) -> list[Any]:  # noqa: ANN001
    """Run work(item) for each item with at most `concurrency` at once; exceptions returned."""
    gate = asyncio.Semaphore(concurrency)

    async def one(item: Any) -> Any:
        async with gate:
            return await work(item)
    return await asyncio.gather(*(one(i) for i in items), return_exceptions=True)


# ---- measurement ------------------------------------------------------------------------

@dataclass
class Samples:
    called: list[float] = field(default_factory=list)
    position: list[float] = field(default_factory=list)
    call_ack: list[float] = field(default_factory=list)
    echo: list[float] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    join_ack: list[float] = field(default_factory=list)
    monitor_join: list[float] = field(default_factory=list)       # from the join's emit
    monitor_join_ack: list[float] = field(default_factory=list)   # from its ack
    monitor_call: list[float] = field(default_factory=list)       # from the call_next's emit
    monitor_call_ack: list[float] = field(default_factory=list)   # from its ack
    monitor_waits: list[MonitorWait] = field(default_factory=list)  # call_next, resolved after the calls


async def measure_call(booth: Booth, turn: int, samples: Samples, admins: list[Admin]) -> None:
    """One call_next at the booth; then the student answers and the employer finishes.
    The admins' update is not waited for here (the calls keep their pace): see drive()."""
    loop = asyncio.get_running_loop()
    head, rest = booth.students[turn], booth.students[turn + 1:]
    head.want_called = loop.create_future()
    for place, s in enumerate(rest, start=1):
        s.want_position = (place, loop.create_future())
    # the called student leaves the booth's waiting list (called, in the call, or done)
    gone = (lambda summary, t=head.ticket_id: t not in waiting_ids(summary))
    futures = [a.expect(booth.session_id, gone) for a in admins]
    t0 = time.perf_counter()
    wait = MonitorWait(f"booth {booth.session_id} turn {turn} call_next", t0, futures)
    if futures:
        samples.monitor_waits.append(wait)
    ack = await call(booth.sio, "call_next", {"session_id": booth.session_id})
    wait.t_ack = time.perf_counter()
    samples.call_ack.append(wait.t_ack - t0)
    if not ack.get("ok") or ack.get("ticket_id") != head.ticket_id:
        samples.missing.append(f"booth {booth.session_id} turn {turn}: call_next {ack}")
        return
    try:
        samples.called.append(await asyncio.wait_for(head.want_called, STEP_TIMEOUT) - t0)
    except asyncio.TimeoutError:
        samples.missing.append(f"booth {booth.session_id} turn {turn}: no `called`")
    for s in rest:
        try:
            samples.position.append(await asyncio.wait_for(s.want_position[1], STEP_TIMEOUT) - t0)
        except asyncio.TimeoutError:
            samples.missing.append(f"booth {booth.session_id} turn {turn}: no `queue` for {s.ticket_id}")
        s.want_position = None
    head.want_called = None
    answered = await call(head.sio, "answer", {"ticket_id": head.ticket_id})
    finished = await call(booth.sio, "finish", {"ticket_id": head.ticket_id, "outcome": "待定"})
    if not (answered.get("ok") and finished.get("ok")):
        samples.missing.append(f"booth {booth.session_id} turn {turn}: answer {answered} finish {finished}")


async def echo_loop(clients: list[socketio.AsyncClient], samples: Samples, stop: asyncio.Event) -> None:
    """Each echo client pings about once a second at a random phase until told to stop."""
    async def one(sio: socketio.AsyncClient) -> None:
        rng = random.Random(id(sio))
        while not stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), rng.uniform(0.5, 1.5))
            if stop.is_set():
                return
            t0 = time.perf_counter()
            ack = await call(sio, "ping", None)
            if ack == {"ok": True}:
                samples.echo.append(time.perf_counter() - t0)
    await asyncio.gather(*(one(c) for c in clients))


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)] * 1000


def line(name: str, values: list[float]) -> str:
    return (f"{name:<34} n={len(values):<6} p50={pct(values, 50):8.2f} ms  "
            f"p99={pct(values, 99):8.2f} ms  max={max(values) * 1000:8.2f} ms")


def line95(name: str, values: list[float]) -> str:
    return (f"{name:<38} n={len(values):<6} p50={pct(values, 50):8.2f} ms  "
            f"p95={pct(values, 95):8.2f} ms  p99={pct(values, 99):8.2f} ms  "
            f"max={max(values) * 1000:8.2f} ms")


# ---- the run ------------------------------------------------------------------------------

async def fresh_postgres(prefix: str = "bench_hall") -> tuple[str, str]:
    """A new, empty database on the local server (the benchmarks' own): its URL and name."""
    import asyncpg
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres", database="postgres")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", name


async def drop_postgres(name: str) -> None:
    import asyncpg
    conn = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres", database="postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def fresh_database(args: argparse.Namespace, tmp: Path) -> tuple[str, str | None]:
    if args.db == "postgres":
        return await fresh_postgres()
    return f"sqlite+aiosqlite:///{tmp / 'bench.db'}", None


async def seeded(url: str, args: argparse.Namespace) -> tuple[list[Booth], str]:
    t = time.perf_counter()
    await asyncio.to_thread(upgrade, url)
    booths, admin_cookie = await seed(url, args.clients, args.booths, dt.datetime.now(dt.timezone.utc))
    print(f"database: {args.db}, migrated and seeded in {time.perf_counter() - t:.1f} s "
          f"({args.clients} students, {args.booths} booths)", flush=True)
    return booths, admin_cookie


async def bench(args: argparse.Namespace, tmp: Path) -> int:
    if args.mode == "cluster":
        return await bench_cluster(args, tmp)
    url, pg_name = await fresh_database(args, tmp)
    proc = None
    all_clients: list[socketio.AsyncClient] = []
    code = 1
    try:
        booths, admin_cookie = await seeded(url, args)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start_server(url, tmp / "data", port, tmp / "server.log")
        await wait_listening(proc, port)
        print(f"server: pid {proc.pid} on {base}", flush=True)
        if args.workers:
            from hall_spread import drive_spread
            await drive_spread(args, base, booths, lambda: [proc.pid], memory_of)
            code = 0
        else:
            code = await drive(args, base, booths, admin_cookie, proc, all_clients)
        return code
    except (BenchFailure, RuntimeError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        if proc is not None:
            stop_server(proc)
            if args.server_log and (tmp / "server.log").exists():
                shutil.copyfile(tmp / "server.log", args.server_log)
            if code != 0 and (tmp / "server.log").exists():
                print("server log (tail):\n" + (tmp / "server.log").read_text()[-3000:], file=sys.stderr)
        await asyncio.gather(*(asyncio.wait_for(c.disconnect(), 5) for c in all_clients if c.connected),
                             return_exceptions=True)
        if pg_name:
            await drop_postgres(pg_name)


async def bench_cluster(args: argparse.Namespace, tmp: Path) -> int:
    """Issue 12: the same hall run against one process on PostgreSQL, then against two
    processes behind nginx on PostgreSQL + Redis (tests/cluster_kit.py), one after the
    other in this run; the figures side by side."""
    from hall_spread import drive_spread
    from app.config import Settings
    from tests.cluster_kit import cluster
    args.db = "postgres"
    results = {}
    for topology in ("one process", "two behind nginx"):
        label = f"[{topology}] "
        url, pg_name = await fresh_database(args, tmp)
        where = tmp / topology.replace(" ", "-")
        where.mkdir()
        try:
            booths, _ = await seeded(url, args)
            if topology == "one process":
                port = free_port()
                proc = start_server(url, where / "data", port, where / "server.log")
                try:
                    await wait_listening(proc, port)
                    results[topology] = await drive_spread(
                        args, f"http://127.0.0.1:{port}", booths, lambda: [proc.pid], memory_of,
                        label=label)
                finally:
                    stop_server(proc)
            else:
                settings = Settings.from_env({}, data_dir=where / "data", database_url=url,
                                             secret_key="bench-secret")
                async with cluster(where, settings, worker_connections=4 * args.clients + 1024,
                                   **SERVER_ENV) as c:
                    results[topology] = await drive_spread(
                        args, c.base, booths, lambda: [p.pid for p in c.procs], memory_of,
                        ssl_verify=False, label=label)
        except (BenchFailure, RuntimeError) as exc:
            print(f"FAILED ({topology}): {exc}", file=sys.stderr)
            return 1
        finally:
            await drop_postgres(pg_name)
    one, two = results["one process"], results["two behind nginx"]
    print("\nside by side (the phase without logins):")
    for topology, r in results.items():
        q = r["calls"]
        print(f"  {topology:<17} waiters held {r['waiters']}, call-next -> called "
              f"p50 {q['called_p50']:.2f} ms p99 {q['called_p99']:.2f} ms, echo p50 "
              f"{q['echo_p50']:.2f} ms p99 {q['echo_p99']:.2f} ms, ratio p50 "
              f"{q['called_p50'] / q['echo_p50']:.2f} p99 {q['called_p99'] / q['echo_p99']:.2f}")
    print(f"cross-process delivery cost: call-next -> called p99 two/one = "
          f"{two['calls']['called_p99'] / one['calls']['called_p99']:.2f}, position update p99 "
          f"two/one = {two['calls']['position_p99'] / one['calls']['position_p99']:.2f}")
    return 0


async def drive(args: argparse.Namespace, base: str, booths: list[Booth], admin_cookie: str,
                proc: subprocess.Popen, all_clients: list[socketio.AsyncClient]) -> int:
    students = [s for b in booths for s in b.students]
    session_of = {s.interview_id: b.session_id for b in booths for s in b.students}
    admins: list[Admin] = []
    join_waits: list[MonitorWait] = []
    join_acks: list[float] = []

    async def connect_employer(b: Booth) -> None:
        b.sio = await open_client(base, b.cookie)
        all_clients.append(b.sio)
        ack = await call(b.sio, "watch", {"session_id": b.session_id})
        if not ack.get("ok"):
            raise BenchFailure(f"watch {b.session_id}: {ack}")

    async def connect_student(s: Student) -> None:
        sio = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        student_handlers(sio, s)
        await asyncio.wait_for(sio.connect(base, headers={"Origin": base, "Cookie": s.cookie},
                                           namespaces=["/hall"], transports=["websocket"],
                                           wait_timeout=STEP_TIMEOUT), STEP_TIMEOUT + 5)
        s.sio = sio
        all_clients.append(sio)

    async def join(s: Student) -> None:
        seen = (lambda summary, name=s.name: name in waiting_names(summary))
        futures = [a.expect(session_of[s.interview_id], seen) for a in admins]
        wait = MonitorWait(f"join {s.interview_id}", time.perf_counter(), futures)
        if futures:
            join_waits.append(wait)
        ack = await call(s.sio, "join", {"interview_id": s.interview_id,
                                          "probe": {"verdict": "good"}})
        wait.t_ack = time.perf_counter()
        join_acks.append(wait.t_ack - wait.t0)
        if not ack.get("ok"):
            raise BenchFailure(f"join {s.interview_id}: {ack}")
        s.ticket_id = ack["ticket_id"]

    t = time.perf_counter()
    failed = [r for r in await bounded(booths, connect_employer, args.concurrency) if r is not None]
    failed += [r for r in await bounded(students, connect_student, args.concurrency) if r is not None]
    connect_s = time.perf_counter() - t
    connected = sum(1 for c in all_clients if c.connected)
    print(f"clients connected: {connected} of {len(booths) + len(students)} "
          f"({len(students)} students, {len(booths)} employers) in {connect_s:.1f} s", flush=True)
    if failed:
        print(f"FAILED: {len(failed)} clients did not connect, first: {failed[0]!r}", file=sys.stderr)
        return 1
    if args.monitors:
        snapshot_ms = []
        for _ in range(args.monitors):
            admin = Admin()
            await admin.connect(base, admin_cookie)
            admins.append(admin)
            all_clients.append(admin.sio)
            t = time.perf_counter()
            snap = await admin.refresh()
            snapshot_ms.append((time.perf_counter() - t) * 1000)
            if len(snap.get("booths", [])) != len(booths):
                print(f"FAILED: the monitor's snapshot shows {len(snap.get('booths', []))} of "
                      f"{len(booths)} booths", file=sys.stderr)
                return 1
        print(f"monitor: {len(admins)} platform admin(s) on /monitor, `refresh` of "
              f"{len(booths)} booths in {max(snapshot_ms):.1f} ms", flush=True)
    for a in admins:
        a.direction = +1
    t = time.perf_counter()
    failed = [r for r in await bounded(students, join, args.concurrency) if r is not None]
    print(f"students joined their queues in {time.perf_counter() - t:.1f} s", flush=True)
    if failed:
        print(f"FAILED: {len(failed)} joins failed, first: {failed[0]!r}", file=sys.stderr)
        return 1
    samples = Samples(join_ack=join_acks)
    await collect_monitor(join_waits, samples.monitor_join, samples.monitor_join_ack, samples.missing)
    events_joins = sum(a.booth_events for a in admins)

    # one call per booth per round; each booth's turn starts `stagger` after the previous one
    calls = [(b, turn) for turn in range(max(len(b.students) for b in booths))
             for b in booths if turn < len(b.students)][:args.calls]
    if len(calls) < args.calls:
        print(f"FAILED: only {len(calls)} calls possible with these numbers", file=sys.stderr)
        return 1
    stop = asyncio.Event()
    echo_clients = [b.students[-1].sio for b in booths][:args.echo_clients]
    echo = asyncio.create_task(echo_loop(echo_clients, samples, stop))
    await asyncio.sleep(2)  # let the echo loop reach its steady rate
    events_before = sum(a.booth_events for a in admins)
    for a in admins:
        a.direction = -1
    t = time.perf_counter()
    by_turn: dict[int, list[Booth]] = {}
    for b, turn in calls:
        by_turn.setdefault(turn, []).append(b)
    for turn, round_booths in sorted(by_turn.items()):
        tasks = []
        for b in round_booths:
            tasks.append(asyncio.create_task(measure_call(b, turn, samples, admins)))
            await asyncio.sleep(args.stagger)
        for r in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(r, BaseException):
                samples.missing.append(f"call failed: {r!r}")
    stop.set()
    await asyncio.wait_for(echo, STEP_TIMEOUT + 5)
    calls_s = time.perf_counter() - t
    await collect_monitor(samples.monitor_waits, samples.monitor_call, samples.monitor_call_ack,
                          samples.missing)
    events_calls = sum(a.booth_events for a in admins) - events_before
    if admins:  # the page's snapshot again, now with the hall full of waiters
        t_refresh = time.perf_counter()
        snap = await admins[0].refresh()
        refresh_ms = (time.perf_counter() - t_refresh) * 1000
        refresh_waiting = sum(b["counts"]["waiting"] for b in snap.get("booths", []))
    mem = memory_of(proc.pid)
    expected_positions = sum(len(b.students) - turn - 1 for b, turn in calls)

    print(f"calls: {len(calls)} call_next over {len(by_turn)} rounds in {calls_s:.1f} s "
          f"({len(calls) / calls_s:.1f}/s, one booth every {args.stagger * 1000:.0f} ms), "
          f"echo from {len(echo_clients)} clients")
    ok = (len(samples.called) == len(calls) and len(samples.position) == expected_positions
          and len(samples.echo) >= len(echo_clients) and not samples.missing
          and len(samples.monitor_join) == len(students) * len(admins)
          and len(samples.monitor_call) == len(calls) * len(admins))
    if samples.called and samples.position and samples.echo:
        print(line("call-next -> called notified", samples.called))
        print(line("call-next -> position update", samples.position))
        print(line("call_next ack (employer)", samples.call_ack))
        print(line("echo (ping ack RTT)", samples.echo))
        print(f"server RSS: {mem.get('VmRSS', 0):.1f} MB now, {mem.get('VmHWM', 0):.1f} MB peak")
        e50, e99 = pct(samples.echo, 50), pct(samples.echo, 99)
        print(f"ratio call-next p50 / echo p50: {pct(samples.called, 50) / e50:.2f}")
        print(f"ratio call-next p99 / echo p99: {pct(samples.called, 99) / e99:.2f}")
        print(f"ratio position update p50 / echo p50: {pct(samples.position, 50) / e50:.2f}")
        print(f"ratio position update p99 / echo p99: {pct(samples.position, 99) / e99:.2f}")
    if admins:
        if samples.monitor_join:
            print(line95("join ack (student)", samples.join_ack))
            print(line95("join -> monitor booth update", samples.monitor_join))
            print(line95("join ack -> monitor booth update", samples.monitor_join_ack))
        if samples.monitor_call:
            print(line95("call-next -> monitor booth update", samples.monitor_call))
            print(line95("call-next ack -> monitor booth update", samples.monitor_call_ack))
        total = sum(a.booth_events for a in admins)
        print(f"monitor booth events received: {total} by {len(admins)} admin(s) "
              f"({events_joins} until the joins were seen, {events_calls} during the calls, "
              f"{events_calls / calls_s / len(admins):.1f}/s per admin; "
              f"{sum(a.stale for a in admins)} stale)")
        print(f"monitor refresh after the calls: {len(booths)} booths, {refresh_waiting} waiting, "
              f"in {refresh_ms:.1f} ms")
        if samples.monitor_call:
            p99 = pct(samples.monitor_call, 99)
            print(f"monitor update delay p99 / {MONITOR_BUDGET_MS} ms budget = "
                  f"{p99 / MONITOR_BUDGET_MS:.2f}")
    if not ok:
        print(f"FAILED: samples missing: called {len(samples.called)}/{len(calls)}, position "
              f"{len(samples.position)}/{expected_positions}, echo {len(samples.echo)}, monitor "
              f"join {len(samples.monitor_join)}/{len(students) * len(admins)}, monitor call "
              f"{len(samples.monitor_call)}/{len(calls) * len(admins)}; "
              f"{samples.missing[:5]}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=2000, help="waiting students")
    parser.add_argument("--booths", type=int, default=100, help="booths (employers), one session each")
    parser.add_argument("--calls", type=int, help="measured call_next, booths in turn (default 2 per booth)")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--concurrency", type=int, default=50, help="connects/joins in flight")
    parser.add_argument("--stagger", type=float, default=0.5,
                        help="seconds between two booths' calls (0.5: 2 call_next a second, each "
                             "followed by answer and finish; a real 100-booth hall with 5-minute "
                             "slots calls about one student every 3 s)")
    parser.add_argument("--echo-clients", type=int, default=100)
    parser.add_argument("--monitors", type=int, default=1,
                        help="platform admins watching /monitor (0: no monitor figures)")
    parser.add_argument("--timeout", type=float, default=1200, help="the whole run, seconds")
    parser.add_argument("--server-log", type=Path, help="keep the server's output in this file")
    parser.add_argument("--workers", type=int, default=0,
                        help="client processes holding the students (bench/hall_spread.py): "
                             "connect and join burst, calls without and with logins; 0: all "
                             "clients in this process, with the monitor figures")
    parser.add_argument("--no-logins", action="store_true",
                        help="with --workers: no logins during the second phase of calls")
    parser.add_argument("--linger", type=float, default=0.0,
                        help="with --workers: after the calls, keep every socket connected "
                             "this many seconds and print the server's collector pauses "
                             "meanwhile (its middle generation is collected every 5 minutes "
                             "from its start: 330 shows one)")
    parser.add_argument("--mode", choices=["single", "cluster"], default="single",
                        help="cluster: one process on PostgreSQL, then two behind nginx on "
                             "PostgreSQL + Redis, in one run (needs --workers)")
    args = parser.parse_args(argv)
    if args.mode == "cluster" and not args.workers:
        parser.error("--mode cluster needs --workers")
    if args.clients < 2 * args.booths or args.booths < 1:
        parser.error("need at least two students per booth")
    if args.calls is None:
        args.calls = 2 * args.booths
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # the server inherits it too
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    tmp = Path(tempfile.mkdtemp(prefix="hall-bench-"))
    try:
        return asyncio.run(asyncio.wait_for(bench(args, tmp), args.timeout))
    except asyncio.TimeoutError:
        print(f"FAILED: the run took longer than {args.timeout:.0f} s", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
