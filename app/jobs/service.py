"""Rules of jobs: who may post, review, what is public, and search."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import audit, paging
from ..workflow import Actor, Flow, NotAllowed, Step, transition
from ..notify import notices
from ..roles import Role
from ..tables import accounts, applications, employers, jobs

KINDS = ("全职", "实习")
EDUCATIONS = ("不限", "专科", "本科", "硕士", "博士")


class JobState(enum.StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"
    RETURNED = "returned"
    CLOSED = "closed"


PLATFORM = frozenset({Role.PLATFORM_ADMIN})
EMPLOYER = frozenset({Role.EMPLOYER})
JOB_FLOW = Flow(
    name="job", label="岗位", states=JobState, initial=JobState.PENDING, table=jobs,
    state_labels={JobState.PENDING: "待审核", JobState.PUBLISHED: "已发布",
            JobState.RETURNED: "已退回", JobState.CLOSED: "已关闭"},
    action_labels={"approve": "通过", "return": "退回", "edit": "修改", "close": "关闭",
                   "create": "发布"},
    steps=(
        Step(JobState.PENDING, "approve", JobState.PUBLISHED, PLATFORM),
        Step(JobState.PENDING, "return", JobState.RETURNED, PLATFORM, reason_required=True),
        # an edited job is reviewed again before the public sees the new text
        Step(JobState.PENDING, "edit", JobState.PENDING, EMPLOYER),
        Step(JobState.RETURNED, "edit", JobState.PENDING, EMPLOYER),
        Step(JobState.PUBLISHED, "edit", JobState.PENDING, EMPLOYER),
        Step(JobState.PUBLISHED, "close", JobState.CLOSED, EMPLOYER),
        Step(JobState.PENDING, "close", JobState.CLOSED, EMPLOYER),
    ))


@dataclass(frozen=True)
class JobInput:
    title: str
    kind: str
    city: str
    salary_min: int | None
    salary_max: int | None
    education: str
    majors: str
    headcount: int
    description: str
    closing_date: dt.date | None


def is_open(job: sa.Row, today: dt.date) -> bool:
    """Accepting applications: published and not past its closing date."""
    return job.status == JobState.PUBLISHED and (job.closing_date is None or job.closing_date >= today)


async def create(conn: AsyncConnection, employer_id: int, data: JobInput, *, actor_id: int,
                 now: dt.datetime) -> int:
    status = (await conn.execute(sa.select(employers.c.status).where(
        employers.c.id == employer_id))).scalar()
    if status != "approved":
        raise NotAllowed("单位注册审核通过后才能发布岗位")
    job_id = (await conn.execute(jobs.insert().values(
        employer_id=employer_id, status=JobState.PENDING, created_at=now, updated_at=now,
        **data.__dict__).returning(jobs.c.id))).scalar_one()
    await audit.record(conn, at=now, actor_id=actor_id, action="create", entity="job",
                       entity_id=job_id, to_state=JobState.PENDING)
    return job_id


async def own(conn: AsyncConnection, employer_id: int, job_id: int) -> sa.Row | None:
    return (await conn.execute(sa.select(jobs).where(
        jobs.c.id == job_id, jobs.c.employer_id == employer_id))).first()


async def update(conn: AsyncConnection, job_id: int, data: JobInput, *, actor_id: int,
                 now: dt.datetime) -> None:
    await transition(conn, JOB_FLOW, job_id, "edit", actor=Actor(actor_id, Role.EMPLOYER), at=now, values={**data.__dict__, "updated_at": now, "return_reason": None})


async def close(conn: AsyncConnection, job_id: int, *, actor_id: int, now: dt.datetime) -> None:
    await transition(conn, JOB_FLOW, job_id, "close", actor=Actor(actor_id, Role.EMPLOYER), at=now, values={"updated_at": now})


async def review(conn: AsyncConnection, job_id: int, action: str, *, actor_id: int,
                 reason: str | None, now: dt.datetime) -> None:
    await transition(conn, JOB_FLOW, job_id, action, actor=Actor(actor_id, Role.PLATFORM_ADMIN), at=now, reason=reason,
                     values={"return_reason": reason if action == "return" else None,
                             "updated_at": now})
    job = (await conn.execute(sa.select(jobs).where(jobs.c.id == job_id))).one()
    title = (f"岗位“{job.title}”已通过审核并发布" if action == "approve"
             else f"岗位“{job.title}”被退回：{reason}")
    for account_id in (await conn.execute(sa.select(accounts.c.id).where(
            accounts.c.employer_id == job.employer_id))).scalars():
        await notices.add(conn, account_id=account_id, title=title, at=now,
                          link=f"/employer/jobs/{job_id}/edit")


async def for_employer(conn: AsyncConnection, employer_id: int) -> list[sa.Row]:
    counts = (sa.select(sa.func.count()).select_from(applications)
              .where(applications.c.job_id == jobs.c.id,
                     applications.c.status != "withdrawn").scalar_subquery())
    return list(await conn.execute(
        sa.select(jobs, counts.label("applicants")).where(jobs.c.employer_id == employer_id)
        .order_by(jobs.c.created_at.desc())))


async def state_counts(conn: AsyncConnection) -> dict[str, int]:
    """岗位审核's tabs: jobs per state."""
    return {r[0]: r[1] for r in await conn.execute(
        sa.select(jobs.c.status, sa.func.count()).group_by(jobs.c.status))}


async def detail(conn: AsyncConnection, job_id: int) -> sa.Row | None:
    return (await conn.execute(
        sa.select(jobs, employers.c.name.label("employer_name"),
                  employers.c.nature.label("employer_nature"),
                  employers.c.industry.label("employer_industry"),
                  employers.c.location.label("employer_location"))
        .join(employers, employers.c.id == jobs.c.employer_id)
        .where(jobs.c.id == job_id))).first()


def _public(today: dt.date) -> list[sa.ColumnElement[bool]]:
    return [jobs.c.status == JobState.PUBLISHED, employers.c.status == "approved",
            sa.or_(jobs.c.closing_date.is_(None), jobs.c.closing_date >= today)]


async def search(conn: AsyncConnection, *, today: dt.date, wanted: paging.Params, city: str = "",
                 kind: str = "", education: str = "") -> paging.Page:
    """Published, open jobs. Each space-separated keyword of `wanted.q` must appear in the
    title, description, majors, city or employer name (paging.matches)."""
    where = _public(today)
    where.append(paging.matches(wanted.q, jobs.c.title, jobs.c.description, jobs.c.majors,
                                jobs.c.city, employers.c.name))
    if city:
        where.append(jobs.c.city.icontains(city, autoescape=True))
    if kind in KINDS:
        where.append(jobs.c.kind == kind)
    if education in EDUCATIONS and education != "不限":
        # a job asking for 本科 suits a 本科 graduate; 不限 suits everyone
        where.append(jobs.c.education.in_(["不限", education]))
    return await paging.fetch(conn, sa.select(jobs, employers.c.name.label("employer_name"))
                              .join(employers, employers.c.id == jobs.c.employer_id).where(*where)
                              .order_by(jobs.c.created_at.desc(), jobs.c.id.desc()), wanted)


async def cities(conn: AsyncConnection, today: dt.date) -> list[str]:
    return list((await conn.execute(
        sa.select(jobs.c.city).join(employers, employers.c.id == jobs.c.employer_id)
        .where(*_public(today)).distinct().order_by(jobs.c.city))).scalars())
