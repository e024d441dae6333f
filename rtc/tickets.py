"""Hall tickets in the database: joining a booth's queue, calls, outcomes, sweeping.

Every change happens in one write transaction and is checked against the current state
(conditional UPDATEs), so a restart, a second process or two clicks at once cannot lose
or duplicate a place. The order itself comes from rtc.queue (pure functions).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db import dialect_insert
from app.workflow import Actor, NotAllowed, transition
from app.interviews import rules
from app.interviews.service import ACTIVE, INTERVIEW_FLOW
from app.notify import notices
from app.roles import Role
from app.school_settings.tables import school_settings as ss
from app.tables import (accounts, applications, employers, hall_tickets, interview_sessions,
                        interviews, jobs)

from .queue import BUSY, Elsewhere, Ticket, TicketState, callable_line, elsewhere_of, eta_across, \
    eta_seconds, order, passed_over, stale_waiters, typical_seconds, unanswered_calls

OUTCOMES = ("通过", "待定", "不通过")
OPEN_STATES = (TicketState.WAITING, TicketState.CALLED, TicketState.IN_CALL)


@dataclass
class Booth:
    session: sa.Row | None  # None: loaded for the order only (_load_line)
    employer_name: str
    rows: list[sa.Row]                      # tickets joined with names and interview data
    tickets: list[Ticket]
    finished_seconds: list[float] = field(default_factory=list)
    slot_minutes: int = 20
    # per ticket: the student's places at other booths (_ELSEWHERE rows), for the few who
    # have any; they decide who may be called and the wait across booths
    elsewhere: dict[int, list[sa.Row]] = field(default_factory=dict)

    def busy_elsewhere(self, ticket_id: int) -> sa.Row | None:
        """The other booth's place where this ticket's student is called or in a call."""
        return _busy_place(self.elsewhere.get(ticket_id, ()))

    def current_call(self) -> sa.Row | None:
        return next((r for r in self.rows if r.status in (TicketState.CALLED, TicketState.IN_CALL)),
                    None)


def _ticket(row: sa.Row, busy_elsewhere: bool = False) -> Ticket:
    """A ticket row joined with its student's school's graces (school_graces)."""
    return Ticket(id=row.id, slot_at=row.slot_at, arrived_at=row.arrived_at,
                  status=TicketState(row.status), connected=row.connected,
                  last_seen_at=row.last_seen_at, called_at=row.called_at,
                  answer_grace=_seconds(row.answer_grace_seconds),
                  waiter_grace=_seconds(row.waiter_grace_seconds), busy_elsewhere=busy_elsewhere)


def _busy_place(places: Any) -> sa.Row | None:
    return next((p for p in places if p.status in BUSY), None)


def _tickets(rows: list[Any], elsewhere: dict[int, list[sa.Row]]) -> list[Ticket]:
    return [_ticket(r, _busy_place(elsewhere.get(r.id, ())) is not None) for r in rows]


def _seconds(value: int | None) -> dt.timedelta | None:
    return None if value is None else dt.timedelta(seconds=value)


def school_graces(select: sa.Select) -> sa.Select:
    """Add the ticket's student's school's grace overrides (None: the global defaults) to a
    select that already joins accounts on the ticket's student."""
    return (select.add_columns(ss.c.hall_answer_grace_seconds.label("answer_grace_seconds"),
                               ss.c.hall_waiter_grace_seconds.label("waiter_grace_seconds"))
            .outerjoin(ss, ss.c.school_id == accounts.c.school_id))


async def load_booth(conn: AsyncConnection, session_id: int) -> Booth | None:
    return (await load_booths(conn, [session_id])).get(session_id)


async def load_booths(conn: AsyncConnection, session_ids: list[int]) -> dict[int, Booth]:
    """Several booths in three queries (the monitor loads a whole hall at once)."""
    if not session_ids:
        return {}
    sessions = list(await conn.execute(_BOOTHS, {"ids": session_ids}))
    rows: dict[int, list[sa.Row]] = {s.id: [] for s in sessions}
    for r in await conn.execute(_BOOTH_TICKETS, {"ids": list(rows)}):
        rows[r.session_id].append(r)
    elsewhere = await _elsewhere(conn, list(rows))
    booths = {}
    for s in sessions:
        mine = rows[s.id]
        booths[s.id] = Booth(session=s, employer_name=s.employer_name, rows=mine,
                             tickets=_tickets(mine, elsewhere),
                             finished_seconds=_finished_seconds(mine),
                             slot_minutes=s.slot_minutes or 20,
                             elsewhere={r.id: elsewhere[r.id] for r in mine if r.id in elsewhere})
    return booths


async def _elsewhere(conn: AsyncConnection, session_ids: list[int]) -> dict[int, list[sa.Row]]:
    """Per ticket of these booths, its student's open places at other booths: one
    indexed join (ix_hall_tickets_account) that finds nothing for the many students with one
    booth."""
    found: dict[int, list[sa.Row]] = {}
    for r in await conn.execute(_ELSEWHERE, {"ids": session_ids}):
        found.setdefault(r.ticket_id, []).append(r)
    return found


