"""The hall queue's rules as pure functions of the tickets and the clock (no I/O).

Who is next: among the students present, those whose slot has come, earliest slot first
(a late student is called at their turn as soon as they arrive); walk-ins fill the gaps
before students whose slot is still ahead; then early arrivals by slot. "Present" means
connected, or disconnected for less than the waiter grace time: a dropped connection
keeps its place for a while. A called student who does not answer within the answer grace
time becomes 未到 (no-show) and never comes back unless the employer recalls them.

The grace times are the student's school's (app/school_settings): a ticket may carry its
own, else the booth-wide default passed in applies.

A student may hold places at several booths on one day (a 双选会), but takes one call at a
time: while called or in a call at one booth they are passed over at every other booth and
keep their place there, as a disconnected waiter does. So a call only ever rings for a free
student, and the answer time (and with it any 未到) starts only when they are free. Each
booth's wait for such a student counts the time they are expected to spend at booths ahead
of it (eta_across).
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
    busy_elsewhere: bool = False  # the student is called or in a call at another booth


# what people read for each state (the student's day, the hall report)
TICKET_LABELS = {TicketState.WAITING: "排队中", TicketState.CALLED: "呼叫中",
                 TicketState.IN_CALL: "面试中", TicketState.DONE: "已面试",
                 TicketState.NO_SHOW: "未到", TicketState.LEFT: "离开",
                 TicketState.REMOVED: "被移出", TicketState.CLOSED: "面试间关闭"}
BUSY = (TicketState.CALLED, TicketState.IN_CALL)


def is_busy(status: str) -> bool:
    """Called or in a call: the student's one call of the moment."""
    return status in BUSY


def may_be_called(others: Iterable[str]) -> bool:
    """A student may be called (or answer) at a booth only while none of their places at
    other booths (`others`: those tickets' states) is called or in a call."""
    return not any(is_busy(s) for s in others)


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


def callable_line(tickets: Iterable[Ticket], now: dt.datetime,
                  waiter_grace: dt.timedelta) -> list[Ticket]:
    """Who may be called now, in the order of the line. A waiter whose connection dropped
    keeps the place for the grace time but is not called while away (the employer would
    only wait out the answer time of someone who cannot answer); a waiter called or in a
    call at another booth keeps the place too and is called once free."""
    return [t for t in order(tickets, now, waiter_grace) if t.connected and not t.busy_elsewhere]


def passed_over(tickets: Iterable[Ticket], now: dt.datetime, waiter_grace: dt.timedelta,
                called: int | None) -> list[Ticket]:
    """Waiters ahead of the one called (`called`: None when nobody could be) who were passed
    over because they are at another booth's call: each is told they come when free."""
    ahead = []
    for t in order(tickets, now, waiter_grace):
        if t.id == called:
            break
        if t.busy_elsewhere:
            ahead.append(t)
    return ahead


def next_ticket(tickets: Iterable[Ticket], now: dt.datetime,
                waiter_grace: dt.timedelta) -> Ticket | None:
    """The head of the line (who is next in order, whether or not they can be called now)."""
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


@dataclass(frozen=True)
class Elsewhere:
    """The student's expected time at another booth, in seconds from now."""
    starts_in: float   # 0 for a call going on or ringing there
    lasts: float
    busy: bool = False  # called or in a call there now


def elsewhere_of(status: str, slot_at: dt.datetime | None, minutes: int | None,
                 call_started_at: dt.datetime | None, now: dt.datetime) -> Elsewhere | None:
    """What a place at another booth will cost the student: a call going on, its rest of the
    slot; a call ringing, the whole slot; a place by invitation, its slot from the slot's
    time (that booth's own line is not loaded here: the slot is its plan). A walk-in place
    fills gaps and is not counted."""
    length = (minutes or 20) * 60.0
    if status == TicketState.IN_CALL:
        elapsed = (now - call_started_at).total_seconds() if call_started_at else 0.0
        return Elsewhere(0.0, max(0.0, length - elapsed), busy=True)
    if status == TicketState.CALLED:
        return Elsewhere(0.0, length, busy=True)
    if status == TicketState.WAITING and slot_at is not None:
        return Elsewhere(max(0.0, (slot_at - now).total_seconds()), length)
    return None


def eta_across(own: float, elsewhere: Iterable[Elsewhere]) -> float:
    """One wait across booths: this booth's own wait, pushed past the student's time at
    booths that come first (a call there now, or a place expected to start earlier). A
    place expected at the same moment does not push: one of the two booths has to be first,
    and each would otherwise wait for the other."""
    t = own
    for e in sorted(elsewhere, key=lambda e: e.starts_in):
        if e.busy or e.starts_in < t:
            t = max(t, e.starts_in + e.lasts)
    return t
