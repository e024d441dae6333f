"""One call at a time across booths, as rules: rtc/queue.py's pure functions by property,
then any interleaving of joins, calls, answers, 未到, recalls, ends, dropped connections and
the sweeper over three booths, through the real services (rtc.tickets) in real write
transactions, on whichever engine the run uses. After every step the database must show
what the rules predict from the step before, no student with two calls, and no 未到 at a
booth while the student was at another booth's call."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings as hsettings, strategies as st, target

from app.db import Database
from app.interviews.rules import HALL_AFTER_LAST_SLOT
from app.interviews.service import ACTIVE
from app.tables import accounts, call_quality, hall_tickets, interview_sessions, interviews
from app.workflow import TransitionError
from rtc import tickets
from rtc.queue import (BUSY, Elsewhere, Ticket, TicketState as S, callable_line, elsewhere_of,
                       eta_across, may_be_called, order, passed_over)
from tests.booths_kit import build_booths

T0 = dt.datetime(2026, 6, 2, 6, 0, tzinfo=dt.timezone.utc)
ANSWER, WAITER = dt.timedelta(seconds=60), dt.timedelta(seconds=120)


# ---- the pure rules ----------------------------------------------------------------------

def _tickets(raw: list[tuple], now: dt.datetime) -> list[Ticket]:
    return [Ticket(id=i, slot_at=None if slot is None else T0 + dt.timedelta(minutes=slot),
                   arrived_at=T0 + dt.timedelta(minutes=arrived), status=status, connected=conn,
                   last_seen_at=now - dt.timedelta(seconds=seen), busy_elsewhere=busy)
            for i, (slot, arrived, status, conn, seen, busy) in enumerate(raw)]


raw_tickets = st.lists(st.tuples(st.one_of(st.none(), st.integers(-60, 120)), st.integers(-30, 60),
                                 st.sampled_from([S.WAITING] * 4 + list(S)), st.booleans(),
                                 st.integers(0, 400), st.booleans()), max_size=20)
minutes_now = st.integers(-30, 150)


@given(raw_tickets, minutes_now)
def test_callable_line_is_the_line_without_the_away_and_the_busy(raw, now_min):
    now = T0 + dt.timedelta(minutes=now_min)
    ts = _tickets(raw, now)
    line, callable_ = order(ts, now, WAITER), callable_line(ts, now, WAITER)
    assert all(t.connected and not t.busy_elsewhere for t in callable_)
    rest = iter(line)  # in the line's own order: a subsequence of it
    assert all(any(t == u for u in rest) for t in callable_)
    assert all(not t.connected or t.busy_elsewhere for t in line if t not in callable_)


@given(raw_tickets, minutes_now, st.data())
def test_passed_over_are_exactly_the_busy_waiters_ahead(raw, now_min, data):
    now = T0 + dt.timedelta(minutes=now_min)
    ts = _tickets(raw, now)
    line = order(ts, now, WAITER)
    called = data.draw(st.sampled_from([None] + [t.id for t in line]))
    ahead = line[:[t.id for t in line].index(called)] if called is not None else line
    assert passed_over(ts, now, WAITER, called) == [t for t in ahead if t.busy_elsewhere]
    # the first who may be called: everyone ahead was either told (busy) or is away
    first = next(iter(callable_line(ts, now, WAITER)), None)
    ahead = line[:line.index(first)] if first is not None else line
    told = passed_over(ts, now, WAITER, first.id if first is not None else None)
    assert {t.id for t in told} | {t.id for t in ahead if not t.connected} == {t.id for t in ahead}


elsewheres = st.lists(st.builds(Elsewhere, st.floats(0, 7200), st.floats(0, 3600), st.booleans()),
                      max_size=5)


@given(st.floats(0, 7200), st.floats(0, 7200), elsewheres)
def test_eta_across_booths(a, b, places):
    own, more = sorted((a, b))
    eta = eta_across(own, places)
    assert eta >= own and eta <= eta_across(more, places)
    assert eta_across(own, []) == own
    for e in places:
        if e.busy or e.starts_in < own:  # a call there now, or a place that comes first
            assert eta >= e.starts_in + e.lasts
    if all(not e.busy and e.starts_in >= own for e in places):
        assert eta == own  # places that come later (or at the same moment) do not push


@given(st.sampled_from(S), st.one_of(st.none(), st.integers(-120, 240)),
       st.one_of(st.none(), st.integers(1, 90)), st.one_of(st.none(), st.integers(0, 7200)))
def test_elsewhere_of_each_state(status, slot_min, minutes, started_ago):
    slot_at = None if slot_min is None else T0 + dt.timedelta(minutes=slot_min)
    started = None if started_ago is None else T0 - dt.timedelta(seconds=started_ago)
    got = elsewhere_of(status, slot_at, minutes, started, T0)
    length = (minutes or 20) * 60.0
    if status == S.IN_CALL:
        assert got == Elsewhere(0.0, max(0.0, length - (started_ago or 0)), busy=True)
    elif status == S.CALLED:
        assert got == Elsewhere(0.0, length, busy=True)
    elif status == S.WAITING and slot_at is not None:
        assert got == Elsewhere(max(0.0, slot_min * 60.0), length, busy=False)
    else:  # a walk-in's place fills gaps; a closed place costs nothing
        assert got is None


@given(st.lists(st.sampled_from(S), max_size=4))
def test_may_be_called_only_without_a_call_elsewhere(others):
    assert may_be_called(others) == (S.CALLED not in others and S.IN_CALL not in others)


# ---- any interleaving through the services --------------------------------------------------

_TICKETS = tickets.school_graces(
    sa.select(hall_tickets).join(accounts, accounts.c.id == hall_tickets.c.account_id))
TWO_CALLS = sa.text("SELECT account_id, count(*) FROM hall_tickets "
                    "WHERE status IN ('called', 'in_call') GROUP BY account_id HAVING count(*) > 1")


@dataclass
class State:
    """The hall as the database holds it after a step."""
    tickets: dict[tuple[int, int], Any]  # (account, session) -> ticket row with graces
    sessions: dict[int, Any]
    interviews: dict[int, str]

    def busy_elsewhere(self, t: Any) -> bool:
        return any(o.account_id == t.account_id and o.id != t.id and o.status in BUSY
                   for o in self.tickets.values())

    def at(self, session_id: int) -> list[Any]:
        return [t for t in self.tickets.values() if t.session_id == session_id]

    def view(self) -> tuple[dict, dict, dict]:
        """What a step is predicted to leave: each place's state, connection and call time."""
        return ({k: (t.status, t.connected, t.called_at) for k, t in self.tickets.items()},
                {i: s.status for i, s in self.sessions.items()}, dict(self.interviews))

    def line(self, session_id: int, now: dt.datetime) -> list[Ticket]:
        return order([Ticket(id=t.id, slot_at=t.slot_at, arrived_at=t.arrived_at,
                             status=S(t.status), connected=t.connected, last_seen_at=t.last_seen_at,
                             waiter_grace=_grace(t.waiter_grace_seconds, WAITER),
                             busy_elsewhere=self.busy_elsewhere(t))
                      for t in self.at(session_id)], now, WAITER)