def _elsewhere_statement(of_one_ticket: bool = False) -> sa.Select:
    mine, other = hall_tickets.alias("mine"), hall_tickets.alias("other")
    return (sa.select(mine.c.id.label("ticket_id"), other.c.id, other.c.session_id,
                      other.c.interview_id, other.c.status, other.c.slot_at,
                      other.c.call_started_at, interviews.c.minutes,
                      employers.c.name.label("employer_name"))
            .select_from(mine)
            .join(other, sa.and_(other.c.account_id == mine.c.account_id,
                                 other.c.session_id != mine.c.session_id,
                                 other.c.status.in_(OPEN_STATES)))
            .join(interview_sessions, interview_sessions.c.id == other.c.session_id)
            .join(employers, employers.c.id == interview_sessions.c.employer_id)
            .outerjoin(interviews, interviews.c.id == other.c.interview_id)
            .where(mine.c.id == sa.bindparam("ticket_id") if of_one_ticket
                   else mine.c.session_id.in_(sa.bindparam("ids", expanding=True))))


def _booth_statements() -> tuple[sa.Select, sa.Select]:
    """Built once (each booth change loads its booth): the booths with their employer and
    slot length, and their tickets with names and each student's school's graces."""
    ids = sa.bindparam("ids", expanding=True)
    slot = (sa.select(sa.func.min(interviews.c.minutes))
            .where(interviews.c.session_id == interview_sessions.c.id).scalar_subquery())
    booths = (sa.select(interview_sessions, employers.c.name.label("employer_name"),
                        slot.label("slot_minutes"))
              .join(employers, employers.c.id == interview_sessions.c.employer_id)
              .where(interview_sessions.c.id.in_(ids)))
    booth_tickets = (school_graces(
        sa.select(hall_tickets, accounts.c.display_name.label("student_name"),
                  accounts.c.school_id, interviews.c.application_id, interviews.c.minutes,
                  interviews.c.outcome, jobs.c.title.label("job_title"))
        .join(accounts, accounts.c.id == hall_tickets.c.account_id))
        .outerjoin(interviews, interviews.c.id == hall_tickets.c.interview_id)
        .outerjoin(applications, applications.c.id == interviews.c.application_id)
        .outerjoin(jobs, jobs.c.id == applications.c.job_id)
        .where(hall_tickets.c.session_id.in_(ids)).order_by(hall_tickets.c.id))
    return booths, booth_tickets


_BOOTHS, _BOOTH_TICKETS = _booth_statements()
_ELSEWHERE = _elsewhere_statement()
_ELSEWHERE_OF_TICKET = _elsewhere_statement(of_one_ticket=True)


def _finished_seconds(rows: list[sa.Row]) -> list[float]:
    """Lengths of the booth's finished interviews (their median is the typical one)."""
    return [(r.finished_at - r.call_started_at).total_seconds() for r in rows
            if r.status == TicketState.DONE and r.finished_at and r.call_started_at]


def queue_view(booth: Booth, now: dt.datetime, waiter_grace: dt.timedelta) -> dict[int, dict[str, Any]]:
    """Per waiting ticket: position and estimated wait, from this booth's real lengths and
    the student's time at other booths that come first; `busy_elsewhere` when the student
    is at another booth's call now (the employer sees 正在其他单位面试, never where)."""
    typical = typical_seconds(booth.finished_seconds, booth.slot_minutes)
    current = booth.current_call()
    elapsed = ((now - current.call_started_at).total_seconds()
               if current is not None and current.call_started_at else None)
    if current is not None and elapsed is None:
        elapsed = 0.0
    view = {}
    for i, t in enumerate(order(booth.tickets, now, waiter_grace), start=1):
        own = eta_seconds(i, typical, elapsed)
        view[t.id] = {"position": i, "busy_elsewhere": t.busy_elsewhere,
                      "eta_seconds": round(eta_across(own, _elsewhere_times(
                          booth.elsewhere.get(t.id, ()), now)))}
    return view


def _elsewhere_times(rows: Any, now: dt.datetime) -> list[Elsewhere]:
    found = (elsewhere_of(r.status, r.slot_at, r.minutes, r.call_started_at, now) for r in rows)
    return [e for e in found if e is not None]


def booth_view(booth: Booth, now: dt.datetime, waiter_grace: dt.timedelta) -> dict[str, Any]:
    """What the employer's room shows: waiting (in order), late, called or in call, done."""
    queue = queue_view(booth, now, waiter_grace)
    by_id = {r.id: r for r in booth.rows}

    def item(r: sa.Row) -> dict[str, Any]:
        return {"ticket_id": r.id, "name": r.student_name, "status": r.status,
                "slot_at": r.slot_at.isoformat() if r.slot_at else None,
                "connected": r.connected, "application_id": r.application_id,
                "outcome": r.outcome, **queue.get(r.id, {})}
    waiting = [item(by_id[t]) for t in queue]
    current = booth.current_call()
    return {"session_id": booth.session.id, "employer": booth.employer_name,
            "status": booth.session.status, "allow_walk_ins": booth.session.allow_walk_ins,
            "waiting": waiting,
            "current": item(current) if current is not None else None,
            "no_show": [item(r) for r in booth.rows if r.status == TicketState.NO_SHOW],
            "done": [item(r) for r in booth.rows if r.status == TicketState.DONE],
            "away": [item(r) for r in booth.rows if r.status == TicketState.WAITING
                     and r.id not in queue]}


async def late_by_session(conn: AsyncConnection, session_ids: list[int],
                          now: dt.datetime) -> dict[int, list[sa.Row]]:
    """Invited students whose slot has come but who are not in the hall."""
    found: dict[int, list[sa.Row]] = {}
    for r in await conn.execute(_LATE, {"ids": session_ids, "now": now}):
        found.setdefault(r.session_id, []).append(r)
    return found


