"""The monitor's rows in the database: booths of a day, call quality, watchers, hall
notices, and the admins' actions (close a booth, remove a participant), each audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from app import audit
from app.clock import china_date
from app.notify import notices
from app.tables import (accounts, call_quality, hall_notices, hall_tickets, hall_watchers,
                        interview_sessions, interviews)
from app.workflow import NotAllowed

from . import monitor
from .queue import TicketState
from .tickets import OPEN_STATES, late_by_session, load_booths

# A watcher row not refreshed for this long belongs to a process that died.
WATCHER_STALE_SECONDS = 30


@dataclass(frozen=True)
class Scope:
    """Whose monitor: a school admin's (school_id) or a platform admin's (None: all)."""
    school_id: int | None

    @property
    def room(self) -> str:
        return "monitor:all" if self.school_id is None else f"monitor:school:{self.school_id}"


def _in_scope(scope: Scope) -> Any:
    """Sessions with at least one student of the scope's school invited (or walked in)."""
    if scope.school_id is None:
        return sa.true()
    return interview_sessions.c.id.in_(
        sa.select(interviews.c.session_id).join(accounts, accounts.c.id == interviews.c.account_id)
        .where(accounts.c.school_id == scope.school_id))


async def sessions_of_day(conn: AsyncConnection, day: dt.date, scope: Scope) -> list[int]:
    return list((await conn.execute(
        sa.select(interview_sessions.c.id).where(interview_sessions.c.day == day, _in_scope(scope))
        .order_by(interview_sessions.c.starts_at, interview_sessions.c.id))).scalars())


async def may_see(conn: AsyncConnection, session_id: int, scope: Scope) -> bool:
    return (await conn.execute(sa.select(interview_sessions.c.id).where(
        interview_sessions.c.id == session_id, _in_scope(scope)))).first() is not None


async def load_facts(conn: AsyncConnection, session_ids: list[int],
                     now: dt.datetime) -> dict[int, monitor.BoothFacts]:
    booths = await load_booths(conn, session_ids)
    ids = list(booths)
    if not ids:
        return {}
    late = await late_by_session(conn, ids, now)
    facts = {i: monitor.BoothFacts(booth=b, late=late.get(i, [])) for i, b in booths.items()}
    for session_id, name in await conn.execute(
            sa.select(hall_watchers.c.session_id, hall_watchers.c.name)
            .where(hall_watchers.c.session_id.in_(ids))):
        facts[session_id].watchers.append(name)
    for session_id, school_id in await conn.execute(
            sa.select(interviews.c.session_id, accounts.c.school_id).distinct()
            .join(accounts, accounts.c.id == interviews.c.account_id)
            .where(interviews.c.session_id.in_(ids), accounts.c.school_id.is_not(None))):
        facts[session_id].schools.add(school_id)
    calls = {i: b.current_call() for i, b in booths.items()}
    current = {call.id: i for i, call in calls.items() if call is not None}
    if current:
        for row in await conn.execute(sa.select(call_quality).where(
                call_quality.c.ticket_id.in_(list(current)))):
            facts[current[row.ticket_id]].quality.setdefault(row.ticket_id, {})[row.side] = row
    return facts


# ---- call quality ----------------------------------------------------------------------

@dataclass(frozen=True)
class QualityWrite:
    row: sa.Row
    alert_changed: bool   # the call crossed the poor-for-a-minute line (either way)


async def record_quality(conn: AsyncConnection, ticket_id: int, side: str, sample: monitor.Sample,
                         now: dt.datetime) -> QualityWrite | None:
    """Fold one sample into the call's row; None when it came too soon after the last."""
    q = call_quality
    prev = (await conn.execute(sa.select(q).where(q.c.ticket_id == ticket_id, q.c.side == side))).first()
    if monitor.too_soon(prev, now):
        return None
    values = monitor.accumulate(prev, sample, now)
    write = (q.insert().values(ticket_id=ticket_id, side=side, **values) if prev is None
             else q.update().where(q.c.id == prev.id).values(**values))
    row = (await conn.execute(write.returning(*q.c))).one()

    def alarming(r: sa.Row | None) -> bool:
        return r is not None and r.poor_since is not None and \
            (now - r.poor_since).total_seconds() >= monitor.POOR_CALL_SECONDS
    return QualityWrite(row=row, alert_changed=alarming(prev) != alarming(row))


