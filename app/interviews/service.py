"""Rules of 视频面试邀请: inviting (one or several applicants in consecutive slots),
accepting and declining, rescheduling and cancelling — each change told to the student
by an in-site notice and an email carrying an .ics calendar file."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..applications.service import APPLICATION_FLOW, ApplicationState
from ..db import for_accounts
from ..workflow import Actor, Flow, NotAllowed, Step, transition
from ..notify import emails, notices
from ..notify.emails import Attachment
from ..roles import Role
from ..tables import accounts, applications, employers, interview_sessions, interviews, jobs
from . import ics
from .rules import CHINA, MAX_MINUTES, Slot, clashes, clashes_per_student, consecutive, overlapping


class InterviewState(enum.StrEnum):
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    DONE = "done"
    NO_SHOW = "no_show"


STUDENT = frozenset({Role.STUDENT})
EMPLOYER = frozenset({Role.EMPLOYER})
ACTIVE = (InterviewState.INVITED, InterviewState.ACCEPTED)
INTERVIEW_FLOW = Flow(
    name="interview", label="视频面试", states=InterviewState, initial=InterviewState.INVITED, table=interviews,
    state_labels={InterviewState.INVITED: "待确认", InterviewState.ACCEPTED: "已接受",
            InterviewState.DECLINED: "已拒绝", InterviewState.CANCELLED: "已取消",
            InterviewState.DONE: "已面试", InterviewState.NO_SHOW: "未到"},
    action_labels={"accept": "接受", "decline": "拒绝", "cancel": "取消面试",
                   "reschedule": "改期", "finish": "结束面试", "no_show": "标记未到"},
    steps=(
        Step(InterviewState.INVITED, "accept", InterviewState.ACCEPTED, STUDENT),
        Step(InterviewState.INVITED, "decline", InterviewState.DECLINED, STUDENT),
        Step(InterviewState.INVITED, "cancel", InterviewState.CANCELLED, EMPLOYER),
        Step(InterviewState.ACCEPTED, "cancel", InterviewState.CANCELLED, EMPLOYER),
        Step(InterviewState.INVITED, "reschedule", InterviewState.INVITED, EMPLOYER),
        Step(InterviewState.ACCEPTED, "reschedule", InterviewState.INVITED, EMPLOYER),
        Step(InterviewState.INVITED, "finish", InterviewState.DONE, EMPLOYER),
        Step(InterviewState.ACCEPTED, "finish", InterviewState.DONE, EMPLOYER),
        Step(InterviewState.INVITED, "no_show", InterviewState.NO_SHOW, EMPLOYER),
        Step(InterviewState.ACCEPTED, "no_show", InterviewState.NO_SHOW, EMPLOYER),
        # a student marked 未到 whom the employer recalls can still be interviewed
        Step(InterviewState.NO_SHOW, "finish", InterviewState.DONE, EMPLOYER),
    ))


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(CHINA).strftime("%Y年%m月%d日 %H:%M")


async def _day_slots(conn: AsyncConnection, employer_id: int, day: dt.date,
                     exclude: int | None = None) -> list[Slot]:
    stmt = (sa.select(interviews.c.starts_at, interviews.c.minutes)
            .join(interview_sessions, interview_sessions.c.id == interviews.c.session_id)
            .where(interview_sessions.c.employer_id == employer_id,
                   interview_sessions.c.day == day, interviews.c.status.in_(ACTIVE)))
    if exclude is not None:
        stmt = stmt.where(interviews.c.id != exclude)
    return [Slot(r.starts_at, r.minutes) for r in await conn.execute(stmt)]


async def _session_for(conn: AsyncConnection, employer_id: int, day: dt.date,
                       slots: list[Slot], now: dt.datetime) -> int:
    """The employer's session of that day, created or widened to cover the slots."""
    first = min(s.starts_at for s in slots)
    last = max(s.ends_at for s in slots)
    row = (await conn.execute(sa.select(interview_sessions).where(
        interview_sessions.c.employer_id == employer_id, interview_sessions.c.day == day))).first()
    if row is None:
        return (await conn.execute(interview_sessions.insert().values(
            employer_id=employer_id, day=day, starts_at=first, ends_at=last, status="scheduled",
            created_at=now).returning(interview_sessions.c.id))).scalar_one()
    await conn.execute(interview_sessions.update().where(interview_sessions.c.id == row.id).values(
        starts_at=min(row.starts_at, first), ends_at=max(row.ends_at, last)))
    return row.id