def _late_statement() -> sa.Select:
    ids = sa.bindparam("ids", expanding=True)
    present = sa.select(hall_tickets.c.interview_id).where(
        hall_tickets.c.session_id.in_(ids), hall_tickets.c.interview_id.is_not(None))
    return (sa.select(interviews.c.id, interviews.c.session_id, interviews.c.starts_at,
                      accounts.c.display_name.label("name"), accounts.c.school_id)
            .join(accounts, accounts.c.id == interviews.c.account_id)
            .where(interviews.c.session_id.in_(ids), interviews.c.status.in_(ACTIVE),
                   interviews.c.starts_at <= sa.bindparam("now"), interviews.c.id.not_in(present))
            .order_by(interviews.c.starts_at))


_LATE = _late_statement()


# The join path's statements, built once: on a 双选会 morning thousands of students join at
# once, and building a select costs more than SQLite takes to run it (bench/hall_load.py).
_INVITATION = (
    sa.select(interviews, interview_sessions.c.ends_at.label("session_ends_at"),
              interview_sessions.c.status.label("session_status"),
              interview_sessions.c.closed_reason,
              ss.c.hall_open_minutes.label("school_open_minutes"))
    .join(interview_sessions, interview_sessions.c.id == interviews.c.session_id)
    .join(accounts, accounts.c.id == interviews.c.account_id)
    .outerjoin(ss, ss.c.school_id == accounts.c.school_id)
    .where(interviews.c.id == sa.bindparam("interview_id"),
           interviews.c.account_id == sa.bindparam("account_id")))
_FIRST_PLACE: dict[bool, sa.Insert] = {}


def _first_place(is_sqlite: bool) -> sa.Insert:
    """INSERT … ON CONFLICT (session, account) DO NOTHING RETURNING the ticket; the values
    come with each execution."""
    if is_sqlite not in _FIRST_PLACE:
        t = hall_tickets
        _FIRST_PLACE[is_sqlite] = (dialect_insert(is_sqlite, t)
                                   .on_conflict_do_nothing(index_elements=[t.c.session_id, t.c.account_id])
                                   .returning(*t.c))
    return _FIRST_PLACE[is_sqlite]


async def join(conn: AsyncConnection, *, account_id: int, interview_id: int, now: dt.datetime,
               open_minutes: int, probe: dict[str, Any] | None, process_id: str | None = None) -> sa.Row:
    """Take (or take back) a place in the booth's queue for an invited interview.
    open_minutes: the default of how early the hall opens (the student's school may set
    its own, read here). process_id: the server process holding the student's socket
    (rtc/leases.py). A first join is two statements: on a 双选会 morning thousands arrive
    at once, and on SQLite each statement is spent inside the one write lock."""
    iv = (await conn.execute(_INVITATION, {"interview_id": interview_id,
                                           "account_id": account_id})).first()
    if iv is None:
        raise NotAllowed("面试邀请不存在")
    if iv.status not in ACTIVE:
        raise NotAllowed(f"该面试{INTERVIEW_FLOW.state_labels.get(iv.status, iv.status)}，不能排队")
    still_open(iv.session_status, iv.closed_reason, ended="单位已结束今天的视频面试")
    if iv.school_open_minutes is not None:
        open_minutes = iv.school_open_minutes
    if not rules.hall_is_open(now, starts_at=iv.starts_at, session_ends_at=iv.session_ends_at,
                              session_status=iv.session_status, open_minutes=open_minutes):
        opens = rules.hall_opens_at(iv.starts_at, open_minutes).astimezone(rules.CHINA)
        raise NotAllowed(f"面试大厅将于 {opens:%m月%d日 %H:%M} 开放")
    t = hall_tickets
    # Insert first: a first join (the common case) needs no look-up. A place already held
    # (a reload, a second tab, two joins at once on PostgreSQL) is a conflict, not an error.
    inserted = (await conn.execute(_first_place(conn.dialect.name == "sqlite"), dict(
        session_id=iv.session_id, account_id=account_id, interview_id=interview_id,
        slot_at=iv.starts_at, status=TicketState.WAITING, arrived_at=now, last_seen_at=now,
        connected=True, process_id=process_id, probe=probe, created_at=now))).first()
    if inserted is not None:
        return inserted
    existing = (await conn.execute(sa.select(t).where(
        t.c.session_id == iv.session_id, t.c.account_id == account_id))).one()
    if existing.status in (TicketState.REMOVED, TicketState.CLOSED):
        raise NotAllowed(f"你已被管理员移出该面试间：{existing.closed_reason}")
    values: dict[str, Any] = {"connected": True, "last_seen_at": now, "process_id": process_id}
    if probe:
        values["probe"] = probe
    if existing.status == TicketState.LEFT:  # came back after the grace: queue again
        values.update(status=TicketState.WAITING, arrived_at=now)
    return (await conn.execute(t.update().where(t.c.id == existing.id).values(**values)
                               .returning(*t.c))).one()


async def promise(conn: AsyncConnection, ticket: sa.Row, now: dt.datetime,
                  waiter_grace: dt.timedelta) -> dict[str, Any]:
    """The joining student's place and wait; the first wait shown is kept as the promise
    the monitor holds the booth to. Inside the join's write transaction, so it reads only
    what the order needs (the booth's tickets, its slot length), not names or interviews."""
    line = await _load_line(conn, ticket.session_id)
    # the one wait across booths: the joining student's other places (none, mostly)
    line.elsewhere[ticket.id] = list(await conn.execute(_ELSEWHERE_OF_TICKET,
                                                        {"ticket_id": ticket.id}))
    line.tickets = _tickets(line.rows, line.elsewhere)
    place = queue_view(line, now, waiter_grace).get(ticket.id, {})
    if "eta_seconds" in place and ticket.promised_eta_seconds is None:
        await conn.execute(_PROMISE, {"ticket_id": ticket.id, "eta": place["eta_seconds"]})
    return place


