"""Prometheus metrics, per process (each app process has its own registry and answers for
itself; Prometheus scrapes every process and sums). The hall and outbox gauges are read
from the database at scrape time, so they are the cluster's figures, the same from any
process; sockets, latencies and loop lag are this process's own.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from typing import Any

import sqlalchemy as sa
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, Histogram
from prometheus_client import generate_latest

from rtc.queue import TicketState
from rtc.setup import HALL
from rtc.sockets import NAMESPACES, SIO

from ..proxy import address_in, networks
from ..roles import public
from ..state import CLOCK, DB, LOOP_LAG
from ..tables import email_outbox, hall_tickets

# Page handlers and socket.io acks: from a few milliseconds to the slowest a user waits.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


# A collection's pause: the young generation's few milliseconds to a full one's second.
GC_PAUSE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Metrics:
    def __init__(self, allow: tuple[str, ...]) -> None:
        self.allow = networks(allow)  # a bad METRICS_ALLOW stops the start, not the scrape
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.request_seconds = Histogram(
            "http_request_duration_seconds", "Time to answer a request, by route name.",
            ["route", "method"], buckets=LATENCY_BUCKETS, registry=r)
        # each (route, method)'s child, found once: labels() validates and locks per call,
        # which a cached page (0.15 ms in all) noticed; routes and methods are bounded
        self.request_children: dict[tuple[str, str], Any] = {}
        self.call_next_seconds = Histogram(
            "hall_call_next_seconds", "Time from an employer's 叫号 to its answer (the student "
            "is told and the booth rebroadcast).", buckets=LATENCY_BUCKETS, registry=r)
        self.sockets = Gauge("socketio_connected_sockets",
                             "socket.io connections of this process, by namespace.",
                             ["namespace"], registry=r)
        self.waiting = Gauge("hall_waiting_students", "Students waiting in the hall (cluster).",
                             registry=r)
        self.in_call = Gauge("hall_calls_in_progress",
                             "Calls in progress: called or in an interview (cluster).",
                             ["state"], registry=r)
        self.outbox_backlog = Gauge("outbox_pending_mails", "Mails not yet sent (cluster).",
                                    registry=r)
        self.outbox_oldest = Gauge("outbox_oldest_pending_age_seconds",
                                   "Age of the oldest mail not yet sent; 0 when none (cluster).",
                                   registry=r)
        self.loop_lag_last = Gauge("event_loop_lag_seconds",
                                   "Last lag the loop probe measured (LOOP_LAG_PROBE_SECONDS > 0).",
                                   registry=r)
        self.loop_lag_max = Gauge("event_loop_lag_max_seconds",
                                  "Worst lag the loop probe measured since it started or was reset.",
                                  registry=r)
        gc_pause = Histogram("python_gc_pause_seconds", "Pauses of the cycle collector on "
                             "the thread that ran it, by generation (0 young, 2 full).",
                             ["generation"], buckets=GC_PAUSE_BUCKETS, registry=r)
        self.gc_pause_children = [gc_pause.labels(str(g)) for g in range(3)]

    def observe_gc_pause(self, generation: int, seconds: float) -> None:
        self.gc_pause_children[generation].observe(seconds)

    async def refresh(self, app: web.Application) -> None:
        """Read the gauges that are states, not events, just before a scrape."""
        sio = app.get(SIO)
        rooms = sio.manager.rooms if sio is not None else {}
        for ns in NAMESPACES:
            # room None holds every connected sid of a namespace (python-socketio's manager)
            self.sockets.labels(ns).set(len(rooms.get(ns, {}).get(None, ())))
        now = app[CLOCK].now()
        t = hall_tickets
        async with app[DB].read() as conn:
            by_state = dict((await conn.execute(
                sa.select(t.c.status, sa.func.count()).where(t.c.status.in_(
                    [TicketState.WAITING, TicketState.CALLED, TicketState.IN_CALL]))
                .group_by(t.c.status))).all())
            backlog, oldest = (await conn.execute(
                sa.select(sa.func.count(), sa.func.min(email_outbox.c.created_at))
                .where(email_outbox.c.status == "pending"))).one()
        self.waiting.set(by_state.get(TicketState.WAITING, 0))
        for state in (TicketState.CALLED, TicketState.IN_CALL):
            self.in_call.labels(state.value).set(by_state.get(state, 0))
        self.outbox_backlog.set(backlog)
        if isinstance(oldest, str):  # SQLite's func.min loses the column type
            oldest = dt.datetime.fromisoformat(oldest)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=dt.timezone.utc)
        self.outbox_oldest.set(max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        probe = app.get(LOOP_LAG)
        if probe is not None:
            self.loop_lag_last.set(probe.last_lag)
            self.loop_lag_max.set(probe.max_lag)


METRICS = web.AppKey("metrics", Metrics)


def route_name(request: web.Request) -> str:
    """A bounded label: the route's name, else its pattern; never the raw path."""
    info = request.match_info
    if info.http_exception is not None:
        return "unmatched"
    route = info.route
    if route.name:
        return route.name
    resource = route.resource
    return resource.canonical if resource is not None else "unnamed"


@web.middleware
async def request_timing(request: web.Request, handler):  # noqa: ANN001
    started = time.perf_counter()
    try:
        return await handler(request)
    finally:
        metrics = request.app[METRICS]
        method = request.method if request.method in METHODS else "OTHER"  # any token parses
        key = (route_name(request), method)
        child = metrics.request_children.get(key)
        if child is None:
            child = metrics.request_children[key] = metrics.request_seconds.labels(*key)
        child.observe(time.perf_counter() - started)


def time_call_next(app: web.Application) -> None:
    """Wrap the hall's 叫号 handler from outside: rtc/hall.py is another engineer's. Better
    later: the namespace calls an observer itself (one line in on_call_next)."""
    hall = app[HALL]
    handler = hall.on_call_next
    histogram = app[METRICS].call_next_seconds

    @functools.wraps(handler)
    async def timed(sid: str, data: Any = None) -> Any:
        started = time.perf_counter()
        try:
            return await handler(sid, data)
        finally:
            histogram.observe(time.perf_counter() - started)
    hall.on_call_next = timed  # type: ignore[method-assign]


@public
async def metrics_view(request: web.Request) -> web.Response:
    metrics = request.app[METRICS]
    if not address_in(request.remote, metrics.allow):
        raise web.HTTPNotFound()  # not even admit that it exists
    await metrics.refresh(request.app)
    response = web.Response(body=generate_latest(metrics.registry))
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response
