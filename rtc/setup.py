"""Wires the real-time parts into the app: the socket.io server and the hall sweeper."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
from typing import AsyncIterator

from aiohttp import web

from app.workflow import TransitionError
from app.notify import emails
from app.state import CLOCK, DB, SETTINGS

from . import leases, monitor_store, tickets
from .frames import FrameGuardedServer
from .hall import HallNamespace
from .monitor_feed import MonitorNamespace, monitor_ticker
from .sockets import SIO, LocalManager, RedisManager
from app.errorlog import TracebackBudget
from app.redislink import redis_channel, redis_connection_url

log = logging.getLogger(__name__)
HALL = web.AppKey("hall", HallNamespace)
MONITOR = web.AppKey("monitor", MonitorNamespace)
SWEEPER = web.AppKey("hall_sweeper", asyncio.Task)
SWEEP_SECONDS = 1.0


def setup_hall(app: web.Application) -> None:
    settings = app[SETTINGS]
    manager = _redis_manager(settings.redis_url) if settings.redis_url else LocalManager()
    # cors_allowed_origins=None: engine.io itself accepts same-origin only; the namespace
    # checks the Origin again in connect.
    sio = FrameGuardedServer(async_mode="aiohttp", client_manager=manager,
                               cors_allowed_origins=None, max_http_buffer_size=256 * 1024)
    hall = HallNamespace(app)
    feed = MonitorNamespace(app)
    hall.monitor = feed
    sio.register_namespace(hall)
    sio.register_namespace(feed)
    sio.attach(app)
    app[SIO] = sio
    app[HALL] = hall
    app[MONITOR] = feed
    app.cleanup_ctx.append(_manager)
    app.cleanup_ctx.append(_sweeper)
    app.cleanup_ctx.append(lambda app: monitor_ticker(app, app[MONITOR]))


def _redis_manager(url: str) -> RedisManager:
    """socket.io rooms across processes. `?channel=NAME` on the URL keeps two deployments
    (or two test runs) on one Redis apart; the default channel is "cqbys"."""
    plain, channel = redis_connection_url(url), redis_channel(url)
    return RedisManager(plain, channel=channel)


async def sweep_once(app: web.Application) -> tickets.SweepResult:
    """This process's lease is extended and a dead process's tickets released; unanswered
    calls become 未到 and the next student is called; stale waiters leave."""
    s = app[SETTINGS]
    now = app[CLOCK].now()
    hall = app[HALL]
    # Looked for outside the write lock, every second; only what is found is written. The
    # lease and the watchers' presence are written every fifth of the lease, not every
    # second: in the usual second the sweep then takes no write turn at all (a call waiting
    # behind the sweep waited up to 40 ms at 5,000).
    async with app[DB].read() as conn:
        dead = await leases.find_dead(conn, now, hall.process_id)
        due = await tickets.sweep_due(conn, now, dt.timedelta(seconds=s.hall_answer_grace_seconds),
                                      dt.timedelta(seconds=s.hall_waiter_grace_seconds))
        stale = await monitor_store.any_stale_watchers(conn, now)
    renew = hall.renewed_at is None or now - hall.renewed_at >= _lease(app) / 5 \
        or now < hall.renewed_at
    result, lost = tickets.SweepResult(), []
    if renew or dead.tickets or due.no_shows or due.gone or stale:
        async with app[DB].write() as conn:
            if renew:
                await leases.refresh(conn, hall.process_id, now, _lease(app),
                                     hall.students.values())
            released = await leases.release_dead(conn, dead, now)
            result = await tickets.apply_sweep(conn, due, now)
            result.changed_sessions |= released
            # employer presence: refresh this process's watchers, drop a dead process's
            lost = await monitor_store.touch_watchers(
                conn, list(hall.watching) if renew else [], now, stale)
        if renew:
            hall.renewed_at = now
    for session_id in result.no_show_sessions:  # 未到 → the next one is called
        try:
            await hall.make_call(session_id, functools.partial(
                tickets.call_next, session_id=session_id, now=now, waiter_grace=hall.waiter_grace))
        except TransitionError:
            pass  # someone is in a call: the next waits for it
    for session_id in result.changed_sessions | set(lost):
        hall.broadcast(session_id)
    await _mail_absent_employers(app, now)
    return result


async def _mail_absent_employers(app: web.Application, now: dt.datetime) -> None:
    """Students wait, the first slot is some minutes past, and nobody of the employer is in
    the room: tell the employer by email (once per booth)."""
    after = dt.timedelta(minutes=app[SETTINGS].hall_employer_absent_minutes)
    base = app[SETTINGS].public_base_url.rstrip("/")
    async with app[DB].read() as conn:
        absent = await tickets.absent_employers(conn, now, after)
    if not absent:
        return
    async with app[DB].write() as conn:
        absent = await tickets.mark_absence_told(conn, absent, now)
        for booth in absent:
            for address in sorted(await tickets.employer_addresses(conn, booth.employer_id,
                                                                   booth.contact_email)):
                await emails.enqueue(conn, to=address, template="hall_employer_absent", at=now,
                                     context={"name": booth.name,
                                              "link": f"{base}/hall/booths/{booth.id}"})


async def _manager(app: web.Application) -> AsyncIterator[None]:
    yield
    await app[HALL].booths.close()  # builds still waiting: the sockets are going anyway
    await app[SIO].manager.close()


def _lease(app: web.Application) -> dt.timedelta:
    return dt.timedelta(seconds=app[SETTINGS].hall_process_lease_seconds)


async def _sweeper(app: web.Application) -> AsyncIterator[None]:
    hall = app[HALL]
    async with app[DB].write() as conn:  # before any socket: its tickets name this process
        await leases.start(conn, hall.process_id, app[CLOCK].now(), _lease(app))

    errors = TracebackBudget()  # a sweep a second fails the same way in an outage

    async def loop() -> None:
        while True:
            try:
                await sweep_once(app)
            except Exception as exc:  # the sweeper must outlive a bad row or a database hiccup
                errors.log(log, "hall sweep failed", exc)
            await asyncio.sleep(SWEEP_SECONDS)
    task = app[SWEEPER] = asyncio.create_task(loop(), name="hall-sweeper")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    try:
        async with app[DB].write() as conn:
            await leases.stop(conn, hall.process_id, app[CLOCK].now())
    except Exception:  # a database gone at shutdown: the lease simply runs out
        log.exception("ending the hall lease failed")
