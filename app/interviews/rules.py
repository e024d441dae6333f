"""Pure rules of interview times: slots, overlaps, when the hall opens for a student."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..clock import CHINA  # noqa: F401  (re-exported: the hall and the .ics use it)

MIN_MINUTES, MAX_MINUTES = 5, 180
# After the last slot ends the hall stays open a while for late or overrunning interviews.
HALL_AFTER_LAST_SLOT = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Slot:
    starts_at: dt.datetime
    minutes: int

    @property
    def ends_at(self) -> dt.datetime:
        return self.starts_at + dt.timedelta(minutes=self.minutes)

    def overlaps(self, other: "Slot") -> bool:
        return self.starts_at < other.ends_at and other.starts_at < self.ends_at


def china_datetime(day: dt.date, time: dt.time) -> dt.datetime:
    """A date and time typed by a user in China → an aware UTC datetime."""
    return dt.datetime.combine(day, time, CHINA).astimezone(dt.timezone.utc)


def consecutive(first: dt.datetime, minutes: int, count: int) -> list[Slot]:
    """Back-to-back slots: invitations for several applicants at once."""
    return [Slot(first + dt.timedelta(minutes=minutes * i), minutes) for i in range(count)]


def clashes(new: list[Slot], existing: list[Slot]) -> list[Slot]:
    return [s for s in new if any(s.overlaps(e) for e in existing)]


def hall_opens_at(starts_at: dt.datetime, open_minutes: int) -> dt.datetime:
    return starts_at - dt.timedelta(minutes=open_minutes)


def hall_is_open(now: dt.datetime, *, starts_at: dt.datetime, session_ends_at: dt.datetime,
                 session_status: str, open_minutes: int) -> bool:
    return (hall_opens_at(starts_at, open_minutes) <= now <= session_ends_at + HALL_AFTER_LAST_SLOT
            and session_status not in ("ended", "closed"))
