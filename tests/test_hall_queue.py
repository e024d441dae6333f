"""Property tests of the hall's pure ordering and ETA rules (rtc/queue.py)."""

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from rtc.queue import (Ticket, TicketState, eta_seconds, next_ticket, order, positions,
                       queue_key, stale_waiters, typical_seconds, unanswered_calls)

T0 = dt.datetime(2026, 6, 2, 6, 0, tzinfo=dt.timezone.utc)
GRACE = dt.timedelta(seconds=120)
ANSWER = dt.timedelta(seconds=60)


def ticket(i, slot_min=None, arrived_min=0, **kw):
    return Ticket(id=i, slot_at=None if slot_min is None else T0 + dt.timedelta(minutes=slot_min),
                  arrived_at=T0 + dt.timedelta(minutes=arrived_min), status=kw.get("status", TicketState.WAITING),
                  connected=kw.get("connected", True),
                  last_seen_at=kw.get("last_seen_at", T0 + dt.timedelta(minutes=arrived_min)),
                  called_at=kw.get("called_at"))


def test_examples_from_the_brief():
    now = T0 + dt.timedelta(minutes=30)
    late = ticket(1, slot_min=0, arrived_min=29)      # late, arrives now: called at their turn
    on_time = ticket(2, slot_min=20, arrived_min=5)
    walk_in = ticket(3, None, arrived_min=1)
    early = ticket(4, slot_min=60, arrived_min=2)
    absent = ticket(5, slot_min=10, arrived_min=3, connected=False,
                    last_seen_at=now - GRACE - dt.timedelta(seconds=1))
    line = order([early, walk_in, on_time, late, absent], now, GRACE)
    assert [t.id for t in line] == [1, 2, 3, 4]
    assert positions([early, walk_in, on_time, late, absent], now, GRACE) == {1: 1, 2: 2, 3: 3, 4: 4}
    assert stale_waiters([absent, late], now, GRACE) == [5]
    dropped = ticket(6, slot_min=5, arrived_min=4, connected=False, last_seen_at=now - GRACE)
    assert next_ticket([dropped, on_time], now, GRACE).id == 6  # still within grace: keeps place


def test_eta_uses_the_median_of_finished_interviews():
    assert typical_seconds([], 20) == 1200
    assert typical_seconds([300, 900, 600, 10_000], 20) == 750
    assert eta_seconds(1, 600, None) == 0
    assert eta_seconds(1, 600, 200) == 400
    assert eta_seconds(3, 600, 800) == 1200  # an overrunning call adds nothing negative


def test_unanswered_calls_expire_after_the_grace():
    called = ticket(1, 0, status=TicketState.CALLED, called_at=T0)
    assert unanswered_calls([called], T0 + ANSWER, ANSWER) == []
    assert unanswered_calls([called], T0 + ANSWER + dt.timedelta(seconds=1), ANSWER) == [1]


tickets_st = st.lists(st.tuples(st.one_of(st.none(), st.integers(-60, 120)), st.integers(-30, 60),
                                st.booleans(), st.integers(0, 400)), min_size=0, max_size=25)


@given(tickets_st, st.integers(-30, 150))
def test_order_respects_slots_among_those_present(raw, now_min):
    now = T0 + dt.timedelta(minutes=now_min)
    tickets = [ticket(i, slot, arr, connected=conn, last_seen_at=now - dt.timedelta(seconds=seen))
               for i, (slot, arr, conn, seen) in enumerate(raw)]
    line = order(tickets, now, GRACE)
    ids = [t.id for t in line]
    assert len(ids) == len(set(ids))
    assert all(t.connected or now - t.last_seen_at <= GRACE for t in line)
    present = [t for t in tickets if t.connected or now - t.last_seen_at <= GRACE]
    assert {t.id for t in present} == set(ids)
    keys = [queue_key(t, now) for t in line]
    assert keys == sorted(keys)
    due = [t for t in line if t.slot_at is not None and t.slot_at <= now]
    # every present student whose slot has come goes before anyone whose slot has not, and
    # among them the earlier slot first
    assert line[:len(due)] == due
    assert [t.slot_at for t in due] == sorted(t.slot_at for t in due)
    if line:
        assert next_ticket(tickets, now, GRACE) == line[0]