_PROMISE = (hall_tickets.update().where(hall_tickets.c.id == sa.bindparam("ticket_id"))
            .values(promised_eta_seconds=sa.bindparam("eta")))


async def _load_line(conn: AsyncConnection, session_id: int) -> Booth:
    """A booth with only what queue_view needs: its tickets (with each student's school's
    graces, which decide whether a gone waiter still holds a place) and its slot length."""
    rows = list(await conn.execute(_LINE, {"session_id": session_id}))
    return Booth(session=None, employer_name="", rows=rows, tickets=[_ticket(r) for r in rows],
                 finished_seconds=_finished_seconds(rows),
                 slot_minutes=(rows[0].slot_minutes if rows else None) or 20)


def _line_statement() -> sa.Select:
    t = hall_tickets
    slot = (sa.select(sa.func.min(interviews.c.minutes))
            .where(interviews.c.session_id == sa.bindparam("session_id")).scalar_subquery())
    return (school_graces(
        sa.select(t.c.id, t.c.slot_at, t.c.arrived_at, t.c.status, t.c.connected,
                  t.c.last_seen_at, t.c.called_at, t.c.call_started_at, t.c.finished_at,
                  slot.label("slot_minutes"))
        .join(accounts, accounts.c.id == t.c.account_id))
        .where(t.c.session_id == sa.bindparam("session_id")).order_by(t.c.id))


_LINE = _line_statement()


async def set_connected(conn: AsyncConnection, ticket_id: int, connected: bool,
                        now: dt.datetime, process_id: str | None = None) -> None:
    values: dict[str, Any] = {"connected": connected, "last_seen_at": now}
    if connected:
        values["process_id"] = process_id
    await conn.execute(hall_tickets.update().where(hall_tickets.c.id == ticket_id).values(**values))


async def employer_session(conn: AsyncConnection, session_id: int, employer_id: int) -> bool:
    return (await conn.execute(sa.select(interview_sessions.c.id).where(
        interview_sessions.c.id == session_id,
        interview_sessions.c.employer_id == employer_id))).first() is not None


async def call_next(conn: AsyncConnection, session_id: int, now: dt.datetime,
                    waiter_grace: dt.timedelta) -> Called | None:
    """The next student who may be called (rtc.queue.callable_line), or a Called with no
    ticket when everyone there is away or at another booth's call (they are told)."""
    await _take_booth(conn, session_id)
    booth = await load_booth(conn, session_id)
    if booth is None:
        return None
    _free_for_a_call(booth)
    by_id = {r.id: r for r in booth.rows}
    for t in callable_line(booth.tickets, now, waiter_grace):
        if await _student_free(conn, by_id[t.id].account_id, t.id):
            return _called(booth, await _call(conn, t.id, TicketState.WAITING, now), now,
                           waiter_grace)
        booth = _mark_busy(booth, t.id)  # called elsewhere since the booth was loaded
    return _called(booth, None, now, waiter_grace)


async def _take_booth(conn: AsyncConnection, session_id: int) -> None:
    """PostgreSQL: two calls at one booth (two interviewers, or two clicks) take turns, so
    both cannot see the booth free. SQLite's BEGIN IMMEDIATE already serialises writers."""
    if conn.dialect.name != "sqlite":
        await conn.execute(_BOOTH_LOCK, {"session_id": session_id})


async def _student_free(conn: AsyncConnection, account_id: int, ticket_id: int,
                        loaded: bool = True) -> bool:
    """Whether the student may be called (or answer) at `ticket_id`'s booth: no call of
    theirs rings or runs elsewhere. On SQLite the booth's load in this write transaction is
    already exact. On PostgreSQL two booths may call the same student at the same moment:
    the student's account row is the point where such calls take turns (FOR NO KEY UPDATE,
    which inserts referencing the account do not wait for), and the second reads what the
    first committed. The partial unique index uq_hall_tickets_one_call backs the rule.
    loaded=False: nothing was read in this transaction yet, so SQLite reads too."""
    if conn.dialect.name == "sqlite":
        if loaded:
            return True
    else:
        await conn.execute(_STUDENT_LOCK, {"account_id": account_id})
    return (await conn.execute(_BUSY_ELSEWHERE, {"account_id": account_id,
                                                 "ticket_id": ticket_id})).first() is None


def _mark_busy(booth: Booth, ticket_id: int) -> Booth:
    """The booth as loaded, with a student found busy at the lock (PostgreSQL) so marked."""
    tickets = [dataclasses.replace(t, busy_elsewhere=True) if t.id == ticket_id else t
               for t in booth.tickets]
    return dataclasses.replace(booth, tickets=tickets)


_BOOTH_LOCK = (sa.select(interview_sessions.c.id)
               .where(interview_sessions.c.id == sa.bindparam("session_id")).with_for_update())
_STUDENT_LOCK = (sa.select(accounts.c.id).where(accounts.c.id == sa.bindparam("account_id"))
                 .with_for_update(key_share=True))
