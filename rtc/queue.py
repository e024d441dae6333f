"""The hall queue's rules as pure functions of the tickets and the clock (no I/O).

Who is next: among the students present, those whose slot has come, earliest slot first
(a late student is called at their turn as soon as they arrive); walk-ins fill the gaps
before students whose slot is still ahead; then early arrivals by slot. "Present" means
connected, or disconnected for less than the waiter grace time: a dropped connection
keeps its place for a while. A called student who does not answer within the answer grace
time becomes 未到 (no-show) and never comes back unless the employer recalls them.

The grace times are the student's school's (app/school_settings): a ticket may carry its
own, else the booth-wide default passed in applies.
"""

from __future__ import annotations

import datetime as dt
import enum
import statistics
from dataclasses import dataclass
from typing import Iterable, Sequence


class TicketState(enum.StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    IN_CALL = "in_call"
    DONE = "done"
    NO_SHOW = "no_show"
    LEFT = "left"       # gone longer than the grace time, or left by choice
    REMOVED = "removed"  # taken out by an admin (closed_reason says why)
    CLOSED = "closed"    # the booth was closed by an admin (closed_reason says why)


@dataclass(frozen=True)
class Ticket:
    id: int
    slot_at: dt.datetime | None  # None: a walk-in
    arrived_at: dt.datetime
    status: TicketState
    connected: bool
    last_seen_at: dt.datetime
    called_at: dt.datetime | None = None
    answer_grace: dt.timedelta | None = None  # None: the default given to the functions
    waiter_grace: dt.timedelta | None = None


def is_present(t: Ticket, now: dt.datetime, waiter_grace: dt.timedelta) -> bool:
    grace = waiter_grace if t.waiter_grace is None else t.waiter_grace
    return t.connected or now - t.last_seen_at <= grace


def queue_key(t: Ticket, now: dt.datetime) -> tuple:
    if t.slot_at is not None and t.slot_at <= now:
        return (0, t.slot_at, t.arrived_at, t.id)   # due: by slot
    if t.slot_at is None:
        return (1, t.arrived_at, t.arrived_at, t.id)  # walk-in: fills the gap
    return (2, t.slot_at, t.arrived_at, t.id)         # early: waits for its slot's turn


def order(tickets: Iterable[Ticket], now: dt.datetime, waiter_grace: dt.timedelta) -> list[Ticket]:
    """The waiting line: present, waiting tickets in the order they will be called."""
    waiting = [t for t in tickets
               if t.status == TicketState.WAITING and is_present(t, now, waiter_grace)]
    return sorted(waiting, key=lambda t: queue_key(t, now))


def next_ticket(tickets: Iterable[Ticket], now: dt.datetime,
                waiter_grace: dt.timedelta) -> Ticket | None:
    line = order(tickets, now, waiter_grace)
    return line[0] if line else None


def positions(tickets: Iterable[Ticket], now: dt.datetime,
              waiter_grace: dt.timedelta) -> dict[int, int]:
    return {t.id: i for i, t in enumerate(order(tickets, now, waiter_grace), start=1)}


def unanswered_calls(tickets: Iterable[Ticket], now: dt.datetime,
                     answer_grace: dt.timedelta) -> list[int]:
    """Called students whose answer time ran out: to be marked 未到."""
    return [t.id for t in tickets if t.status == TicketState.CALLED and t.called_at is not None
            and now - t.called_at > (answer_grace if t.answer_grace is None else t.answer_grace)]


def stale_waiters(tickets: Iterable[Ticket], now: dt.datetime,
                  waiter_grace: dt.timedelta) -> list[int]:
    """Waiting tickets gone longer than the grace time: they leave the queue by themselves."""
    return [t.id for t in tickets
            if t.status == TicketState.WAITING and not is_present(t, now, waiter_grace)]


def typical_seconds(finished: Sequence[float], slot_minutes: int) -> float:
    """This booth's interview length: the median of finished ones, the slot length until then."""
    return float(statistics.median(finished)) if finished else slot_minutes * 60.0


def eta_seconds(position: int, typical: float, current_call_elapsed: float | None) -> float:
    """Expected wait for the student at `position` (1 = next)."""
    remaining_current = max(0.0, typical - current_call_elapsed) if current_call_elapsed is not None else 0.0
    return remaining_current + (position - 1) * typical