@given(st.integers(1, 50), st.floats(60, 3600), st.one_of(st.none(), st.floats(0, 7200)))
def test_eta_grows_with_position(position, typical, elapsed):
    assert eta_seconds(position + 1, typical, elapsed) >= eta_seconds(position, typical, elapsed) >= 0


class Booth(RuleBasedStateMachine):
    """Random arrivals, drops, calls, answers and time; the booth keeps its promises."""

    @initialize()
    def start(self):
        self.now = T0
        self.tickets: dict[int, Ticket] = {}
        self.calls: dict[int, int] = {}
        self.recalls: dict[int, int] = {}
        self.next_id = 1

    def _set(self, t: Ticket, **changes):
        self.tickets[t.id] = Ticket(**{**t.__dict__, **changes})

    @rule(slot=st.one_of(st.none(), st.integers(-30, 90)))
    def arrive(self, slot):
        t = ticket(self.next_id, slot)
        self.tickets[t.id] = Ticket(**{**t.__dict__, "arrived_at": self.now, "last_seen_at": self.now})
        self.next_id += 1

    @rule(data=st.data())
    def drop_or_return(self, data):
        waiting = [t for t in self.tickets.values() if t.status == TicketState.WAITING]
        if waiting:
            t = data.draw(st.sampled_from(waiting))
            self._set(t, connected=not t.connected, last_seen_at=self.now)

    @rule(seconds=st.integers(1, 400))
    def time_passes(self, seconds):
        self.now += dt.timedelta(seconds=seconds)
        for t in self.tickets.values():
            if t.connected:
                self._set(t, last_seen_at=self.now)

    @rule()
    def call_next(self):
        line = order(self.tickets.values(), self.now, GRACE)
        chosen = next_ticket(self.tickets.values(), self.now, GRACE)
        if chosen is None:
            assert line == []
            return
        assert chosen == line[0]  # nobody present is passed over
        self.calls[chosen.id] = self.calls.get(chosen.id, 0) + 1
        self._set(chosen, status=TicketState.CALLED, called_at=self.now)

    @rule(data=st.data())
    def answer(self, data):
        called = [t for t in self.tickets.values() if t.status == TicketState.CALLED]
        if called:
            t = data.draw(st.sampled_from(called))
            if self.now - t.called_at <= ANSWER:
                self._set(t, status=TicketState.IN_CALL)

    @rule()
    def finish(self):
        for t in list(self.tickets.values()):
            if t.status == TicketState.IN_CALL:
                self._set(t, status=TicketState.DONE)

    @rule()
    def sweep(self):
        for ticket_id in unanswered_calls(self.tickets.values(), self.now, ANSWER):
            self._set(self.tickets[ticket_id], status=TicketState.NO_SHOW)
        for ticket_id in stale_waiters(self.tickets.values(), self.now, GRACE):
            self._set(self.tickets[ticket_id], status=TicketState.LEFT)

    @precondition(lambda self: any(t.status == TicketState.NO_SHOW for t in self.tickets.values()))
    @rule(data=st.data())
    def recall(self, data):
        t = data.draw(st.sampled_from([t for t in self.tickets.values() if t.status == TicketState.NO_SHOW]))
        self.recalls[t.id] = self.recalls.get(t.id, 0) + 1
        self._set(t, status=TicketState.WAITING, connected=True, last_seen_at=self.now)

    @invariant()
    def nobody_called_twice_unless_recalled(self):
        for ticket_id, n in self.calls.items():
            assert n <= 1 + self.recalls.get(ticket_id, 0)

    @invariant()
    def no_show_never_returns_silently(self):
        line_ids = {t.id for t in order(self.tickets.values(), self.now, GRACE)}
        for t in self.tickets.values():
            if t.status in (TicketState.NO_SHOW, TicketState.LEFT, TicketState.DONE):
                assert t.id not in line_ids


TestBooth = Booth.TestCase
TestBooth.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
