"""bench/hall_load.py with the students in worker processes (--workers N): the coordinator
(this module) holds the employers and times every call; bench/hall_clients.py holds the
students. Used for 5,000 students (issue 13) and for the run behind nginx (issue 12).

The run: employers connect and `watch`; then every worker connects its students and has
each `join` at once (the burst: from the first connect to the last join ack, all workers
starting together); then two phases of calls, the second with LOGINS_PER_SECOND student
logins over HTTP going on (argon2 in the server's CPU pool), each phase with the echo
(`ping` RTT) sampled from the workers' echo clients. Called students answer at once; the
employer finishes after `call_started`. Latencies are computed after the run from the
workers' logs of `called` and `queue` (one monotonic clock for all processes).

Each employer loads its booth's page before its socket connects, as the browser does. The
server's cycle-collector pauses during the burst and each phase are read from its /metrics
(`python_gc_pause_seconds`). The load generator's own collector is off after the burst
(hall_clients.quiet_collector): its pauses would read as the server's.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import gc
import math
import multiprocessing
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import aiohttp
import socketio

import hall_clients
from hall_clients import Report, Seat

LOGINS_PER_SECOND = 20
LOGIN_PASSWORD = "bench-password-1"


@dataclass
class CallRecord:
    booth: Any
    turn: int
    t0: float
    ticket: int | None = None
    ack_s: float | None = None
    error: str | None = None


@dataclass
class Phase:
    name: str
    calls: list[CallRecord] = field(default_factory=list)
    echo: list[float] = field(default_factory=list)
    logins: list[float] = field(default_factory=list)
    login_failures: list[str] = field(default_factory=list)
    called: list[float] = field(default_factory=list)
    position: list[float] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cpu: float = 0.0  # server CPU seconds during the phase
    gc: dict[str, dict[str, float]] | None = None  # the server's collector pauses meanwhile


GENERATIONS = {"0": "young", "1": "middle", "2": "full"}


async def gc_pauses(base: str, ssl_verify: bool) -> dict[str, dict[str, float]] | None:
    """The server's `python_gc_pause_seconds` histogram, {generation: {"count", "sum",
    bucket bound: cumulative count}}; None where /metrics is not ours to read (behind nginx)."""
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ssl_verify)) as http:
            async with http.get(f"{base}/metrics") as r:
                if r.status != 200:
                    return None
                text = await r.text()
    except aiohttp.ClientError:
        return None
    out: dict[str, dict[str, float]] = {}
    for row in text.splitlines():
        if not row.startswith("python_gc_pause_seconds_"):
            continue
        name, value = row.rsplit(" ", 1)
        labels = dict(part.split("=", 1) for part in name[name.index("{") + 1:-1].split(","))
        g = out.setdefault(labels["generation"].strip('"'), {})
        key = labels["le"].strip('"') if "le" in labels else name[len("python_gc_pause_seconds_"):name.index("{")]
        g[key] = float(value)
    return out


def gc_between(before: dict | None, after: dict | None) -> dict[str, dict[str, float]] | None:
    if before is None or after is None:
        return None
    return {g: {k: v - before.get(g, {}).get(k, 0.0) for k, v in row.items()}
            for g, row in after.items()}


def gc_line(pauses: dict[str, dict[str, float]] | None) -> str:
    """One line: how many collections of each generation, their total, how many were long."""
    if pauses is None:
        return "GC pauses: not readable (no /metrics)"
    parts = []
    for g, name in GENERATIONS.items():
        row = pauses.get(g, {})
        n = int(row.get("count", 0))
        if not n:
            parts.append(f"{name} 0")
            continue
        over = ", ".join(f"over {float(b) * 1000:g} ms: {int(n - row.get(b, 0))}"
                         for b in ("0.005", "0.01", "0.025", "0.1"))
        parts.append(f"{name} {n} ({row.get('sum', 0) * 1000:.0f} ms in all; {over})")
    return "GC pauses: " + "; ".join(parts)


class Workers:
    """The worker processes and their two queues each."""

    def __init__(self, n: int, base: str, seats: list[Seat], concurrency: int,
                 echo_clients: int, ssl_verify: bool) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.commands = [ctx.Queue() for _ in range(n)]
        self.answers = [ctx.Queue() for _ in range(n)]
        share = [seats[i::n] for i in range(n)]
        per_echo = max(1, echo_clients // n) if echo_clients else 0
        self.procs = [ctx.Process(target=hall_clients.run, daemon=True,
                                  args=(i, base, share[i], max(1, concurrency // n), per_echo,
                                        ssl_verify, self.commands[i], self.answers[i]))
                      for i in range(n)]
        for p in self.procs:
            p.start()

    def tell(self, *command: Any) -> None:
        for q in self.commands:
            q.put(command)

    async def hear(self, what: str, timeout: float) -> list[Any]:
        async def one(q: Any) -> Any:
            kind, value = await asyncio.wait_for(asyncio.to_thread(q.get), timeout)
            if kind != what:
                raise RuntimeError(f"worker answered {kind}, expected {what}")
            return value
        return await asyncio.gather(*(one(q) for q in self.answers))

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            self.tell("quit")
            await self.hear("quit", 30)
        for p in self.procs:
            p.join(5)
            if p.is_alive():
                p.kill()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the server processes used so far (/proc/<pid>/stat): on a
    machine shared with other work, the cost of a phase that its wall time cannot show."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / ticks


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)] * 1000 if ordered else float("nan")


def line(name: str, values: list[float]) -> str:
    if not values:
        return f"{name:<34} n=0"
    return (f"{name:<34} n={len(values):<6} p50={pct(values, 50):8.2f} ms  "
            f"p99={pct(values, 99):8.2f} ms  max={max(values) * 1000:8.2f} ms")


async def open_employer(base: str, booth: Any, ssl_verify: bool,
                        started: dict[int, asyncio.Future]) -> None:
    # as the browser: the booth's page first, whose script then opens the socket
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ssl_verify)) as http:
        async with http.get(f"{base}/hall/booths/{booth.session_id}",
                            headers={"Cookie": booth.cookie}, allow_redirects=False) as r:
            if r.status != 200:
                raise RuntimeError(f"booth page {booth.session_id}: {r.status}")
            await r.read()
    sio = socketio.AsyncClient(reconnection=False, handle_sigint=False, ssl_verify=ssl_verify)

    @sio.on("call_started", namespace="/hall")
    def call_started(data: Any) -> None:
        fut = started.get(data.get("ticket_id"))
        if fut is not None and not fut.done():
            fut.set_result(time.perf_counter())
    await asyncio.wait_for(sio.connect(base, headers={"Origin": base, "Cookie": booth.cookie},
                                       namespaces=["/hall"], transports=["websocket"],
                                       wait_timeout=30), 35)
    booth.sio = sio
    ack = await sio.call("watch", {"session_id": booth.session_id}, namespace="/hall", timeout=30)
    if not ack.get("ok"):
        raise RuntimeError(f"watch {booth.session_id}: {ack}")


async def one_call(record: CallRecord, started: dict[int, asyncio.Future]) -> None:
    """call_next; the student (a worker) answers by itself; finish once the call started."""
    b = record.booth
    loop = asyncio.get_running_loop()
    expected = b.students[record.turn].ticket_id
    # before the call: the student may answer, and `call_started` arrive, before the ack
    fut = started.setdefault(expected, loop.create_future())
    ack = await b.sio.call("call_next", {"session_id": b.session_id}, namespace="/hall",
                           timeout=30)
    record.ack_s = time.perf_counter() - record.t0
    if not ack.get("ok") or ack.get("ticket_id") != expected:
        record.error = f"booth {b.session_id} turn {record.turn}: call_next {ack}"
        return
    try:
        await asyncio.wait_for(fut, 30)
    except asyncio.TimeoutError:
        record.error = f"booth {b.session_id} turn {record.turn}: the call never started"
        return
    done = await b.sio.call("finish", {"ticket_id": expected, "outcome": "待定"},
                            namespace="/hall", timeout=30)
    if not done.get("ok"):
        record.error = f"booth {b.session_id} turn {record.turn}: finish {done}"


async def login_loop(base: str, emails: list[str], rate: float, phase: Phase,
                     stop: asyncio.Event) -> None:
    """Open loop: a student logs in every 1/rate s (GET / for the CSRF cookie, then the
    form), whatever the previous ones are doing."""
    tasks: set[asyncio.Task] = set()

    async def one(email: str) -> None:
        jar = aiohttp.CookieJar(unsafe=True)
        try:
            async with aiohttp.ClientSession(cookie_jar=jar, connector=aiohttp.TCPConnector(
                    ssl=False)) as http:
                async with http.get(f"{base}/") as r:
                    await r.read()
                csrf = jar.filter_cookies(aiohttp.client.URL(base))["csrftoken"].value
                t0 = time.perf_counter()
                async with http.post(f"{base}/login/student", allow_redirects=False, data={
                        "account": email, "password": LOGIN_PASSWORD, "_csrf": csrf}) as r:
                    await r.read()
                    if r.status != 303:
                        phase.login_failures.append(f"{email}: {r.status}")
                        return
                phase.logins.append(time.perf_counter() - t0)
        except Exception as exc:  # noqa: BLE001
            phase.login_failures.append(f"{email}: {exc!r}")

    i = 0
    next_at = time.perf_counter()
    while not stop.is_set():
        task = asyncio.create_task(one(emails[i % len(emails)]))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        i += 1
        next_at += 1 / rate
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), max(0.0, next_at - time.perf_counter()))
    if tasks:
        await asyncio.wait(tasks, timeout=60)


async def run_phase(phase: Phase, rounds: list[list[tuple[Any, int]]], stagger: float,
                    workers: Workers, started: dict[int, asyncio.Future],
                    server_pids: Callable[[], list[int]],
                    logins: Callable[[asyncio.Event], Any] | None,
                    pauses: Callable[[], Any]) -> None:
    workers.tell("echo", phase.name)
    cpu0 = cpu_seconds(server_pids())
    stop = asyncio.Event()
    login_task = asyncio.create_task(logins(stop)) if logins else None
    await asyncio.sleep(2)  # the echo (and the logins) reach their steady rate
    gc0 = await pauses()
    t = time.perf_counter()
    for booths in rounds:
        tasks = []
        for b, turn in booths:
            record = CallRecord(b, turn, time.perf_counter())
            phase.calls.append(record)
            tasks.append(asyncio.create_task(one_call(record, started)))
            await asyncio.sleep(stagger)
        for r in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(r, BaseException):
                phase.missing.append(f"call failed: {r!r}")
    phase.seconds = time.perf_counter() - t
    phase.cpu = cpu_seconds(server_pids()) - cpu0
    phase.gc = gc_between(gc0, await pauses())
    stop.set()
    if login_task is not None:
        await login_task
    workers.tell("stop", phase.name)
    for samples in await workers.hear("echo", 120):
        phase.echo.extend(samples)


def analyse(phase: Phase, called_log: dict[int, list[float]],
            queue_log: dict[int, list[tuple[float, int | None, str]]]) -> None:
    """Each call: the head's first `called` after the emit; every later student of the
    booth: the first `queue` after it showing their new place."""
    for c in phase.calls:
        b = c.booth
        head = b.students[c.turn].ticket_id
        times = called_log.get(head, [])
        at = next((t for t in times if t >= c.t0), None)
        if c.error:  # which side lost it: the student's `called`, or what came after
            phase.missing.append(f"{c.error} (the student got `called`: "
                                 f"{'no' if at is None else f'after {(at - c.t0) * 1000:.0f} ms'})")
            continue
        if at is None:
            phase.missing.append(f"booth {b.session_id} turn {c.turn}: no `called`")
        else:
            phase.called.append(at - c.t0)
        for place, s in enumerate(b.students[c.turn + 1:], start=1):
            events = queue_log.get(s.ticket_id, [])
            i = bisect.bisect_left(events, (c.t0,))
            seen = next((t for t, pos, status in events[i:]
                         if pos == place and status == "waiting"), None)
            if seen is None:
                phase.missing.append(f"booth {b.session_id} turn {c.turn}: no place {place} "
                                     f"for {s.ticket_id}")
            else:
                phase.position.append(seen - c.t0)



async def drive_spread(args: Any, base: str, booths: list[Any], server_pids: Callable[[], list[int]],
                       memory_of: Callable[[int], dict[str, float]], ssl_verify: bool = True,
                       label: str = "") -> dict[str, Any]:
    """The whole run against `base`; prints its figures, returns them (hall_load compares
    two runs with them). Raises RuntimeError when clients fail or samples are missing."""
    started: dict[int, asyncio.Future] = {}
    students = sorted((s for b in booths for s in b.students),
                      key=lambda s: (s.turn, s.account_id))  # the last seats: never called
    t = time.perf_counter()
    gate = asyncio.Semaphore(50)

    async def employer(b: Any) -> None:
        async with gate:
            await open_employer(base, b, ssl_verify, started)
    results = await asyncio.gather(*(employer(b) for b in booths), return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:
        raise RuntimeError(f"{len(failed)} employers did not connect, first: {failed[0]!r}")
    print(f"{label}employers connected and watching: {len(booths)} in "
          f"{time.perf_counter() - t:.1f} s", flush=True)
    seats = [Seat(s.account_id, s.interview_id, s.cookie) for s in students]
    workers = Workers(args.workers, base, seats, args.concurrency, args.echo_clients, ssl_verify)
    try:
        await workers.hear("ready", 120)

        async def pauses() -> dict[str, dict[str, float]] | None:
            return await gc_pauses(base, ssl_verify)
        cpu0 = cpu_seconds(server_pids())
        gc0 = await pauses()
        workers.tell("go")
        reports: list[Report] = await workers.hear("burst", args.timeout)
        burst_cpu = cpu_seconds(server_pids()) - cpu0
        burst_gc = gc_between(gc0, await pauses())
        tickets = {a: t for r in reports for a, t in r.tickets.items()}
        for s in students:
            s.ticket_id = tickets.get(s.account_id)
        connected = sum(r.connected for r in reports)
        joined = sum(r.joined for r in reports)
        first = min(r.first_at for r in reports)
        burst_s = max(r.done_at for r in reports) - first
        connect_s = [x for r in reports for x in r.connect_s]
        join_s = [x for r in reports for x in r.join_ack_s]
        failures = [f for r in reports for f in r.failures]
        print(f"{label}burst: {connected} of {len(students)} students connected and {joined} "
              f"joined in {burst_s:.1f} s ({joined / burst_s:.0f} joins/s, {args.workers} "
              f"client processes, {args.concurrency} in flight)", flush=True)
        print(label + line("connect (socket.io handshake)", connect_s))
        print(label + line("join ack (student)", join_s), flush=True)
        print(f"{label}server CPU during the burst: {burst_cpu:.1f} s "
              f"({burst_cpu / max(1, joined) * 1000:.2f} ms per student connected and joined)",
              flush=True)
        print(f"{label}burst {gc_line(burst_gc)}", flush=True)
        if failures:
            raise RuntimeError(f"{len(failures)} students failed, first: {failures[0]}")
        mem_burst = sum(memory_of(pid).get("VmHWM", 0) for pid in server_pids())
        hall_clients.quiet_collector()  # this process's employers and logins, as the workers

        per_phase = max(1, args.calls // 2)
        order = [(b, turn) for turn in range(max(len(b.students) for b in booths))
                 for b in booths if turn < len(b.students) - 1]
        if len(order) < 2 * per_phase:
            raise RuntimeError(f"only {len(order)} calls possible with these numbers")

        def rounds(pairs: list[tuple[Any, int]]) -> list[list[tuple[Any, int]]]:
            by_turn: dict[int, list] = {}
            for b, turn in pairs:
                by_turn.setdefault(turn, []).append((b, turn))
            return [by_turn[k] for k in sorted(by_turn)]
        quiet = Phase("calls")
        busy = Phase(f"calls + {LOGINS_PER_SECOND} logins/s")
        await run_phase(quiet, rounds(order[:per_phase]), args.stagger, workers, started,
                        server_pids, None, pauses)
        emails = [f"s{s.account_id - len(booths) - 1}@bench.example.cn" for s in students[:500]]
        rate = 0 if args.no_logins else LOGINS_PER_SECOND
        await run_phase(busy, rounds(order[per_phase:2 * per_phase]), args.stagger, workers,
                        started, server_pids, (lambda stop: login_loop(base, emails, rate, busy, stop))
                        if rate else None, pauses)
        if getattr(args, "linger", 0) > 0:  # a quiet hall, only the heartbeats
            before = await pauses()
            await asyncio.sleep(args.linger)
            print(f"{label}{args.linger:.0f} s of a quiet hall after the calls: "
                  f"{gc_line(gc_between(before, await pauses()))}", flush=True)
        workers.tell("logs")
        called_log: dict[int, list[float]] = {}
        queue_log: dict[int, list[tuple[float, int | None, str]]] = {}
        answer_failures = []
        for called, queue, failed_answers in await workers.hear("logs", 180):
            for ticket, at in called:
                called_log.setdefault(ticket, []).append(at)
            for ticket, position, status, at in queue:
                queue_log.setdefault(ticket, []).append((at, position, status))
            answer_failures += failed_answers
        for events in queue_log.values():
            events.sort(key=lambda e: e[0])
        for times in called_log.values():
            times.sort()
        mem = [memory_of(pid) for pid in server_pids()]
    finally:
        gc.enable()
        await workers.close()
        await asyncio.gather(*(asyncio.wait_for(b.sio.disconnect(), 5) for b in booths
                               if b.sio is not None and b.sio.connected), return_exceptions=True)
    figures: dict[str, Any] = {"waiters": joined, "burst_s": burst_s,
                               "join_p50": pct(join_s, 50), "join_p99": pct(join_s, 99)}
    for phase in (quiet, busy):
        analyse(phase, called_log, queue_log)
        e50, e99 = pct(phase.echo, 50), pct(phase.echo, 99)
        print(f"{label}phase '{phase.name}': {len(phase.calls)} call_next in {phase.seconds:.1f} s "
              f"(one every {args.stagger * 1000:.0f} ms), {len(phase.echo)} echo samples, "
              f"server CPU {phase.cpu:.1f} s")
        print(label + line("call-next -> called notified", phase.called))
        print(label + line("call-next -> position update", phase.position))
        print(label + line("call_next ack (employer)",
                           [c.ack_s for c in phase.calls if c.ack_s is not None]))
        print(label + line("echo (ping ack RTT)", phase.echo))
        print(f"{label}{gc_line(phase.gc)}")
        if phase.logins or phase.login_failures:
            print(label + line("login (POST, argon2 in the pool)", phase.logins)
                  + f"  failed={len(phase.login_failures)}")
        if phase.called and phase.echo:
            print(f"{label}ratio call-next p50 / echo p50: {pct(phase.called, 50) / e50:.2f}")
            print(f"{label}ratio call-next p99 / echo p99: {pct(phase.called, 99) / e99:.2f}")
        if phase.position and phase.echo:
            print(f"{label}ratio position update p50 / echo p50: {pct(phase.position, 50) / e50:.2f}")
            print(f"{label}ratio position update p99 / echo p99: {pct(phase.position, 99) / e99:.2f}")
        figures[phase.name] = {"called_p50": pct(phase.called, 50),
                               "called_p99": pct(phase.called, 99),
                               "position_p99": pct(phase.position, 99), "echo_p50": e50,
                               "echo_p99": e99}
    print(f"{label}echo p99 without logins {figures[quiet.name]['echo_p99']:.2f} ms, with "
          f"{LOGINS_PER_SECOND} logins/s {figures[busy.name]['echo_p99']:.2f} ms")
    rss = sum(m.get("VmRSS", 0) for m in mem)
    peak = sum(m.get("VmHWM", 0) for m in mem)
    print(f"{label}server RSS: {rss:.1f} MB now, {peak:.1f} MB peak ({mem_burst:.1f} MB peak "
          f"after the burst; {len(mem)} process(es))", flush=True)
    figures.update(rss=rss, peak=peak)
    if busy.login_failures:  # the load, not a measurement: told, not a failed run
        print(f"{label}logins failed: {len(busy.login_failures)}, first: "
              f"{busy.login_failures[:3]}")
    missing = quiet.missing + busy.missing + answer_failures
    if missing:
        raise RuntimeError(f"{len(missing)} samples missing; first: {missing[:3]}")
    return figures
