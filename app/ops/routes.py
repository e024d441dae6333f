"""Registers the operations routes and the metrics hooks."""

from __future__ import annotations

from typing import AsyncIterator

from aiohttp import web

from ..gcpacing import GC_PACER, GcPauses, GcPacer
from ..state import SETTINGS
from . import health
from .housekeeping import housekeeping_ctx
from .metrics import METRICS, Metrics, metrics_view, time_call_next


def setup_ops(app: web.Application) -> None:
    """After setup_hall: the 叫号 timer wraps the hall namespace's handler."""
    app[METRICS] = Metrics(app[SETTINGS].metrics_allow)
    app.router.add_get("/readyz", health.readyz, name="readyz")
    app.router.add_get("/metrics", metrics_view, name="metrics")
    time_call_next(app)
    app.cleanup_ctx.append(housekeeping_ctx)
    app.cleanup_ctx.append(collector_ctx)


async def collector_ctx(app: web.Application) -> AsyncIterator[None]:
    """Every collection's pause into the metrics; the collector paced (app/gcpacing.py)."""
    pauses = GcPauses()
    pauses.listeners.append(app[METRICS].observe_gc_pause)
    pauses.install()
    pacer = app[GC_PACER] = GcPacer(pauses, app[SETTINGS].gc_young_seconds)
    pacer.start()
    yield
    await pacer.stop()
    pauses.remove()
