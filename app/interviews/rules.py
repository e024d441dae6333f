"""Pure rules of interview times: slots, overlaps, when the hall opens for a student."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, TypeVar

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


T = TypeVar("T")


def overlapping(slot: Slot, others: Iterable[tuple[Slot, T]]) -> list[T]:
    """The items of `others` whose slot overlaps `slot`, earliest first. A student can be in
    one call at a time: another interview of theirs at the same time is a clash, whoever
    holds it (only warned of, never refused — the student chooses)."""
    hits = sorted(((other, item) for other, item in others if slot.overlaps(other)),
                  key=lambda hit: hit[0].starts_at)
    return [item for _, item in hits]


def clashes_per_student(ours: Iterable[tuple[int, int, Slot]],
                        elsewhere: Iterable[tuple[int, Slot]]) -> dict[int, list[Slot]]:
    """Our interviews as (interview id, student, slot) and the students' interviews elsewhere
    as (student, slot) → interview id → the student's slots elsewhere overlapping it, for
    the interviews that have any."""
    by_student: dict[int, list[tuple[Slot, Slot]]] = defaultdict(list)
    for student, slot in elsewhere:
        by_student[student].append((slot, slot))
    found = {interview_id: overlapping(slot, by_student.get(student, ()))
             for interview_id, student, slot in ours}
    return {interview_id: slots for interview_id, slots in found.items() if slots}


def hall_opens_at(starts_at: dt.datetime, open_minutes: int) -> dt.datetime:
    return starts_at - dt.timedelta(minutes=open_minutes)


def hall_is_open(now: dt.datetime, *, starts_at: dt.datetime, session_ends_at: dt.datetime,
                 session_status: str, open_minutes: int) -> bool:
    return (hall_opens_at(starts_at, open_minutes) <= now <= session_ends_at + HALL_AFTER_LAST_SLOT
            and session_status not in ("ended", "closed"))