_BUSY_ELSEWHERE = sa.select(hall_tickets.c.id).where(
    hall_tickets.c.account_id == sa.bindparam("account_id"),
    hall_tickets.c.id != sa.bindparam("ticket_id"), hall_tickets.c.status.in_(BUSY)).limit(1)


def still_open(status: str, closed_reason: str | None, *, ended: str) -> None:
    """Refuse to queue or call at a booth an admin closed or the employer ended (`ended`:
    the message for whoever is asking)."""
    if status == "closed":
        raise NotAllowed(f"该面试间已被管理员关闭：{closed_reason}")
    if status == "ended":
        raise NotAllowed(ended)


def _free_for_a_call(booth: Booth) -> None:
    """Refuse a call at a closed or ended booth, or while someone is called or in a call."""
    still_open(booth.session.status, booth.session.closed_reason, ended="今天的面试已结束")
    if booth.current_call() is not None:
        raise NotAllowed("当前还有学生在面试或被呼叫中，请先结束")


async def recall(conn: AsyncConnection, ticket_id: int, session_id: int,
                 now: dt.datetime, waiter_grace: dt.timedelta) -> Called:
    """Call a student marked 未到 again (an explicit act of the employer, never automatic),
    unless they are at another booth's call now."""
    await _take_booth(conn, session_id)
    booth = await load_booth(conn, session_id)
    if booth is None:
        raise NotAllowed("该学生状态已变化，请刷新")
    _free_for_a_call(booth)
    row = next((r for r in booth.rows if r.id == ticket_id), None)
    if row is not None and (booth.busy_elsewhere(ticket_id) is not None
                            or not await _student_free(conn, row.account_id, ticket_id)):
        raise NotAllowed("该学生正在其他单位面试，请稍后再呼叫")
    return _called(booth, await _call(conn, ticket_id, TicketState.NO_SHOW, now, session_id),
                   now, waiter_grace)


async def _call(conn: AsyncConnection, ticket_id: int, expected: TicketState, now: dt.datetime,
                session_id: int | None = None) -> sa.Row:
    t = hall_tickets
    stmt = t.update().where(t.c.id == ticket_id, t.c.status == expected)
    if session_id is not None:
        stmt = stmt.where(t.c.session_id == session_id)
    row = (await conn.execute(stmt.values(status=TicketState.CALLED, called_at=now)
                              .returning(*t.c))).first()
    if row is None:
        raise NotAllowed("该学生状态已变化，请刷新")
    return row


@dataclass(frozen=True)
class Called:
    """A call just made: the ticket, and its booth as the call left it. The booth comes from
    the load the call was decided on, in the same write transaction, so the other waiters'
    new places can go out at once, before (and without waiting for) the coalesced reload.
    `ticket` is None when nobody could be called; `passed_over` are the waiters ahead who
    are at another booth's call (each is told they come when free)."""
    ticket: sa.Row | None
    booth: Booth
    answer_grace: dt.timedelta | None  # the student's school's own answer time, if it has one
    passed_over: tuple[Any, ...] = ()

    @property
    def row(self) -> Any:
        """The called ticket as the booth holds it (names and job joined)."""
        return next(r for r in self.booth.rows if r.id == self.ticket.id)


def _called(booth: Booth, ticket: sa.Row | None, now: dt.datetime,
            waiter_grace: dt.timedelta) -> Called:
    by_id = {r.id: r for r in booth.rows}
    skipped = tuple(by_id[t.id] for t in passed_over(booth.tickets, now, waiter_grace,
                                                     ticket.id if ticket is not None else None))
    if ticket is None:
        return Called(None, booth, None, skipped)
    old = by_id[ticket.id]
    # the joined columns (name, school graces, interview) are the old row's; the ticket's own
    # columns are as the UPDATE left them
    row = types.SimpleNamespace(**{**old._mapping, **ticket._mapping})
    rows = [row if r.id == ticket.id else r for r in booth.rows]
    after = dataclasses.replace(booth, rows=rows, tickets=_tickets(rows, booth.elsewhere))
    return Called(ticket, after, _seconds(old.answer_grace_seconds), skipped)


async def answer(conn: AsyncConnection, ticket_id: int, account_id: int, now: dt.datetime,
                 process_id: str | None = None) -> sa.Row:
    """The student takes the call, unless a call of theirs runs at another booth (which the
    rule of one call at a time already keeps from happening; the unique index backs it)."""
    t = hall_tickets
    if not await _student_free(conn, account_id, ticket_id, loaded=False):
        raise NotAllowed("你正在其他单位面试，请先结束当前面试")
    done = await conn.execute(t.update().where(
        t.c.id == ticket_id, t.c.account_id == account_id, t.c.status == TicketState.CALLED)
        .values(status=TicketState.IN_CALL, call_started_at=now, connected=True, last_seen_at=now,
                process_id=process_id))
    if done.rowcount != 1:
        raise NotAllowed("呼叫已失效")
    return (await conn.execute(sa.select(t).where(t.c.id == ticket_id))).one()


async def ticket_for_employer(conn: AsyncConnection, ticket_id: int, employer_id: int) -> sa.Row | None:
    return (await conn.execute(
        sa.select(hall_tickets).join(interview_sessions,
                                     interview_sessions.c.id == hall_tickets.c.session_id)
        .where(hall_tickets.c.id == ticket_id,
               interview_sessions.c.employer_id == employer_id))).first()