async def invite(conn: AsyncConnection, *, employer_id: int, application_ids: list[int],
                 first: dt.datetime, minutes: int, note: str, actor_id: int, now: dt.datetime,
                 base_url: str) -> list[int]:
    """Invite the applicants in the given order, in consecutive slots from `first`."""
    if not application_ids:
        raise NotAllowed("请选择要邀请的应聘者", field="application_ids")
    if first <= now:
        raise NotAllowed("面试时间必须晚于现在", field="start")
    rows = {r.id: r for r in await conn.execute(
        sa.select(applications, jobs.c.title.label("job_title"))
        .join(jobs, jobs.c.id == applications.c.job_id)
        .where(applications.c.id.in_(application_ids), jobs.c.employer_id == employer_id))}
    if len(rows) != len(set(application_ids)):
        raise NotAllowed("所选的应聘者不存在")
    for app_id in application_ids:
        if rows[app_id].status in (ApplicationState.WITHDRAWN, ApplicationState.REJECTED):
            raise NotAllowed(f"{rows[app_id].snapshot['student']['name']}的投递已撤回或已标记不合适")
    pending = (await conn.execute(sa.select(interviews.c.application_id).where(
        interviews.c.application_id.in_(application_ids), interviews.c.status.in_(ACTIVE)))).scalars().all()
    if pending:
        names = "、".join(rows[a].snapshot["student"]["name"] for a in pending)
        raise NotAllowed(f"{names}已有未完成的面试邀请，可在面试日程中改期", field="application_ids")
    slots = consecutive(first, minutes, len(application_ids))
    day = first.astimezone(CHINA).date()
    if slots[-1].ends_at.astimezone(CHINA).date() != day:
        raise NotAllowed("面试须在同一天内结束", field="start")
    if clashes(slots, await _day_slots(conn, employer_id, day)):
        raise NotAllowed("该时段与已安排的面试重叠，请换一个开始时间", field="start")
    session_id = await _session_for(conn, employer_id, day, slots, now)
    org = (await conn.execute(sa.select(employers.c.name).where(employers.c.id == employer_id))).scalar_one()
    created = []
    for app_id, slot in zip(application_ids, slots):
        app = rows[app_id]
        interview_id = (await conn.execute(for_accounts(interviews.insert(), app.account_id).values(
            session_id=session_id, application_id=app_id, account_id=app.account_id,
            starts_at=slot.starts_at, minutes=minutes, note=note, status=InterviewState.INVITED,
            created_at=now, updated_at=now).returning(interviews.c.id))).scalar_one()
        if app.status != ApplicationState.INVITED:
            if app.status == ApplicationState.NEW:
                await transition(conn, APPLICATION_FLOW, app_id, "view", actor=Actor(actor_id, Role.EMPLOYER),
                                 at=now, values={"viewed_at": now})
            await transition(conn, APPLICATION_FLOW, app_id, "invite", actor=Actor(actor_id, Role.EMPLOYER),
                             at=now, values={"updated_at": now})
        await _tell_student(conn, interview_id, kind="invited", org=org, now=now, base_url=base_url)
        created.append(interview_id)
    return created


async def _tell_student(conn: AsyncConnection, interview_id: int, *, kind: str, org: str,
                        now: dt.datetime, base_url: str) -> None:
    row = await _full(conn, interview_id)
    link = f"{base_url.rstrip('/')}/student/interviews/{interview_id}"
    titles = {"invited": f"{org}邀请你参加视频面试：{_local(row.starts_at)}",
              "rescheduled": f"{org}将视频面试改到{_local(row.starts_at)}，请重新确认",
              "cancelled": f"{org}取消了{_local(row.starts_at)}的视频面试"}
    await notices.add(conn, account_id=row.account_id, title=titles[kind], at=now,
                      link=f"/student/interviews/{interview_id}")
    calendar = ics.interview_event(
        uid=f"interview-{interview_id}@{base_url.split('//')[-1].split('/')[0]}",
        sequence=row.sequence, starts_at=row.starts_at, minutes=row.minutes,
        summary=f"视频面试：{org} · {row.job_title}", description=row.note or "", url=link,
        stamp=now, organizer=(org, await _organizer_email(conn, row)),
        attendee=(row.student_name, row.email), cancelled=kind == "cancelled")
    await emails.enqueue(conn, to=row.email, template=f"interview_{kind}", at=now, context={
        "org": org, "job": row.job_title, "when": _local(row.starts_at), "minutes": row.minutes,
        "note": row.note, "link": link, "name": row.student_name},
        attachments=(Attachment("interview.ics", "text/calendar; method="
                                + ics.method(kind == "cancelled"), calendar),))


