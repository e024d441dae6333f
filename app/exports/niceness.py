"""How an export worker process stands: below the server, and tied to it.

Imported first by the forkserver (its preload, app/exports/runner.py), before anything
heavy: the forkserver and every worker forked from it then run at the lowest CPU priority
from their first import on. Measured: a worker that imported the app at normal priority
and only then lowered itself cost the statistics page its one slow request (99 ms against
40) at every server's first export.
"""

from __future__ import annotations

import ctypes
import os
import signal

LOWEST = 19
PR_SET_PDEATHSIG = 1

try:
    os.nice(LOWEST - os.nice(0))
except OSError:  # not allowed here: the worker still runs, at the server's priority
    pass


def started() -> None:
    """Each worker process, once: it dies with its parent (nothing keeps writing for a
    server that crashed)."""
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (AttributeError, OSError):  # not Linux: the pool's own shutdown still ends it
        pass