def _grace(value: int | None, default: dt.timedelta) -> dt.timedelta:
    """The student's school's own grace, else the hall's."""
    return default if value is None else dt.timedelta(seconds=value)


class Hall:
    """One example: a day at three booths, step by step, each step checked."""

    def __init__(self, db: Database, fair: Any, saved: Any, start: dt.datetime, data: Any) -> None:
        self.db, self.fair, self.saved, self.data, self.now = db, fair, saved, data, start
        self.students = [s.account_id for s in fair.students[:data.draw(st.integers(2, 5), "students")]]
        self.sessions = [b.session_id for b in fair.booths]
        self.state: State | None = None
        self.shared: dict[int, bool] = {}  # a ringing call: was the student busy elsewhere meanwhile
        self.log: list[str] = []
        self.passed = 0  # waiters passed over (the search aims at examples with many)
        self.no_show_sessions: set[int] = set()

    async def play(self) -> None:
        await self.reset()
        self.state = await self.read()
        for _ in range(self.data.draw(st.integers(5, 50), "steps")):
            # round and tick check each of their own steps; race's is checked here
            await self.step(getattr(self, self.data.draw(st.sampled_from(OPS), "op")))
        target(float(self.passed), label="passed over")

    async def step(self, act: Callable[[], Awaitable[tuple | None]]) -> None:
        """One step, then the hall as the database shows it: the rules hold, and it is what
        the step predicted from the hall before (a race predicts nothing)."""
        before = self.state
        expected = await act()
        self.state = await self.read()
        await self.check(before, self.state)
        if expected is not None:
            assert self.state.view() == expected, self.log

    async def check(self, before: State, after: State) -> None:
        async with self.db.read() as conn:
            assert list(await conn.execute(TWO_CALLS)) == [], self.log  # the index and the rule agree
        for t in after.tickets.values():
            was = before.tickets.get((t.account_id, t.session_id))
            if t.status == S.CALLED:
                new_call = was is None or was.status != S.CALLED or was.called_at != t.called_at
                self.shared[t.id] = (not new_call and self.shared.get(t.id, False)
                                     or after.busy_elsewhere(t))
            if t.status == S.NO_SHOW and (was is None or was.status != S.NO_SHOW):
                assert was is not None and was.status == S.CALLED, self.log
                # the whole answer time ran while the student was free of other calls
                assert not self.shared.get(t.id, False) and not before.busy_elsewhere(was), self.log

    # -- the database ---------------------------------------------------------------------

    async def reset(self) -> None:
        async with self.db.write() as conn:
            await conn.execute(call_quality.delete())
            await conn.execute(hall_tickets.delete())
            for iv in self.saved[0]:
                await conn.execute(interviews.update().where(interviews.c.id == iv.id).values(
                    status=iv.status, outcome=iv.outcome, outcome_released=iv.outcome_released,
                    employer_notes=iv.employer_notes, updated_at=iv.updated_at))
            for s in self.saved[1]:
                await conn.execute(interview_sessions.update().where(interview_sessions.c.id == s.id)
                                   .values(status=s.status, closed_reason=s.closed_reason))

    async def read(self) -> State:
        async with self.db.read() as conn:
            rows = list(await conn.execute(_TICKETS))
            sessions = {r.id: r for r in await conn.execute(sa.select(interview_sessions).where(
                interview_sessions.c.id.in_(self.sessions)))}
            ivs = dict((await conn.execute(sa.select(interviews.c.id, interviews.c.status).where(
                interviews.c.session_id.in_(self.sessions)))).all())
        return State({(t.account_id, t.session_id): t for t in rows}, sessions, ivs)

    async def attempt(self, what: str, act: Callable[[Any], Awaitable[Any]]) -> tuple[bool, Any]:
        """A step in its own write transaction; a refusal is an outcome, anything else fails."""
        try:
            async with self.db.write() as conn:
                done = True, await act(conn)
        except TransitionError as refused:
            done = False, refused
        self.log.append(f"{self.now:%H:%M:%S} {what}: {'ok' if done[0] else 'refused'}")
        return done

    # -- what is drawn (never depending on the hall: a race on PostgreSQL may leave it
    # either way, and the draws of an example must repeat) -------------------------------

    def pick(self, label: str, likely: list[Any], anyone: list[Any]) -> Any:
        """Mostly a place the step makes sense for, sometimes any (to be refused)."""
        odd, i = self.data.draw(st.integers(0, 3), label + " odd"), self.data.draw(st.integers(0, 63), label)
        pool = likely if likely and odd else anyone
        return pool[i % len(pool)] if pool else None

    def booth(self) -> int:
        return self.sessions[self.data.draw(st.integers(0, 2), "booth")]

    def student(self) -> int:
        return self.data.draw(st.sampled_from(self.students), "student")

    def open_(self, session_id: int) -> bool:
        return self.state.sessions[session_id].status not in ("ended", "closed")

    def every(self, *statuses: str) -> tuple[list[Any], list[Any]]:
        every = list(self.state.tickets.values())
        return [t for t in every if t.status in statuses], every

    # -- the steps: each returns the view it predicts (None: no prediction) -------------

    async def join(self) -> tuple:
        places = [(a, s) for a in self.students for s in self.sessions]
        new = [p for p in places if p not in self.state.tickets
               or self.state.tickets[p].status == S.LEFT]
        account, session_id = self.pick("join", new, places)
        b, s = self.sessions.index(session_id), self.students.index(account)
        interview_id = self.fair.interview(b, s)
        ok, _ = await self.attempt(f"join s{s} b{b}", lambda conn: tickets.join(
            conn, account_id=account, interview_id=interview_id, now=self.now, open_minutes=600,
            probe=None))
        st_ = self.state
        place, session = st_.tickets.get((account, session_id)), st_.sessions[session_id]
        assert ok == (st_.interviews[interview_id] in ACTIVE and self.open_(session_id)
                      and self.now <= session.ends_at + HALL_AFTER_LAST_SLOT), self.log
        view = st_.view()
        if ok:  # a new place, or the place taken back (queueing again after leaving)
            status = S.WAITING if place is None or place.status == S.LEFT else place.status
            view[0][(account, session_id)] = (status, True, place.called_at if place else None)
        return view

    async def call_next(self, session_id: int | None = None) -> tuple:
        session_id = session_id or self.booth()
        st_ = self.state
        line = st_.line(session_id, self.now)
        free = next((t for t in line if t.connected and not t.busy_elsewhere), None)
        ahead = line[:line.index(free)] if free is not None else line
        ok, called = await self.attempt(f"call_next b{self.sessions.index(session_id)}", lambda conn:
                                        tickets.call_next(conn, session_id, self.now, WAITER))
        assert ok == (self.open_(session_id) and not any(
            t.status in BUSY for t in st_.at(session_id))), self.log
        view = st_.view()
        if not ok:
            return view
        self.log[-1] += (f" #{called.ticket.id if called.ticket else None}, passed over "
                         f"{[r.id for r in called.passed_over]}")
        # the first free waiter in the line; those ahead at another booth's call are told
        assert (called.ticket.id if called.ticket else None) == (free.id if free else None), self.log
        assert [r.id for r in called.passed_over] == [t.id for t in ahead if t.busy_elsewhere]
        self.passed += len(called.passed_over)
        if called.ticket is None:  # nobody could be called: every connected waiter is busy
            assert all(st_.busy_elsewhere(t) for t in st_.at(session_id)
                       if t.status == S.WAITING and t.connected), self.log
        else:
            t = called.ticket
            view[0][(t.account_id, session_id)] = (S.CALLED, t.connected, self.now)
        return view

    async def round(self) -> None:
        """Every booth calls its next, one after the other (a busy hall's usual moment)."""
        for session_id in self.data.draw(st.permutations(self.sessions), "round"):
            await self.step(functools.partial(self.call_next, session_id))

    async def answer(self) -> tuple | None:
        t = self.pick("answer", *self.every(S.CALLED))
        if t is None:
            return None
        ok, _ = await self.attempt(f"answer #{t.id}", lambda conn: tickets.answer(
            conn, t.id, t.account_id, self.now))
        assert ok == (t.status == S.CALLED and not self.state.busy_elsewhere(t)), self.log
        view = self.state.view()
        if ok:
            view[0][(t.account_id, t.session_id)] = (S.IN_CALL, True, t.called_at)
        return view

    async def finish(self) -> tuple | None:
        t = self.pick("finish", *self.every(*BUSY))
        outcome = self.data.draw(st.sampled_from(tickets.OUTCOMES), "outcome")
        release = self.data.draw(st.booleans(), "release")
        if t is None:
            return None
        employer = self.fair.booths[self.sessions.index(t.session_id)].account_id
        ok, _ = await self.attempt(f"finish #{t.id}", lambda conn: tickets.finish(
            conn, t, outcome=outcome, notes="", release=release, actor_id=employer, now=self.now))
        assert ok == (t.status in BUSY), self.log
        view = self.state.view()
        if ok:
            view[0][(t.account_id, t.session_id)] = (S.DONE, t.connected, t.called_at)
            view[2][t.interview_id] = "done"
        return view

    @staticmethod
    def _no_show(view: tuple, t: Any) -> None:
        view[0][(t.account_id, t.session_id)] = (S.NO_SHOW, t.connected, t.called_at)
        if view[2][t.interview_id] in ACTIVE:
            view[2][t.interview_id] = "no_show"

    async def skip(self) -> tuple | None:
        t = self.pick("skip", *self.every(S.CALLED))
        if t is None:
            return None
        ok, _ = await self.attempt(f"skip #{t.id}", lambda conn: tickets.skip(
            conn, t.id, t.session_id, self.now))
        assert ok == (t.status == S.CALLED), self.log
        view = self.state.view()
        if ok:
            self._no_show(view, t)
        return view

    async def recall(self) -> tuple | None:
        t = self.pick("recall", *self.every(S.NO_SHOW))
        if t is None:
            return None
        ok, _ = await self.attempt(f"recall #{t.id}", lambda conn: tickets.recall(
            conn, t.id, t.session_id, self.now, WAITER))
        assert ok == (t.status == S.NO_SHOW and self.open_(t.session_id)
                      and not self.state.busy_elsewhere(t)
                      and not any(o.status in BUSY for o in self.state.at(t.session_id))), self.log
        view = self.state.view()
        if ok:
            view[0][(t.account_id, t.session_id)] = (S.CALLED, t.connected, self.now)
        return view

    async def end(self) -> tuple:
        session_id = self.booth()
        ok, _ = await self.attempt(f"end b{self.sessions.index(session_id)}", lambda conn:
                                   tickets.end_session(conn, session_id, self.now))
        here = self.state.at(session_id)
        assert ok == (not any(t.status == S.IN_CALL for t in here)), self.log
        view = self.state.view()
        if ok:
            view[1][session_id] = "ended"
            for t in here:
                if t.status in (S.WAITING, S.CALLED):
                    view[0][(t.account_id, session_id)] = (S.LEFT, t.connected, t.called_at)
        return view

    async def connection(self) -> tuple:
        """The student's page drops or comes back: all their open places, as the hall does."""
        account = self.student()
        mine = [t for t in self.state.tickets.values()
                if t.account_id == account and t.status in (S.WAITING, *BUSY)]
        connected = not all(t.connected for t in mine)

        async def flip(conn: Any) -> None:
            for t in await tickets.open_tickets_of(conn, account):
                await tickets.set_connected(conn, t.id, connected, self.now)
        await self.attempt(f"s{self.students.index(account)} connected={connected}", flip)
        view = self.state.view()
        for t in mine:
            view[0][(t.account_id, t.session_id)] = (t.status, connected, t.called_at)
        return view

    async def tick(self) -> None:
        """Time passes and the sweeper runs, as rtc/setup.py sweep_once does: unanswered
        calls become 未到 and each such booth calls its next; stale waiters leave."""
        self.now += dt.timedelta(seconds=self.data.draw(st.integers(0, 200), "seconds"))
        await self.step(self.sweep)
        for session_id in sorted(self.no_show_sessions):
            await self.step(functools.partial(self.call_next, session_id))

    async def sweep(self) -> tuple:
        async with self.db.read() as conn:
            due = await tickets.sweep_due(conn, self.now, ANSWER, WAITER)
        async with self.db.write() as conn:
            result = await tickets.apply_sweep(conn, due, self.now)
        self.log.append(f"{self.now:%H:%M:%S} sweep: 未到 {[r.id for r in due.no_shows]}, "
                        f"gone {[r.id for r in due.gone]}")
        view, every = self.state.view(), self.state.tickets.values()
        unanswered = [t for t in every if t.status == S.CALLED
                      and self.now - t.called_at > _grace(t.answer_grace_seconds, ANSWER)]
        for t in unanswered:
            self._no_show(view, t)
        for t in every:
            if t.status == S.WAITING and not t.connected and \
                    self.now - t.last_seen_at > _grace(t.waiter_grace_seconds, WAITER):
                view[0][(t.account_id, t.session_id)] = (S.LEFT, False, t.called_at)
        assert result.no_show_sessions == {t.session_id for t in unanswered}, self.log
        self.no_show_sessions = result.no_show_sessions
        return view

    async def race(self) -> None:
        """Two steps at once (on PostgreSQL truly concurrent, on SQLite one after the other):
        nothing predicted, the rules checked."""
        def one() -> Callable[[], Awaitable[Any]]:
            kind = self.data.draw(st.sampled_from(("call_next", "call_next", "answer", "recall")), "race")
            session_id, account = self.booth(), self.student()
            t = self.state.tickets.get((account, session_id))
            acts = {"call_next": lambda c: tickets.call_next(c, session_id, self.now, WAITER),
                    "answer": lambda c: tickets.answer(c, t.id, account, self.now),
                    "recall": lambda c: tickets.recall(c, t.id, session_id, self.now, WAITER)}
            kind = kind if t is not None else "call_next"
            return functools.partial(self.attempt, f"race {kind} b{self.sessions.index(session_id)} "
                                     f"s{self.students.index(account)}", acts[kind])
        # both drawn before either starts (a draw may end the example: no coroutine is left
        # unawaited then)
        first, second = one(), one()
        await asyncio.gather(first(), second())