async def finish(conn: AsyncConnection, ticket: sa.Row, *, outcome: str, notes: str,
                 release: bool, actor_id: int, now: dt.datetime) -> None:
    """End the call with an outcome, which goes onto the interview of the application."""
    if outcome not in OUTCOMES:
        raise NotAllowed("请选择面试结果：通过、待定或不通过", field="outcome")
    t = hall_tickets
    done = await conn.execute(t.update().where(
        t.c.id == ticket.id, t.c.status.in_([TicketState.IN_CALL, TicketState.CALLED]))
        .values(status=TicketState.DONE, finished_at=now))
    if done.rowcount != 1:
        raise NotAllowed("该面试已结束")
    if ticket.interview_id is not None:
        await transition(conn, INTERVIEW_FLOW, ticket.interview_id, "finish", actor=Actor(actor_id, Role.EMPLOYER),
                         at=now, values={
                             "outcome": outcome, "employer_notes": notes[:5000],
                             "outcome_released": release, "updated_at": now})
        if release:
            await _tell_outcome(conn, ticket.interview_id, now)


async def release_outcome(conn: AsyncConnection, interview_id: int, employer_id: int,
                          now: dt.datetime) -> None:
    found = await conn.execute(
        interviews.update().where(
            interviews.c.id == interview_id, interviews.c.outcome.is_not(None),
            interviews.c.session_id.in_(sa.select(interview_sessions.c.id).where(
                interview_sessions.c.employer_id == employer_id)))
        .values(outcome_released=True, updated_at=now))
    if found.rowcount == 1:
        await _tell_outcome(conn, interview_id, now)


async def _tell_outcome(conn: AsyncConnection, interview_id: int, now: dt.datetime) -> None:
    row = (await conn.execute(
        sa.select(interviews.c.account_id, interviews.c.outcome, jobs.c.title)
        .join(applications, applications.c.id == interviews.c.application_id)
        .join(jobs, jobs.c.id == applications.c.job_id)
        .where(interviews.c.id == interview_id))).one()
    await notices.add(conn, account_id=row.account_id, at=now,
                      title=f"“{row.title}”视频面试结果：{row.outcome}",
                      link=f"/student/interviews/{interview_id}")


@dataclass
class SweepResult:
    no_show_sessions: set[int] = field(default_factory=set)  # the next student is due a call
    changed_sessions: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class SweepDue:
    """What the sweep found, read outside the write lock; applied by apply_sweep."""
    no_shows: list[sa.Row]  # unanswered calls
    gone: list[sa.Row]      # waiters away longer than their grace


async def sweep_due(conn: AsyncConnection, now: dt.datetime, answer_grace: dt.timedelta,
                    waiter_grace: dt.timedelta) -> SweepDue:
    """Unanswered calls to mark 未到 and stale waiters to mark gone. The rules are rtc.queue's,
    with each student's school's graces; the query fetches only the tickets they could pick:
    calls (one per booth at most) and waiters whose page is gone, not every connected waiter
    of the day. (The graces differ by school, so the time test stays with the rules instead
    of in engine-specific interval SQL.)"""
    rows = list(await conn.execute(_SWEEP_CANDIDATES))
    tickets = [_ticket(r) for r in rows]
    by_id = {r.id: r for r in rows}
    return SweepDue([by_id[i] for i in unanswered_calls(tickets, now, answer_grace)],
                    [by_id[i] for i in stale_waiters(tickets, now, waiter_grace)])


_SWEEP_CANDIDATES = school_graces(
    sa.select(hall_tickets).join(accounts, accounts.c.id == hall_tickets.c.account_id)
).where(sa.or_(hall_tickets.c.status == TicketState.CALLED,
               sa.and_(hall_tickets.c.status == TicketState.WAITING,
                       hall_tickets.c.connected.is_(False))))


async def apply_sweep(conn: AsyncConnection, due: SweepDue, now: dt.datetime) -> SweepResult:
    """Each change only if the ticket is still as it was read: a call made again (重新呼叫)
    or a student back meanwhile is left alone."""
    t = hall_tickets
    result = SweepResult()
    for r in due.no_shows:
        done = await conn.execute(t.update().where(
            t.c.id == r.id, t.c.status == TicketState.CALLED, t.c.called_at == r.called_at)
            .values(status=TicketState.NO_SHOW))
        if done.rowcount:
            result.no_show_sessions.add(r.session_id)
            result.changed_sessions.add(r.session_id)
            await _interview_no_show(conn, r.interview_id, now)
    for r in due.gone:
        done = await conn.execute(t.update().where(
            t.c.id == r.id, t.c.status == TicketState.WAITING, t.c.connected.is_(False),
            same_or_null(t.c.last_seen_at, r.last_seen_at)).values(status=TicketState.LEFT))
        if done.rowcount:
            result.changed_sessions.add(r.session_id)
    return result


def same_or_null(column: Any, value: Any) -> Any:
    """`column` still holds `value` as read (NULL included): the condition of a write
    decided on an earlier read."""
    return column.is_(None) if value is None else column == value


_OPEN_TICKETS = sa.select(hall_tickets).where(  # asked at every connect: built once
    hall_tickets.c.account_id == sa.bindparam("account_id"), hall_tickets.c.status.in_(OPEN_STATES))


async def open_tickets_of(conn: AsyncConnection, account_id: int) -> list[sa.Row]:
    return list(await conn.execute(_OPEN_TICKETS, {"account_id": account_id}))


