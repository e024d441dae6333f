"""待办事项: what waits for a user now, on their centre page — a count per kind of work and
the page where it is done. One function per role; each asks every count of its centre in
one statement (one scalar subquery per item), and each subquery stays inside the caller's
scope (a student's own rows, an employer's own jobs and agreements, a counselor's college,
a school admin's school) on an index that starts with that scope.

An item whose count is 0 is left out of the page; with none left the page says there is
nothing to do (templates/centres/_todo.html)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..applications.service import ApplicationState
from ..auth.sessions import Identity
from ..clock import china_date, china_midnight
from ..employers.service import EmployerState
from ..interviews.service import ACTIVE as ACTIVE_INTERVIEWS
from ..interviews.service import InterviewState
from ..jobs.service import JobState
from ..registration.flows import RegState
from ..registration.tables import registrations as reg
from ..reviews.flows import OriginState, RecState
from ..reviews.tables import origin_records as origin
from ..reviews.tables import recommendations as rec
from ..roles import Role
from ..signing.flows import AgreementState as Ag
from ..signing.review import WAITING as AGREEMENTS_WAITING
from ..signing.tables import agreements as ag
from ..tables import (applications, email_outbox, employers, interview_sessions, interviews,
                      jobs, student_records)
from ..termination.flows import TermState
from ..termination.service import WAITING as TERMINATIONS_WAITING
from ..termination.tables import termination_requests as tr


@dataclass(frozen=True)
class Todo:
    key: str          # names the item in the page (id="todo-<key>")
    label: str
    count: int
    route: str        # where the work is done
    query: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Item:
    key: str
    label: str
    route: str
    query: dict[str, str]
    count: Any        # a scalar subquery
    until: Any = None  # for a count that drops with time alone: the first instant it does


def _item(key: str, label: str, route: str, table: Any, *where: Any,
          query: dict[str, str] | None = None, until: Any = None) -> _Item:
    """`until`: the column whose passing (by the clock) takes a row out of the count."""
    def counted(value: Any) -> sa.ScalarSelect:
        return sa.select(value).select_from(table).where(*where).scalar_subquery()
    return _Item(key, label, route, query or {}, counted(sa.func.count()),
                 counted(sa.func.min(until)) if until is not None else None)


def statement(items: list[_Item]) -> sa.Select:
    """All the counts of one centre as one SELECT (tests read its plan)."""
    return sa.select(*(i.count.label(i.key) for i in items))


def with_counts(select: sa.Select, items: list[_Item]) -> sa.Select:
    """`select` with the items' counts as extra columns: a centre that reads its own row
    anyway gets its to-do list in the same statement (the counts may refer to that row's
    table, which they then correlate to). With them, when each would drop with time alone
    (next_change)."""
    return select.add_columns(*(i.count.label(i.key) for i in items),
                              *(i.until.label(f"{i.key}__until") for i in items if i.until is not None))


def next_change(row: sa.Row, items: list[_Item]) -> dt.datetime | None:
    """The first instant at which a count of with_counts() drops with no write at all (an
    invitation's start passing): what was read stays true until then (app/accountcache.py).
    Counts of "today" change at midnight, which the caller knows without asking."""
    instants = [row._mapping[f"{i.key}__until"] for i in items if i.until is not None]
    return min((t for t in instants if t is not None), default=None)


def read(row: sa.Row, items: list[_Item]) -> list[Todo]:
    """The Todo list from a row of statement() or with_counts()."""
    return [Todo(i.key, i.label, row._mapping[i.key], i.route, i.query) for i in items]


async def _counted(conn: AsyncConnection, items: list[_Item]) -> list[Todo]:
    return read((await conn.execute(statement(items))).one(), items)


def day_bounds(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Today in China, as an instant range."""
    start = china_midnight(china_date(now))
    return start, start + dt.timedelta(days=1)


# --- the items of each role --------------------------------------------------------------------

def student_items(account_id: Any, record_id: Any, now: Any,
                  today: tuple[Any, Any] | None = None) -> list[_Item]:
    """`record_id`: the student's record id, or student_records.c.id when the counts ride
    on the query that reads the record (学生中心). The values may be bind parameters
    (`today` then too: the day's bounds as two), for a statement built once."""
    day_start, day_end = today if today is not None else day_bounds(now)
    mine = ag.c.student_record_id == record_id
    return [
        _item("interview_invitations", "视频面试邀请待回复", "my_interviews", interviews,
              interviews.c.account_id == account_id, interviews.c.status == InterviewState.INVITED,
              interviews.c.starts_at >= now, until=interviews.c.starts_at),
        _item("interviews_today", "今天的视频面试", "my_interviews", interviews,
              interviews.c.account_id == account_id, interviews.c.status == InterviewState.ACCEPTED,
              interviews.c.starts_at >= day_start, interviews.c.starts_at < day_end),
        _item("signing_invitations", "签约邀请待应约", "signing_centre", ag,
              mine, ag.c.status == Ag.INVITED,
              sa.or_(ag.c.valid_until.is_(None), ag.c.valid_until > now), until=ag.c.valid_until),
        _item("agreements_to_generate", "单位已确认，待生成协议书", "signing_offline", ag,
              mine, ag.c.status == Ag.CONFIRMED),
        _item("scans_to_upload", "待上传盖章协议书", "signing_offline", ag,
              mine, ag.c.status == Ag.GENERATED),
        _item("scans_returned", "盖章协议书被退回，待重新上传", "signing_offline", ag,
              mine, ag.c.status == Ag.SCAN_RETURNED),
        _item("origin_to_check", "生源信息待核对送审", "origin_student", origin,
              origin.c.student_record_id == record_id, origin.c.status == OriginState.DRAFT),
        _item("origin_returned", "生源信息被退回", "origin_student", origin,
              origin.c.student_record_id == record_id, origin.c.status == OriginState.RETURNED),
        _item("recommendation_returned", "推荐表被退回", "recommendation_student", rec,
              rec.c.student_record_id == record_id, rec.c.status == RecState.RETURNED),
        _item("registration_returned", "就业信息登记被退回", "registration_student", reg,
              reg.c.student_record_id == record_id, reg.c.status == RegState.RETURNED),
        _item("termination_returned", "解约申请被退回", "termination_centre",
              tr.join(ag, ag.c.id == tr.c.agreement_id),
              mine, tr.c.status == TermState.RETURNED, tr.c.applicant_role == Role.STUDENT.value),
    ]


def employer_items(employer_id: int, now: dt.datetime) -> list[_Item]:
    own_agreement = ag.c.employer_id == employer_id
    return [
        _item("new_applications", "新投递的简历待查看", "my_jobs",
              applications.join(jobs, jobs.c.id == applications.c.job_id),
              jobs.c.employer_id == employer_id, applications.c.status == ApplicationState.NEW),
        _item("interviews_today", "今天的视频面试", "interview_schedule",
              interviews.join(interview_sessions, interview_sessions.c.id == interviews.c.session_id),
              interview_sessions.c.employer_id == employer_id,
              interview_sessions.c.day == china_date(now),
              interviews.c.status.in_([str(s) for s in ACTIVE_INTERVIEWS])),
        _item("jobs_returned", "被退回的岗位", "my_jobs", jobs,
              jobs.c.employer_id == employer_id, jobs.c.status == JobState.RETURNED),
        _item("agreements_returned", "被退回待修改的就业协议书", "employer_agreements", ag,
              own_agreement, ag.c.status == Ag.RETURNED),
        _item("termination_returned", "解约申请被退回", "employer_termination_centre",
              tr.join(ag, ag.c.id == tr.c.agreement_id),
              own_agreement, tr.c.status == TermState.RETURNED,
              tr.c.applicant_role == Role.EMPLOYER.value),
    ]


def counselor_items(school_id: int, college_id: int) -> list[_Item]:
    def college(t: sa.Table) -> sa.ColumnElement[bool]:
        return sa.and_(t.c.school_id == school_id, t.c.college_id == college_id)
    return [
        _item("origin_review", "生源信息待审核", "origin_queue", origin,
              college(origin), origin.c.status == OriginState.SUBMITTED,
              query={"status": OriginState.SUBMITTED.value}),
        _item("agreement_review", "就业协议书待学院审核", "agreement_queue", ag,
              college(ag), ag.c.status.in_([s.value for s in AGREEMENTS_WAITING[Role.COUNSELOR]]),
              query={"status": "waiting"}),
        _item("registration_review", "就业信息登记待学院审核", "registration_queue", reg,
              college(reg), reg.c.status == RegState.SUBMITTED,
              query={"status": RegState.SUBMITTED.value}),
        _item("termination_review", "解约申请待学院审核", "termination_queue", tr,
              college(tr), tr.c.status == TERMINATIONS_WAITING[Role.COUNSELOR],
              query={"status": "waiting"}),
    ]


def school_items(school_id: int) -> list[_Item]:
    return [
        _item("recommendation_review", "推荐表待审核", "recommendation_queue", rec,
              rec.c.school_id == school_id, rec.c.status == RecState.SUBMITTED,
              query={"status": RecState.SUBMITTED.value}),
        _item("agreement_review", "就业协议书待学校审核", "agreement_queue", ag,
              ag.c.school_id == school_id, ag.c.status == Ag.SCHOOL_REVIEW,
              query={"status": Ag.SCHOOL_REVIEW.value}),
        _item("scan_review", "盖章协议书待审核", "agreement_queue", ag,
              ag.c.school_id == school_id, ag.c.status == Ag.SCAN_REVIEW,
              query={"status": Ag.SCAN_REVIEW.value}),
        _item("registration_review", "就业信息登记待学校审核", "registration_queue", reg,
              reg.c.school_id == school_id, reg.c.status == RegState.COLLEGE_OK,
              query={"status": RegState.COLLEGE_OK.value}),
        _item("termination_review", "解约申请待学校审核", "termination_queue", tr,
              tr.c.school_id == school_id,
              tr.c.status == TERMINATIONS_WAITING[Role.SCHOOL_ADMIN],
              query={"status": "waiting"}),
    ]


def platform_items() -> list[_Item]:
    return [
        _item("employer_review", "单位注册待审核", "admin_employers", employers,
              employers.c.status == EmployerState.PENDING,
              query={"state": EmployerState.PENDING.value}),
        _item("job_review", "岗位待审核", "admin_jobs", jobs, jobs.c.status == JobState.PENDING),
        _item("failed_mail", "发送失败的邮件", "outbox", email_outbox,
              email_outbox.c.status == "failed", query={"status": "failed"}),
    ]


# --- what the centres call ---------------------------------------------------------------------

async def for_identity(conn: AsyncConnection, ident: Identity, now: dt.datetime) -> list[Todo]:
    """The caller's to-do items (all of them, zeros included), in the order shown."""
    if ident.role == Role.STUDENT:
        record_id = (await conn.execute(sa.select(student_records.c.id).where(
            student_records.c.account_id == ident.account_id))).scalar()
        if record_id is None:       # not linked to an imported record: nothing can wait
            return []
        return await _counted(conn, student_items(ident.account_id, record_id, now))
    if ident.role == Role.EMPLOYER and ident.employer_id is not None:
        return await _counted(conn, employer_items(ident.employer_id, now))
    if ident.role == Role.COUNSELOR and ident.school_id is not None and ident.college_id is not None:
        return await _counted(conn, counselor_items(ident.school_id, ident.college_id))
    if ident.role == Role.SCHOOL_ADMIN and ident.school_id is not None:
        return await _counted(conn, school_items(ident.school_id))
    if ident.role == Role.PLATFORM_ADMIN:
        return await _counted(conn, platform_items())
    return []