OPS = (("join",) * 8 + ("call_next",) * 6 + ("round",) * 3 + ("answer",) * 7 + ("finish",) * 5
       + ("tick",) * 5 + ("connection",) * 3 + ("skip",) * 4 + ("recall",) * 4 + ("race",) * 3
       + ("end",))


def test_any_interleaving_gives_one_call_at_a_time_and_no_false_no_show(world, settings, clock):
    """3 booths, 2–5 students each invited at all three (student 0 first everywhere). A
    sync test on purpose: hypothesis drives the examples, each run on one event loop."""
    with asyncio.Runner() as runner:
        fair = runner.run(build_booths(world, settings, clock, booths=3, students=5))
        db = Database(settings.database_url)
        try:
            saved = runner.run(_saved(db, [b.session_id for b in fair.booths]))

            # no explain phase: on a failure it reruns the shrunk example many times over,
            # and with a database per step that outlasts the suite's timeout
            @hsettings(max_examples=100, deadline=None, database=None, print_blob=True,
                       phases=[Phase.explicit, Phase.generate, Phase.target, Phase.shrink],
                       suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
            @given(st.data())
            def interleavings(data: st.DataObject) -> None:
                runner.run(Hall(db, fair, saved, clock.now(), data).play())
            interleavings()
        finally:
            runner.run(db.dispose())


async def _saved(db: Database, session_ids: list[int]) -> tuple[list, list]:
    """The invitations and booths as built: each example starts from them."""
    async with db.read() as conn:
        ivs = list(await conn.execute(sa.select(interviews).where(interviews.c.session_id.in_(session_ids))))
        sessions = list(await conn.execute(sa.select(interview_sessions).where(
            interview_sessions.c.id.in_(session_ids))))
    return ivs, sessions