async def skip(conn: AsyncConnection, ticket_id: int, session_id: int, now: dt.datetime) -> sa.Row:
    """The employer stops waiting for a called student: 未到 at once (recall stays possible)."""
    t = hall_tickets
    done = await conn.execute(t.update().where(
        t.c.id == ticket_id, t.c.session_id == session_id, t.c.status == TicketState.CALLED)
        .values(status=TicketState.NO_SHOW))
    if done.rowcount != 1:
        raise NotAllowed("只能跳过正在呼叫、尚未接听的学生")
    row = (await conn.execute(sa.select(t).where(t.c.id == ticket_id))).one()
    await _interview_no_show(conn, row.interview_id, now)
    return row


async def _interview_no_show(conn: AsyncConnection, interview_id: int | None, now: dt.datetime) -> None:
    if interview_id is None:
        return
    status = (await conn.execute(sa.select(interviews.c.status).where(
        interviews.c.id == interview_id))).scalar()
    if status in ACTIVE:
        await transition(conn, INTERVIEW_FLOW, interview_id, "no_show", actor=Actor(None, Role.EMPLOYER),
                         at=now, values={"updated_at": now})


async def end_session(conn: AsyncConnection, session_id: int, now: dt.datetime) -> list[int]:
    """The employer ends the day: waiting and called students leave the queue and are told.
    Returns the accounts to tell. Interviews not held stay as they are, to be rescheduled.
    Takes its turn with calls at the booth (PostgreSQL): a call decided on the line before
    the end would wait on the tickets this ends while this waited on the booth (a deadlock),
    and a recall could call a student at a booth that then ended."""
    await _take_booth(conn, session_id)
    t = hall_tickets
    if (await conn.execute(sa.select(t.c.id).where(
            t.c.session_id == session_id, t.c.status == TicketState.IN_CALL))).first():
        raise NotAllowed("还有面试在进行中，请先结束该面试")
    waiting = list((await conn.execute(sa.select(t.c.account_id).where(
        t.c.session_id == session_id,
        t.c.status.in_([TicketState.WAITING, TicketState.CALLED])))).scalars())
    await conn.execute(t.update().where(
        t.c.session_id == session_id, t.c.status.in_([TicketState.WAITING, TicketState.CALLED]))
        .values(status=TicketState.LEFT, finished_at=now))
    await conn.execute(interview_sessions.update().where(interview_sessions.c.id == session_id)
                       .values(status="ended"))
    for account_id in waiting:
        await notices.add(conn, account_id=account_id, at=now,
                          title="单位已结束今天的视频面试，如需改期请留意新的邀请")
    return waiting


async def absent_employers(conn: AsyncConnection, now: dt.datetime,
                           after: dt.timedelta) -> list[sa.Row]:
    """Booths whose first slot is `after` past, with students waiting and nobody of the
    employer in the room, not yet told (a read: tell_absent marks them)."""
    s = interview_sessions
    waiting = sa.select(hall_tickets.c.id).where(
        hall_tickets.c.session_id == s.c.id, hall_tickets.c.status == TicketState.WAITING).exists()
    return list(await conn.execute(
        sa.select(s.c.id, s.c.starts_at, s.c.employer_id, employers.c.name,
                  employers.c.contact_email)
        .join(employers, employers.c.id == s.c.employer_id)
        .where(s.c.starts_at <= now - after, s.c.employer_present.is_(False),
               s.c.absence_mailed_at.is_(None), s.c.status.not_in(["ended", "closed"]), waiting)))


async def mark_absence_told(conn: AsyncConnection, rows: list[sa.Row],
                            now: dt.datetime) -> list[sa.Row]:
    """The booths of `rows` (absent_employers) this call marks told; another process may
    have got there first, and an employer come in meanwhile is not told."""
    s = interview_sessions
    told = []
    for row in rows:
        done = await conn.execute(s.update().where(
            s.c.id == row.id, s.c.absence_mailed_at.is_(None), s.c.employer_present.is_(False))
            .values(absence_mailed_at=now))
        if done.rowcount == 1:
            told.append(row)
    return told


async def employer_addresses(conn: AsyncConnection, employer_id: int, contact: str) -> set[str]:
    """Where to write to an employer: its contact address and its accounts' addresses."""
    found = set((await conn.execute(sa.select(accounts.c.email).where(
        accounts.c.employer_id == employer_id, accounts.c.email.is_not(None)))).scalars())
    return {a for a in found | {contact} if a}


async def set_walk_ins(conn: AsyncConnection, session_id: int, allow: bool) -> None:
    await conn.execute(interview_sessions.update().where(interview_sessions.c.id == session_id)
                       .values(allow_walk_ins=allow))


