"""Unexpected errors in the log without flooding it: one traceback per kind of error (its
type and the line it was raised at) a window; the repeats are counted and told in one line
when the window ends. During an outage every request fails the same way: a traceback each
wrote megabytes a minute and buried the first one, the one that says what happened."""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass

WINDOW_SECONDS = 60.0
MAX_KINDS = 256  # kinds remembered at once: a storm of new kinds cannot grow the map


@dataclass
class _Seen:
    since: float
    repeats: int = 0


def kind_of(exc: BaseException) -> tuple[str, str, int]:
    """The exception's type and the line it was raised at."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return (type(exc).__qualname__, "", 0)
    return (type(exc).__qualname__, frames[-1].filename, frames[-1].lineno or 0)


class TracebackBudget:
    def __init__(self, window_seconds: float = WINDOW_SECONDS, clock=time.monotonic) -> None:  # noqa: ANN001
        self.window = window_seconds
        self.clock = clock
        self.seen: dict[tuple[str, str, int], _Seen] = {}

    def log(self, logger: logging.Logger, message: str, exc: BaseException) -> bool:
        """Log `exc` with its traceback unless its kind was logged within the window;
        returns whether the traceback was written."""
        now = self.clock()
        kind = kind_of(exc)
        seen = self.seen.get(kind)
        if seen is not None and now - seen.since < self.window:
            seen.repeats += 1
            return False
        if seen is not None and seen.repeats:
            logger.error("%s: %s repeated %d times in the last %.0f s (traceback shown once)",
                         message, kind[0], seen.repeats, now - seen.since)
        if len(self.seen) >= MAX_KINDS and kind not in self.seen:
            self.seen.pop(next(iter(self.seen)))
        self.seen[kind] = _Seen(now)
        logger.error(message, exc_info=exc)
        return True