async def _organizer_email(conn: AsyncConnection, row: sa.Row) -> str:
    """The employer's 联系邮箱, or the address of its first account (employers made before
    the contact address was kept have none)."""
    if row.employer_email:
        return row.employer_email
    return (await conn.execute(
        sa.select(accounts.c.email).where(accounts.c.employer_id == row.employer_id)
        .order_by(accounts.c.id).limit(1))).scalar_one()


async def _full(conn: AsyncConnection, interview_id: int) -> sa.Row:
    return (await conn.execute(
        sa.select(interviews, jobs.c.title.label("job_title"), accounts.c.email,
                  accounts.c.display_name.label("student_name"),
                  interview_sessions.c.employer_id, interview_sessions.c.ends_at.label("session_ends_at"),
                  interview_sessions.c.status.label("session_status"),
                  employers.c.name.label("employer_name"),
                  employers.c.contact_email.label("employer_email"))
        .join(applications, applications.c.id == interviews.c.application_id)
        .join(jobs, jobs.c.id == applications.c.job_id)
        .join(accounts, accounts.c.id == interviews.c.account_id)
        .join(interview_sessions, interview_sessions.c.id == interviews.c.session_id)
        .join(employers, employers.c.id == interview_sessions.c.employer_id)
        .where(interviews.c.id == interview_id))).one()


async def for_student(conn: AsyncConnection, account_id: int, interview_id: int) -> sa.Row | None:
    row = await _full(conn, interview_id) if await _exists(conn, interview_id) else None
    return row if row is not None and row.account_id == account_id else None


async def for_employer(conn: AsyncConnection, employer_id: int, interview_id: int) -> sa.Row | None:
    row = await _full(conn, interview_id) if await _exists(conn, interview_id) else None
    return row if row is not None and row.employer_id == employer_id else None


async def _exists(conn: AsyncConnection, interview_id: int) -> bool:
    return (await conn.execute(sa.select(interviews.c.id).where(
        interviews.c.id == interview_id))).first() is not None


async def answer(conn: AsyncConnection, row: sa.Row, action: str, *, account_id: int,
                 now: dt.datetime) -> None:
    """The student accepts or declines; the employer is told."""
    await transition(conn, INTERVIEW_FLOW, row.id, action, actor=Actor(account_id, Role.STUDENT),
                     at=now, values={"updated_at": now})
    verb = "接受" if action == "accept" else "拒绝"
    for employer_account in (await conn.execute(sa.select(accounts.c.id).where(
            accounts.c.employer_id == row.employer_id))).scalars():
        await notices.add(conn, account_id=employer_account, at=now,
                          link=f"/employer/interviews?day={row.starts_at.astimezone(CHINA).date()}",
                          title=f"{row.student_name}{verb}了{_local(row.starts_at)}的视频面试")


async def reschedule(conn: AsyncConnection, row: sa.Row, *, first: dt.datetime, minutes: int,
                     actor_id: int, now: dt.datetime, base_url: str) -> None:
    if first <= now:
        raise NotAllowed("面试时间必须晚于现在", field="start")
    slot = Slot(first, minutes)
    day = first.astimezone(CHINA).date()
    if clashes([slot], await _day_slots(conn, row.employer_id, day, exclude=row.id)):
        raise NotAllowed("该时段与已安排的面试重叠，请换一个开始时间", field="start")
    session_id = await _session_for(conn, row.employer_id, day, [slot], now)
    await transition(conn, INTERVIEW_FLOW, row.id, "reschedule", actor=Actor(actor_id, Role.EMPLOYER),
                     at=now, values={
                         "starts_at": first, "minutes": minutes, "session_id": session_id,
                         "sequence": row.sequence + 1, "updated_at": now})
    await _tell_student(conn, row.id, kind="rescheduled", org=row.employer_name, now=now,
                        base_url=base_url)


async def cancel(conn: AsyncConnection, row: sa.Row, *, actor_id: int, reason: str | None,
                 now: dt.datetime, base_url: str) -> None:
    await transition(conn, INTERVIEW_FLOW, row.id, "cancel", actor=Actor(actor_id, Role.EMPLOYER),
                     at=now, reason=reason,
                     values={"sequence": row.sequence + 1, "updated_at": now})
    await _tell_student(conn, row.id, kind="cancelled", org=row.employer_name, now=now,
                        base_url=base_url)