async def walk_in(conn: AsyncConnection, *, account_id: int, session_id: int, now: dt.datetime,
                  open_minutes: int, probe: dict[str, Any] | None,
                  process_id: str | None = None) -> sa.Row:
    """随到随面: a student who applied to one of the employer's jobs queues without a slot.
    open_minutes: the default, as in join.

    An interview row is made for the visit (accepted, starting now), so the outcome lands on
    the application and in the student's 我的面试 like any other interview.
    """
    session = (await conn.execute(sa.select(interview_sessions).where(
        interview_sessions.c.id == session_id))).first()
    if session is None or not session.allow_walk_ins or session.status in ("ended", "closed"):
        raise NotAllowed("该面试间目前不接受随到随面")
    school_open = (await conn.execute(
        sa.select(ss.c.hall_open_minutes).join(accounts, accounts.c.school_id == ss.c.school_id)
        .where(accounts.c.id == account_id))).scalar()
    if school_open is not None:  # the student's school's own opening time
        open_minutes = school_open
    if not rules.hall_is_open(now, starts_at=session.starts_at, session_ends_at=session.ends_at,
                              session_status=session.status, open_minutes=open_minutes):
        raise NotAllowed("该面试间还未开放")
    t = hall_tickets
    existing = (await conn.execute(sa.select(t).where(
        t.c.session_id == session_id, t.c.account_id == account_id))).first()
    if existing is not None:  # already has a place (or an invitation): the usual way back
        if existing.interview_id is None:
            raise NotAllowed("请通过面试邀请进入")
        return await join(conn, account_id=account_id, interview_id=existing.interview_id, now=now,
                          open_minutes=open_minutes, probe=probe, process_id=process_id)
    application = (await conn.execute(
        sa.select(applications.c.id).join(jobs, jobs.c.id == applications.c.job_id)
        .where(applications.c.account_id == account_id, jobs.c.employer_id == session.employer_id,
               applications.c.status.not_in(["withdrawn", "rejected"]))
        .order_by(applications.c.created_at.desc()).limit(1))).scalar()
    if application is None:
        raise NotAllowed("随到随面仅对已投递该单位岗位的学生开放")
    minutes = (await conn.execute(sa.select(sa.func.min(interviews.c.minutes)).where(
        interviews.c.session_id == session_id))).scalar() or 15
    interview_id = (await conn.execute(interviews.insert().values(
        session_id=session_id, application_id=application, account_id=account_id, starts_at=now,
        minutes=minutes, note="随到随面", status="accepted", created_at=now, updated_at=now)
        .returning(interviews.c.id))).scalar_one()
    await conn.execute(t.insert().values(
        session_id=session_id, account_id=account_id, interview_id=interview_id, slot_at=None,
        status=TicketState.WAITING, arrived_at=now, last_seen_at=now, connected=True, probe=probe,
        process_id=process_id, created_at=now))
    return (await conn.execute(sa.select(t).where(
        t.c.session_id == session_id, t.c.account_id == account_id))).one()


async def walk_in_booths(conn: AsyncConnection, account_id: int, now: dt.datetime,
                         open_minutes: int) -> list[sa.Row]:
    """Booths open now for walk-ins at employers this student applied to."""
    s = interview_sessions
    rows = list(await conn.execute(
        sa.select(s.c.id, s.c.starts_at, s.c.ends_at, s.c.status, employers.c.name)
        .join(employers, employers.c.id == s.c.employer_id)
        .where(s.c.allow_walk_ins.is_(True), s.c.status.not_in(["ended", "closed"]),
               s.c.employer_id.in_(
                   sa.select(jobs.c.employer_id).join(applications, applications.c.job_id == jobs.c.id)
                   .where(applications.c.account_id == account_id,
                          applications.c.status.not_in(["withdrawn", "rejected"]))))))
    return [r for r in rows if rules.hall_is_open(
        now, starts_at=r.starts_at, session_ends_at=r.ends_at, session_status=r.status,
        open_minutes=open_minutes)]


async def call_names(conn: AsyncConnection, ticket_id: int) -> tuple[str, str | None]:
    """Who calls on a ticket: the employer's name and the job (None for a walk-in)."""
    row = (await conn.execute(
        sa.select(employers.c.name, jobs.c.title)
        .select_from(hall_tickets)
        .join(interview_sessions, interview_sessions.c.id == hall_tickets.c.session_id)
        .join(employers, employers.c.id == interview_sessions.c.employer_id)
        .outerjoin(interviews, interviews.c.id == hall_tickets.c.interview_id)
        .outerjoin(applications, applications.c.id == interviews.c.application_id)
        .outerjoin(jobs, jobs.c.id == applications.c.job_id)
        .where(hall_tickets.c.id == ticket_id))).one()
    return row.name, row.title


@dataclass(frozen=True)
class Place:
    """One of a student's places in the hall today, as their 我的面试 lists it."""
    ticket_id: int
    interview_id: int | None
    session_id: int
    employer: str
    job: str | None
    slot_at: dt.datetime | None
    status: str
    position: int | None = None
    eta_seconds: int | None = None
    busy_at: str | None = None  # the employer at whose call the student is now


async def places_today(conn: AsyncConnection, account_id: int, now: dt.datetime,
                       waiter_grace: dt.timedelta) -> list[Place]:
    """The student's places at today's booths (China date), in the order of their slots,
    with the place and the one wait across booths for those still waiting."""
    session_ids = list((await conn.execute(
        sa.select(hall_tickets.c.session_id)
        .join(interview_sessions, interview_sessions.c.id == hall_tickets.c.session_id)
        .where(hall_tickets.c.account_id == account_id,
               interview_sessions.c.day == now.astimezone(rules.CHINA).date()))).scalars())
    places = []
    for booth in (await load_booths(conn, session_ids)).values():
        row = next(r for r in booth.rows if r.account_id == account_id)
        place = queue_view(booth, now, waiter_grace).get(row.id, {})
        busy = booth.busy_elsewhere(row.id)
        places.append(Place(
            ticket_id=row.id, interview_id=row.interview_id, session_id=booth.session.id,
            employer=booth.employer_name, job=row.job_title, slot_at=row.slot_at,
            status=row.status, position=place.get("position"), eta_seconds=place.get("eta_seconds"),
            busy_at=busy.employer_name if busy is not None else None))
    return sorted(places, key=lambda p: (p.slot_at or now, p.ticket_id))
