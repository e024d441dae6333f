"""Registers the operations routes and the metrics hooks."""

from __future__ import annotations

from aiohttp import web

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