async def student_list(conn: AsyncConnection, account_id: int) -> list[sa.Row]:
    return list(await conn.execute(
        sa.select(interviews, jobs.c.title.label("job_title"),
                  employers.c.name.label("employer_name"))
        .join(applications, applications.c.id == interviews.c.application_id)
        .join(jobs, jobs.c.id == applications.c.job_id)
        .join(employers, employers.c.id == jobs.c.employer_id)
        .where(interviews.c.account_id == account_id)
        .order_by(interviews.c.starts_at.desc())))


async def employer_day(conn: AsyncConnection, employer_id: int, day: dt.date) -> list[sa.Row]:
    return list(await conn.execute(
        sa.select(interviews, jobs.c.title.label("job_title"),
                  accounts.c.display_name.label("student_name"))
        .join(interview_sessions, interview_sessions.c.id == interviews.c.session_id)
        .join(applications, applications.c.id == interviews.c.application_id)
        .join(jobs, jobs.c.id == applications.c.job_id)
        .join(accounts, accounts.c.id == interviews.c.account_id)
        .where(interview_sessions.c.employer_id == employer_id, interview_sessions.c.day == day)
        .order_by(interviews.c.starts_at)))


def _starting_near(first: dt.datetime, last: dt.datetime) -> tuple[Any, Any]:
    """Interviews that start early enough to overlap [first, last): none lasts longer than
    MAX_MINUTES, so this lets the (account_id, starts_at) index narrow the rows and the pure
    rule decide."""
    return (interviews.c.starts_at > first - dt.timedelta(minutes=MAX_MINUTES),
            interviews.c.starts_at < last)


@dataclass(frozen=True)
class Elsewhere:
    """Another interview of the student's, as the student sees it (their own data)."""
    slot: Slot
    employer_name: str
    job_title: str


async def accepted_overlaps(conn: AsyncConnection, row: sa.Row) -> list[Elsewhere]:
    """The student's other accepted interviews (any employer) at the time of this one."""
    slot = Slot(row.starts_at, row.minutes)
    found = await conn.execute(
        sa.select(interviews.c.starts_at, interviews.c.minutes, jobs.c.title, employers.c.name)
        .join(applications, applications.c.id == interviews.c.application_id)
        .join(jobs, jobs.c.id == applications.c.job_id)
        .join(employers, employers.c.id == jobs.c.employer_id)
        .where(interviews.c.account_id == row.account_id, interviews.c.id != row.id,
               interviews.c.status == InterviewState.ACCEPTED,
               *_starting_near(slot.starts_at, slot.ends_at)))
    elsewhere = [Elsewhere(Slot(r.starts_at, r.minutes), r.name, r.title) for r in found]
    return overlapping(slot, [(e.slot, e) for e in elsewhere])


async def clashes_elsewhere(conn: AsyncConnection, employer_id: int,
                            rows: Iterable[sa.Row]) -> dict[int, list[Slot]]:
    """Our open interviews (rows of employer_day) → the student's open interviews at other
    employers overlapping each. Only the times leave here: who else interviews the student,
    and for what, is not this employer's business."""
    ours = [(r.id, r.account_id, Slot(r.starts_at, r.minutes)) for r in rows if r.status in ACTIVE]
    if not ours:
        return {}
    found = await conn.execute(
        sa.select(interviews.c.account_id, interviews.c.starts_at, interviews.c.minutes)
        .join(interview_sessions, interview_sessions.c.id == interviews.c.session_id)
        .where(interviews.c.account_id.in_({student for _, student, _ in ours}),
               interview_sessions.c.employer_id != employer_id, interviews.c.status.in_(ACTIVE),
               *_starting_near(min(s.starts_at for *_, s in ours), max(s.ends_at for *_, s in ours))))
    return clashes_per_student(ours, [(r.account_id, Slot(r.starts_at, r.minutes)) for r in found])


async def employer_days(conn: AsyncConnection, employer_id: int) -> list[Any]:
    return list((await conn.execute(
        sa.select(interview_sessions.c.day).where(interview_sessions.c.employer_id == employer_id)
        .order_by(interview_sessions.c.day.desc()).limit(60))).scalars())


async def for_application(conn: AsyncConnection, application_id: int) -> list[sa.Row]:
    """The interviews of one application, newest first (the employer's applicant page)."""
    return list(await conn.execute(
        sa.select(interviews).where(interviews.c.application_id == application_id)
        .order_by(interviews.c.starts_at.desc())))
