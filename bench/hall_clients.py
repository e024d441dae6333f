"""The students' side of bench/hall_load.py in worker processes (--workers N): a share of
the students per process, so that 5,000 socket.io clients are not limited by one Python
process of the load generator.

A worker connects its students and has each `join` at once (as a browser does when the
hall opens), answers a `called` at once (the student clicking 接听), pings from its echo
clients when told, and logs the time of every `called` and `queue` it receives. Times are
time.perf_counter(): CLOCK_MONOTONIC, one clock for every process of the machine, so the
coordinator compares them with the times of its own emits.

Commands come on a multiprocessing queue, answers go back on another:
    ("go",)          connect and join (answered with a Report);
    ("echo", phase)  start pinging; ("stop", phase) stop and answer with the RTTs;
    ("logs",)        answer with the event logs; ("quit",) disconnect and end.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import random
import resource
import time
from dataclasses import dataclass, field
from typing import Any

import socketio

STEP_TIMEOUT = 30.0


@dataclass
class Seat:
    """One student as the worker sees them (picklable: sent from the coordinator)."""
    account_id: int
    interview_id: int
    cookie: str


@dataclass
class Report:
    """Phase one's answer: how the burst went."""
    worker: int
    connected: int = 0
    joined: int = 0
    failures: list[str] = field(default_factory=list)
    connect_s: list[float] = field(default_factory=list)   # each socket's connect time
    join_ack_s: list[float] = field(default_factory=list)  # each join's ack time
    tickets: dict[int, int] = field(default_factory=dict)  # account -> ticket
    first_at: float = 0.0  # perf_counter of the first connect attempt
    done_at: float = 0.0   # ... of the last join ack


class Worker:
    def __init__(self, index: int, base: str, seats: list[Seat], concurrency: int,
                 echo_clients: int, ssl_verify: bool) -> None:
        self.index = index
        self.base = base
        self.seats = seats
        self.concurrency = concurrency
        self.ssl_verify = ssl_verify
        self.clients: dict[int, socketio.AsyncClient] = {}
        self.tickets: dict[int, int] = {}
        self.called: list[tuple[int, float]] = []               # (ticket, t)
        self.queue: list[tuple[int, int | None, str, float]] = []  # (ticket, position, status, t)
        self.answer_failures: list[str] = []
        self.echo_count = echo_clients
        self._tasks: set[asyncio.Task] = set()

    def _handlers(self, sio: socketio.AsyncClient) -> None:
        @sio.on("called", namespace="/hall")
        def called(data: Any) -> None:
            at = time.perf_counter()
            ticket = data.get("ticket_id")
            self.called.append((ticket, at))
            task = asyncio.get_running_loop().create_task(self._answer(sio, ticket))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        @sio.on("queue", namespace="/hall")
        def queue(data: Any) -> None:
            self.queue.append((data.get("ticket_id"), data.get("position"), data.get("status"),
                               time.perf_counter()))

    async def _answer(self, sio: socketio.AsyncClient, ticket: int) -> None:
        try:
            ack = await sio.call("answer", {"ticket_id": ticket}, namespace="/hall",
                                 timeout=STEP_TIMEOUT)
            if not ack.get("ok"):
                self.answer_failures.append(f"answer {ticket}: {ack}")
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            self.answer_failures.append(f"answer {ticket}: {exc!r}")

    async def burst(self) -> Report:
        report = Report(worker=self.index, first_at=time.perf_counter())
        gate = asyncio.Semaphore(self.concurrency)

        async def one(seat: Seat) -> None:
            async with gate:
                sio = socketio.AsyncClient(reconnection=False, handle_sigint=False,
                                           ssl_verify=self.ssl_verify)
                self._handlers(sio)
                t = time.perf_counter()
                try:
                    await asyncio.wait_for(sio.connect(
                        self.base, headers={"Origin": self.base, "Cookie": seat.cookie},
                        namespaces=["/hall"], transports=["websocket"],
                        wait_timeout=STEP_TIMEOUT), STEP_TIMEOUT + 5)
                except Exception as exc:  # noqa: BLE001
                    report.failures.append(f"connect {seat.account_id}: {exc!r}")
                    return
                report.connect_s.append(time.perf_counter() - t)
                report.connected += 1
                self.clients[seat.account_id] = sio
                t = time.perf_counter()
                try:
                    ack = await sio.call("join", {"interview_id": seat.interview_id,
                                                  "probe": {"verdict": "good"}},
                                         namespace="/hall", timeout=STEP_TIMEOUT)
                except Exception as exc:  # noqa: BLE001
                    report.failures.append(f"join {seat.interview_id}: {exc!r}")
                    return
                report.join_ack_s.append(time.perf_counter() - t)
                if not ack.get("ok"):
                    report.failures.append(f"join {seat.interview_id}: {ack}")
                    return
                report.joined += 1
                self.tickets[seat.account_id] = ack["ticket_id"]
        await asyncio.gather(*(one(s) for s in self.seats))
        report.done_at = time.perf_counter()
        report.tickets = dict(self.tickets)
        return report

    async def echo(self, stop: asyncio.Event) -> list[float]:
        """Each echo client pings about once a second at a random phase until stopped."""
        samples: list[float] = []
        # the last seats are the last in their booths' lines: never called during the run
        echo = [self.clients[s.account_id] for s in self.seats[-self.echo_count:]
                if s.account_id in self.clients] if self.echo_count else []

        async def one(sio: socketio.AsyncClient) -> None:
            rng = random.Random(id(sio))
            while not stop.is_set():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), rng.uniform(0.5, 1.5))
                if stop.is_set():
                    return
                t0 = time.perf_counter()
                with contextlib.suppress(Exception):
                    if await sio.call("ping", None, namespace="/hall",
                                      timeout=STEP_TIMEOUT) == {"ok": True}:
                        samples.append(time.perf_counter() - t0)
        await asyncio.gather(*(one(c) for c in echo))
        return samples

    async def quiet(self, still: float = 3.0, longest: float = 120.0) -> None:
        """Wait until no `called` or `queue` has come for `still` seconds (at most `longest`)."""
        deadline = time.perf_counter() + longest
        seen = -1
        while time.perf_counter() < deadline and seen != len(self.queue) + len(self.called):
            seen = len(self.queue) + len(self.called)
            await asyncio.sleep(still)

    async def close(self) -> None:
        # the engine.io client logs an error for every socket closed with nothing queued
        logging.getLogger("engineio.client").setLevel(logging.CRITICAL)
        await asyncio.gather(*(asyncio.wait_for(c.disconnect(), 5) for c in self.clients.values()
                               if c.connected), return_exceptions=True)