async def ticket_with_school(conn: AsyncConnection, ticket_id: int) -> sa.Row | None:
    return (await conn.execute(
        sa.select(hall_tickets.c.id, hall_tickets.c.session_id, hall_tickets.c.status,
                  accounts.c.school_id)
        .join(accounts, accounts.c.id == hall_tickets.c.account_id)
        .where(hall_tickets.c.id == ticket_id))).first()


# ---- who of the employer is in the room -------------------------------------------------

async def add_watcher(conn: AsyncConnection, *, sid: str, session_id: int, account_id: int,
                      name: str, now: dt.datetime) -> None:
    await conn.execute(hall_watchers.delete().where(hall_watchers.c.sid == sid))
    await conn.execute(hall_watchers.insert().values(sid=sid, session_id=session_id,
                                                     account_id=account_id, name=name, seen_at=now))
    await conn.execute(interview_sessions.update().where(interview_sessions.c.id == session_id)
                       .values(employer_present=True))


async def drop_watcher(conn: AsyncConnection, sid: str) -> list[int]:
    """The socket left; returns the sessions it watched (their presence may have changed)."""
    sessions = list((await conn.execute(sa.select(hall_watchers.c.session_id).where(
        hall_watchers.c.sid == sid))).scalars())
    await conn.execute(hall_watchers.delete().where(hall_watchers.c.sid == sid))
    await _update_presence(conn, sessions)
    return sessions


def _stale(now: dt.datetime) -> sa.ColumnElement[bool]:
    return hall_watchers.c.seen_at < now - dt.timedelta(seconds=WATCHER_STALE_SECONDS)


async def any_stale_watchers(conn: AsyncConnection, now: dt.datetime) -> bool:
    """A watcher nobody refreshed (its process is dead)? Read outside the write lock:
    touch_watchers drops them only when there are any."""
    return (await conn.execute(sa.select(hall_watchers.c.sid).where(_stale(now))
                               .limit(1))).first() is not None


async def touch_watchers(conn: AsyncConnection, sids: list[str], now: dt.datetime,
                         drop_stale: bool) -> list[int]:
    """Refresh this process's watchers and, with `drop_stale` (any_stale_watchers), drop
    those nobody refreshed. Returns the sessions that lost a watcher."""
    if sids:
        await conn.execute(hall_watchers.update().where(hall_watchers.c.sid.in_(sids))
                           .values(seen_at=now))
    if not drop_stale:
        return []
    stale = list((await conn.execute(hall_watchers.delete().where(_stale(now))
                                      .returning(hall_watchers.c.session_id))).scalars())
    if stale:
        await _update_presence(conn, stale)
    return sorted(set(stale))


async def _update_presence(conn: AsyncConnection, session_ids: list[int]) -> None:
    for session_id in set(session_ids):
        left = (await conn.execute(sa.select(hall_watchers.c.sid).where(
            hall_watchers.c.session_id == session_id))).first()
        if left is None:
            await conn.execute(interview_sessions.update().where(
                interview_sessions.c.id == session_id).values(employer_present=False))


# ---- notices to the hall -----------------------------------------------------------------

NOTICE_MAX_CHARS = 500


@dataclass(frozen=True)
class Posted:
    notice: dict[str, Any]
    students: list[int]     # accounts to tell now
    sessions: list[int]     # booths whose employer room is told


