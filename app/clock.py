"""The clock is the edge of the world: the app asks it for the time, tests move it."""

from __future__ import annotations

import datetime as dt


class Clock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc)


class ManualClock(Clock):
    """A clock tests set and advance; it never moves by itself."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.timezone.utc)

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, **delta: float) -> None:
        self._now += dt.timedelta(**delta)


CHINA = dt.timezone(dt.timedelta(hours=8))


def china_date(moment: dt.datetime) -> dt.date:
    """The calendar date in China (UTC+8): 截止日期 and other dates users type mean this."""
    return moment.astimezone(CHINA).date()


def china_midnight(day: dt.date) -> dt.datetime:
    """The instant a China day begins (a day's bounds in every query by date)."""
    return dt.datetime.combine(day, dt.time(), CHINA)


def china_time(moment: dt.datetime | None) -> dt.datetime | None:
    """China's wall-clock time without a zone: what a workbook's date cell shows."""
    return moment.astimezone(CHINA).replace(tzinfo=None) if moment else None