def quiet_collector() -> None:
    """The load generator's own pauses kept out of the figures: after the burst, its
    objects are frozen and its cycle collector is off until it ends. A collection in a client
    process holding 1,700 sockets stalled the `queue` of all its waiters at once (a third of
    every booth): `position update` showed a 26 ms delay that was the client's, not the
    server's, while the echo, one ping at a time, hardly noticed. A phase's garbage is a few
    megabytes."""
    gc.collect()
    gc.freeze()
    gc.disable()


async def _serve(worker: Worker, commands: Any, answers: Any) -> None:
    answers.put(("ready", worker.index))
    await asyncio.to_thread(commands.get)  # ("go",): every worker starts the burst at once
    answers.put(("burst", await worker.burst()))
    quiet_collector()
    echo: tuple[asyncio.Event, asyncio.Task] | None = None
    while True:
        command = await asyncio.to_thread(commands.get)
        if command[0] == "echo":
            stop = asyncio.Event()
            echo = (stop, asyncio.create_task(worker.echo(stop)))
        elif command[0] == "stop" and echo is not None:
            echo[0].set()
            answers.put(("echo", await echo[1]))
            echo = None
        elif command[0] == "logs":
            await worker.quiet()  # updates still on their way (a loaded server is late)
            answers.put(("logs", (worker.called, worker.queue, worker.answer_failures)))
        elif command[0] == "quit":
            await worker.close()
            answers.put(("quit", None))
            return


def run(index: int, base: str, seats: list[Seat], concurrency: int, echo_clients: int,
        ssl_verify: bool, commands: Any, answers: Any) -> None:
    """A worker process's entry point (multiprocessing, spawn)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    worker = Worker(index, base, seats, concurrency, echo_clients, ssl_verify)
    asyncio.run(_serve(worker, commands, answers))