async def post_notice(conn: AsyncConnection, *, scope: Scope, author_id: int, body: str,
                      session_id: int | None, now: dt.datetime) -> Posted:
    body = body.strip()
    if not body:
        raise NotAllowed("请填写通知内容", field="body")
    if len(body) > NOTICE_MAX_CHARS:
        raise NotAllowed(f"通知内容不能超过{NOTICE_MAX_CHARS}字", field="body")
    day = china_date(now)
    if session_id is not None:
        if not await may_see(conn, session_id, scope):
            raise NotAllowed("无权向该面试间发布通知", field="session_id")
        sessions = [session_id]
    else:
        sessions = await sessions_of_day(conn, day, scope)
    row = (await conn.execute(hall_notices.insert().values(
        day=day, session_id=session_id, school_id=scope.school_id, author_id=author_id, body=body,
        created_at=now).returning(*hall_notices.c))).one()
    await audit.record(conn, at=now, actor_id=author_id, action="hall.notice", entity="hall_notice",
                       entity_id=row.id, reason=body,
                       detail={"session_id": session_id, "school_id": scope.school_id})
    students = await _open_students(conn, sessions, scope.school_id)
    return Posted(notice=_notice(row), students=students, sessions=sessions)


async def _open_students(conn: AsyncConnection, sessions: list[int], school_id: int | None) -> list[int]:
    if not sessions:
        return []
    stmt = (sa.select(hall_tickets.c.account_id).distinct()
            .join(accounts, accounts.c.id == hall_tickets.c.account_id)
            .where(hall_tickets.c.session_id.in_(sessions), hall_tickets.c.status.in_(OPEN_STATES)))
    if school_id is not None:
        stmt = stmt.where(accounts.c.school_id == school_id)
    return list((await conn.execute(stmt)).scalars())


def _notice(row: sa.Row) -> dict[str, Any]:
    return {"id": row.id, "body": row.body, "created_at": row.created_at.isoformat(),
            "session_id": row.session_id}


async def notices_for_student(conn: AsyncConnection, account_id: int, session_id: int,
                              now: dt.datetime) -> list[dict[str, Any]]:
    """Today's notices that reach a student in this booth (shown again after a reload)."""
    rows = await conn.execute(_STUDENT_NOTICES, {"day": china_date(now), "session_id": session_id,
                                                 "account_id": account_id})
    return [_notice(r) for r in rows]


def _student_notices() -> sa.Select:
    """Built once: every join asks it."""
    n = hall_notices
    school_id = (sa.select(accounts.c.school_id).where(accounts.c.id == sa.bindparam("account_id"))
                 .scalar_subquery())
    return sa.select(n).where(
        n.c.day == sa.bindparam("day"),
        sa.or_(n.c.session_id.is_(None), n.c.session_id == sa.bindparam("session_id")),
        sa.or_(n.c.school_id.is_(None), n.c.school_id == school_id)).order_by(n.c.id)


_STUDENT_NOTICES = _student_notices()


async def notices_for_booth(conn: AsyncConnection, session_id: int,
                            now: dt.datetime) -> list[dict[str, Any]]:
    """Today's notices that reach the employer's room of this booth."""
    n = hall_notices
    schools = sa.select(accounts.c.school_id).join(
        interviews, interviews.c.account_id == accounts.c.id).where(interviews.c.session_id == session_id)
    rows = await conn.execute(sa.select(n).where(
        n.c.day == china_date(now), sa.or_(n.c.session_id.is_(None), n.c.session_id == session_id),
        sa.or_(n.c.school_id.is_(None), n.c.school_id.in_(schools))).order_by(n.c.id))
    return [_notice(r) for r in rows]


async def notices_of_day(conn: AsyncConnection, scope: Scope, now: dt.datetime) -> list[dict[str, Any]]:
    n = hall_notices
    stmt = sa.select(n).where(n.c.day == china_date(now)).order_by(n.c.id)
    if scope.school_id is not None:
        stmt = stmt.where(n.c.school_id == scope.school_id)
    return [_notice(r) for r in await conn.execute(stmt)]


# ---- closing a booth, removing a participant ------------------------------------------------

