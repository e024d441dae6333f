"""Applying, withdrawing, and what the employer sees.

An application keeps a snapshot of the default resume as it was sent (and a copy of an
attached file), so later edits or deletions never change what the employer received.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import files
from ..clock import china_date
from ..db import for_accounts
from ..workflow import Actor, Flow, NotAllowed, Step, transition
from ..notify import notices
from ..resumes import service as resumes
from ..roles import Role
from ..tables import (accounts, applications, colleges, employers, jobs, majors, schools,
                      student_records)
from ..uploads import FileStore
from ..jobs.service import is_open


class ApplicationState(enum.StrEnum):
    NEW = "new"
    VIEWED = "viewed"
    INVITED = "invited"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


STUDENT = frozenset({Role.STUDENT})
EMPLOYER = frozenset({Role.EMPLOYER})
APPLICATION_FLOW = Flow(
    name="application", label="投递", states=ApplicationState, initial=ApplicationState.NEW, table=applications,
    state_labels={ApplicationState.NEW: "新投递", ApplicationState.VIEWED: "已查看",
            ApplicationState.INVITED: "已邀请面试", ApplicationState.REJECTED: "不合适",
            ApplicationState.WITHDRAWN: "已撤回"},
    action_labels={"view": "查看", "reject": "标记不合适", "invite": "邀请面试",
                   "withdraw": "撤回", "reapply": "重新投递"},
    steps=(
        Step(ApplicationState.NEW, "view", ApplicationState.VIEWED, EMPLOYER),
        Step(ApplicationState.NEW, "reject", ApplicationState.REJECTED, EMPLOYER),
        Step(ApplicationState.VIEWED, "reject", ApplicationState.REJECTED, EMPLOYER),
        Step(ApplicationState.VIEWED, "invite", ApplicationState.INVITED, EMPLOYER),
        Step(ApplicationState.INVITED, "reject", ApplicationState.REJECTED, EMPLOYER),
        Step(ApplicationState.NEW, "withdraw", ApplicationState.WITHDRAWN, STUDENT),
        Step(ApplicationState.WITHDRAWN, "reapply", ApplicationState.NEW, STUDENT),
    ))


async def student_card(conn: AsyncConnection, account_id: int) -> dict[str, Any]:
    row = (await conn.execute(
        sa.select(student_records.c.name, student_records.c.student_no,
                  student_records.c.education, student_records.c.graduation_year,
                  schools.c.name.label("school"), colleges.c.name.label("college"),
                  majors.c.name.label("major"), accounts.c.email, accounts.c.phone)
        .join(schools, schools.c.id == student_records.c.school_id)
        .join(colleges, colleges.c.id == student_records.c.college_id)
        .join(majors, majors.c.id == student_records.c.major_id)
        .join(accounts, accounts.c.id == student_records.c.account_id)
        .where(student_records.c.account_id == account_id))).one()
    return dict(row._mapping)


async def apply(conn: AsyncConnection, store: FileStore, *, job_id: int, account_id: int,
                now: dt.datetime) -> int:
    job = (await conn.execute(sa.select(jobs).where(jobs.c.id == job_id))).first()
    if job is None or not is_open(job, china_date(now)):
        raise NotAllowed("该岗位已停止接收简历")
    resume = await resumes.default_for(conn, account_id)
    if resume is None:
        raise NotAllowed("请先在【简历管理】中完善简历并设置默认简历")
    snapshot = {"student": await student_card(conn, account_id),
                "resume": {"kind": resume.kind, "title": resume.title, "data": resume.data},
                "sent_at": now.isoformat()}
    file_copy = None
    if resume.file_id:
        file_copy = await files.copy(conn, store, resume.file_id, files.FileKind.APPLICATION, now)
    existing = (await conn.execute(sa.select(applications).where(
        applications.c.job_id == job_id, applications.c.account_id == account_id))).first()
    values = {"snapshot": snapshot, "snapshot_file_id": file_copy, "updated_at": now,
              "viewed_at": None}
    if existing is not None:
        if existing.status != ApplicationState.WITHDRAWN:
            raise NotAllowed("你已投递过该岗位")
        await transition(conn, APPLICATION_FLOW, existing.id, "reapply", actor=Actor(account_id, Role.STUDENT),
                         at=now, values=values)
        app_id = existing.id
    else:
        app_id = (await conn.execute(for_accounts(applications.insert(), account_id).values(
            job_id=job_id, account_id=account_id, status=ApplicationState.NEW, created_at=now,
            **values).returning(applications.c.id))).scalar_one()
    for employer_account in (await conn.execute(sa.select(accounts.c.id).where(
            accounts.c.employer_id == job.employer_id))).scalars():
        await notices.add(conn, account_id=employer_account, at=now,
                          title=f"“{job.title}”收到新的简历：{snapshot['student']['name']}",
                          link=f"/employer/applications/{app_id}")
    return app_id


async def withdraw(conn: AsyncConnection, application_id: int, account_id: int,
                   now: dt.datetime) -> None:
    if await mine(conn, application_id, account_id) is None:
        raise NotAllowed("记录不存在")
    await transition(conn, APPLICATION_FLOW, application_id, "withdraw", actor=Actor(account_id, Role.STUDENT),
                     at=now, values={"updated_at": now})


async def mine(conn: AsyncConnection, application_id: int, account_id: int) -> sa.Row | None:
    return (await conn.execute(sa.select(applications).where(
        applications.c.id == application_id, applications.c.account_id == account_id))).first()


async def for_student(conn: AsyncConnection, account_id: int) -> list[sa.Row]:
    return list(await conn.execute(
        sa.select(applications.c.id, applications.c.status, applications.c.created_at,
                  applications.c.job_id, jobs.c.title, jobs.c.city,
                  employers.c.name.label("employer_name"))
        .join(jobs, jobs.c.id == applications.c.job_id)
        .join(employers, employers.c.id == jobs.c.employer_id)
        .where(applications.c.account_id == account_id)
        .order_by(applications.c.updated_at.desc())))


async def applied_job_ids(conn: AsyncConnection, account_id: int) -> set[int]:
    return set((await conn.execute(sa.select(applications.c.job_id).where(
        applications.c.account_id == account_id,
        applications.c.status != ApplicationState.WITHDRAWN))).scalars())


async def employers_application(conn: AsyncConnection, application_id: int,
                                employer_id: int) -> sa.Row | None:
    """An application only if it was sent to one of this employer's jobs."""
    return (await conn.execute(
        sa.select(applications, jobs.c.title.label("job_title"))
        .join(jobs, jobs.c.id == applications.c.job_id)
        .where(applications.c.id == application_id, jobs.c.employer_id == employer_id,
               applications.c.status != ApplicationState.WITHDRAWN))).first()


async def open_as_employer(conn: AsyncConnection, row: sa.Row, *, actor_id: int,
                           now: dt.datetime) -> None:
    """Opening a new application marks it 已查看 (and ends the student's right to withdraw)."""
    if row.status == ApplicationState.NEW:
        await transition(conn, APPLICATION_FLOW, row.id, "view", actor=Actor(actor_id, Role.EMPLOYER),
                         at=now, values={"viewed_at": now, "updated_at": now})
        await notices.add(conn, account_id=row.account_id, at=now, link="/student/applications",
                          title=f"你投递的“{row.job_title}”简历已被查看")


async def reject(conn: AsyncConnection, row: sa.Row, *, actor_id: int, now: dt.datetime) -> None:
    await transition(conn, APPLICATION_FLOW, row.id, "reject", actor=Actor(actor_id, Role.EMPLOYER),
                     at=now, values={"updated_at": now})
    await notices.add(conn, account_id=row.account_id, at=now, link="/student/applications",
                      title=f"你投递的“{row.job_title}”暂不合适，感谢关注")
