"""Typed application state: every shared object is a web.AppKey."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from .clock import Clock
from .config import Settings
from .db import Database
from .errorlog import TracebackBudget
from .looplag import LoopLagProbe
from .offload import CpuPool
from .uploads import FileStore

if TYPE_CHECKING:  # named by the AppKeys' string types below, which ruff does not read
    from .accountcache import AccountCache  # noqa: F401
    from .notify.outbox import OutboxWorker  # noqa: F401
    from .students.imports import ImportRunner  # noqa: F401

SETTINGS = web.AppKey("settings", Settings)
DB = web.AppKey("db", Database)
CLOCK = web.AppKey("clock", Clock)
FILES = web.AppKey("files", FileStore)
OUTBOX = web.AppKey("outbox", "OutboxWorker")  # string types: see the TYPE_CHECKING import
IMPORTS = web.AppKey("imports", "ImportRunner")
CPU = web.AppKey("cpu", CpuPool)
ACCOUNT_CACHE = web.AppKey("account_cache", "AccountCache")
ERRORS = web.AppKey("errors", TracebackBudget)  # one traceback per kind a minute (app/errorlog.py)
LOOP_LAG = web.AppKey("loop_lag", LoopLagProbe)  # present only when LOOP_LAG_PROBE_SECONDS > 0