REASON_MAX_CHARS = 200


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise NotAllowed("请填写原因（会告知相关学生）", field="reason")
    if len(reason) > REASON_MAX_CHARS:
        raise NotAllowed(f"原因不能超过{REASON_MAX_CHARS}字", field="reason")
    return reason


@dataclass(frozen=True)
class Closed:
    session_id: int
    tickets: list[sa.Row]   # the tickets taken out: their students are told
    whole_booth: bool       # False: a school admin took out only the school's students


async def close_booth(conn: AsyncConnection, *, scope: Scope, session_id: int, reason: str,
                      actor_id: int, now: dt.datetime) -> Closed:
    """Close a booth: every open ticket (waiting, called, in a call) is closed with the reason
    and its student told; interviews not held stay as they are, to be rescheduled.

    A school admin acts for the school only: its students' tickets are closed and the booth
    stays open for everyone else's (another school's students are neither taken out nor
    told this admin's reason). A platform admin closes the whole booth."""
    reason = _reason(reason)
    if not await may_see(conn, session_id, scope):
        raise NotAllowed("无权操作该面试间")
    s = interview_sessions
    before = (await conn.execute(sa.select(s.c.status).where(s.c.id == session_id))).scalar_one()
    if before in ("ended", "closed"):
        raise NotAllowed("该面试间已经结束或关闭")
    where = hall_tickets.c.session_id == session_id
    if scope.school_id is None:
        done = await conn.execute(s.update().where(s.c.id == session_id,
                                                   s.c.status.not_in(["ended", "closed"]))
                                  .values(status="closed", closed_reason=reason))
        if done.rowcount != 1:
            raise NotAllowed("该面试间已经结束或关闭")
    else:
        where = sa.and_(where, hall_tickets.c.account_id.in_(
            sa.select(accounts.c.id).where(accounts.c.school_id == scope.school_id)))
    taken = await _take_out(conn, where, TicketState.CLOSED, reason, now, "面试间已被管理员关闭")
    await audit.record(conn, at=now, actor_id=actor_id, action="hall.close_booth",
                       entity="interview_session", entity_id=session_id, from_state=before,
                       to_state="closed" if scope.school_id is None else before, reason=reason,
                       detail={"tickets": [t.id for t in taken], "school_id": scope.school_id})
    return Closed(session_id=session_id, tickets=taken, whole_booth=scope.school_id is None)


async def remove_ticket(conn: AsyncConnection, *, scope: Scope, ticket_id: int, reason: str,
                        actor_id: int, now: dt.datetime) -> sa.Row:
    """Take one student out of a booth (waiting, called or in a call)."""
    reason = _reason(reason)
    row = await ticket_with_school(conn, ticket_id)
    if row is None or (scope.school_id is not None and row.school_id != scope.school_id):
        raise NotAllowed("无权操作该学生")
    taken = await _take_out(conn, hall_tickets.c.id == ticket_id, TicketState.REMOVED, reason, now,
                            "你已被管理员移出面试间")
    if not taken:
        raise NotAllowed("该学生已不在排队或面试中")
    await audit.record(conn, at=now, actor_id=actor_id, action="hall.remove", entity="hall_ticket",
                       entity_id=ticket_id, from_state=row.status, to_state=TicketState.REMOVED,
                       reason=reason, detail={"session_id": row.session_id},
                       school_id=row.school_id)
    return taken[0]


async def _take_out(conn: AsyncConnection, where: Any, state: TicketState, reason: str,
                    now: dt.datetime, title: str) -> list[sa.Row]:
    t = hall_tickets
    rows = list(await conn.execute(sa.select(t).where(where, t.c.status.in_(OPEN_STATES))))
    taken = []
    for r in rows:
        done = await conn.execute(t.update().where(t.c.id == r.id, t.c.status == r.status)
                                  .values(status=state, closed_reason=reason, finished_at=now))
        if done.rowcount == 1:
            taken.append(r)
            await notices.add(conn, account_id=r.account_id, at=now, title=f"{title}：{reason}")
    return taken
