"""学生档案: one student's whole file for the staff in scope. The record and the state of
every procedure, with links to each item's own page, and one timeline: every audit row
about the student or one of their items, and every notice they were sent."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..applications.service import APPLICATION_FLOW
from ..audit_browser.labels import action_label, describe, entity_label, state_change
from ..destinations.codes import label as destination_label
from ..destinations.service import SOURCE_LABELS
from ..destinations.tables import graduate_destinations as gd
from ..interviews.service import INTERVIEW_FLOW
from ..registration.flows import REGISTRATION_FLOW
from ..registration.tables import registrations as reg
from ..reviews.flows import ORIGIN_FLOW, RECOMMENDATION_FLOW
from ..reviews.tables import origin_records as o, recommendations as rec
from ..signing.flows import STATE_LABELS as AGREEMENT_LABELS
from ..signing.tables import agreements as ag
from ..tables import (accounts, applications, audit_log, colleges, employers, interviews,
                      jobs, majors, notices, schools, student_records as sr)
from ..termination.flows import TERMINATION_FLOW
from ..termination.tables import termination_requests as tr
from .filters import Scope

TIMELINE_MAX = 500   # the newest events shown; a file is read, not mined


@dataclass
class Event:
    at: dt.datetime
    what: str
    detail: str = ""
    who: str = ""
    route: str | None = None     # the item's page, when staff have one
    parts: dict[str, str] = field(default_factory=dict)


@dataclass
class StudentFile:
    record: Any
    account: Any
    origin: Any
    recommendation: Any
    agreements: list[Any]
    registration: Any
    destination: Any
    terminations: list[Any]
    applications: list[Any]
    interviews: list[Any]
    timeline: list[Event]

    def label(self, flow: str, state: str | None) -> str:
        return LABELS.get(flow, {}).get(state or "", state or "")

    @property
    def destination_text(self) -> str:
        return destination_text(self.destination)


# entity → (the staff page of one item, its URL part); items with no staff page get none
ITEM_PAGES = {"origin": ("origin_review", "origin_id"),
              "recommendation": ("recommendation_review", "rec_id"),
              "agreement": ("agreement_review", "agreement_id"),
              "registration": ("registration_review", "reg_id"),
              "termination": ("termination_review", "request_id")}


async def build(conn: AsyncConnection, scope: Scope, record_id: int, *,
                with_timeline: bool = True) -> StudentFile | None:
    record = (await conn.execute(
        sa.select(sr, schools.c.name.label("school_name"), colleges.c.name.label("college_name"),
                  majors.c.name.label("major_name"))
        .join(schools, schools.c.id == sr.c.school_id)
        .join(colleges, colleges.c.id == sr.c.college_id)
        .join(majors, majors.c.id == sr.c.major_id)
        .where(sr.c.id == record_id, *scope.where()))).first()
    if record is None:
        return None
    account = None
    if record.account_id is not None:
        account = (await conn.execute(
            sa.select(accounts.c.id, accounts.c.email, accounts.c.phone, accounts.c.created_at,
                      accounts.c.is_active).where(accounts.c.id == record.account_id))).first()

    async def one(table: sa.Table) -> Any:
        return (await conn.execute(sa.select(table).where(
            table.c.student_record_id == record_id))).first()

    origin, recommendation, registration = await one(o), await one(rec), await one(reg)
    destination = await one(gd)
    agreement_rows = list(await conn.execute(
        sa.select(ag.c.id, ag.c.channel, ag.c.status, ag.c.number, ag.c.created_at,
                  ag.c.effective_at, ag.c.ended_at, ag.c.data["unit_name"].as_string().label("unit"),
                  employers.c.name.label("employer_name"))
        .outerjoin(employers, employers.c.id == ag.c.employer_id)
        .where(ag.c.student_record_id == record_id).order_by(ag.c.id.desc())))
    termination_rows = list(await conn.execute(
        sa.select(tr).where(tr.c.student_record_id == record_id).order_by(tr.c.id.desc())))
    application_rows, interview_rows = [], []
    if account is not None:
        application_rows = list(await conn.execute(
            sa.select(applications.c.id, applications.c.status, applications.c.created_at,
                      jobs.c.title, employers.c.name.label("employer_name"))
            .join(jobs, jobs.c.id == applications.c.job_id)
            .join(employers, employers.c.id == jobs.c.employer_id)
            .where(applications.c.account_id == account.id).order_by(applications.c.id.desc())))
        interview_rows = list(await conn.execute(
            sa.select(interviews.c.id, interviews.c.status, interviews.c.starts_at,
                      interviews.c.outcome, jobs.c.title, employers.c.name.label("employer_name"))
            .join(applications, applications.c.id == interviews.c.application_id)
            .join(jobs, jobs.c.id == applications.c.job_id)
            .join(employers, employers.c.id == jobs.c.employer_id)
            .where(interviews.c.account_id == account.id).order_by(interviews.c.starts_at.desc())))
    found = StudentFile(record=record, account=account, origin=origin,
                        recommendation=recommendation, agreements=agreement_rows,
                        registration=registration, destination=destination,
                        terminations=termination_rows, applications=application_rows,
                        interviews=interview_rows, timeline=[])
    if with_timeline:
        found.timeline = await _timeline(conn, items_of(found), account.id if account else None)
    return found


def items_of(f: StudentFile) -> dict[str, list[int]]:
    """The student's record and every item of theirs, by audit entity: what their timeline
    (and 操作日志's 学生 filter) reads the audit rows of."""
    return {"student_record": [f.record.id], "origin": [f.origin.id] if f.origin else [],
            "recommendation": [f.recommendation.id] if f.recommendation else [],
            "registration": [f.registration.id] if f.registration else [],
            "agreement": [r.id for r in f.agreements],
            "termination": [r.id for r in f.terminations],
            "application": [r.id for r in f.applications],
            "interview": [r.id for r in f.interviews],
            "account": [f.account.id] if f.account else []}


async def _timeline(conn: AsyncConnection, items: dict[str, list[int]],
                    account_id: int | None) -> list[Event]:
    pairs = [sa.and_(audit_log.c.entity == entity, audit_log.c.entity_id.in_([str(i) for i in ids]))
             for entity, ids in items.items() if ids]
    actor = accounts.alias("actor")
    events = []
    for row in await conn.execute(
            sa.select(audit_log, actor.c.display_name.label("actor_name"))
            .outerjoin(actor, actor.c.id == audit_log.c.actor_id)
            .where(sa.or_(*pairs)).order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
            .limit(TIMELINE_MAX)):
        detail = "；".join(part for part in (
            state_change(row.entity, row.from_state, row.to_state),
            f"理由：{row.reason}" if row.reason else "", describe(row.detail)) if part)
        route, key = ITEM_PAGES.get(row.entity, (None, ""))
        action = action_label(row.action)   # a flow's action reads "生源信息·通过" already
        what = action if "·" in action else f"{entity_label(row.entity)}·{action}"
        events.append(Event(at=row.at, what=what,
                            detail=detail, who=row.actor_name or "系统",
                            route=route, parts={key: row.entity_id} if route else {}))
    if account_id is not None:
        for row in await conn.execute(
                sa.select(notices.c.title, notices.c.created_at).where(
                    notices.c.account_id == account_id)
                .order_by(notices.c.created_at.desc()).limit(TIMELINE_MAX)):
            events.append(Event(at=row.created_at, what="站内通知", detail=row.title, who="系统"))
    events.sort(key=lambda e: e.at, reverse=True)
    return events[:TIMELINE_MAX]


LABELS = {"application": APPLICATION_FLOW.state_labels, "interview": INTERVIEW_FLOW.state_labels,
          "origin": ORIGIN_FLOW.state_labels, "recommendation": RECOMMENDATION_FLOW.state_labels,
          "registration": REGISTRATION_FLOW.state_labels, "termination": TERMINATION_FLOW.state_labels,
          "agreement": AGREEMENT_LABELS}


def destination_text(row: Any) -> str:
    if row is None:
        return "70 待就业（未落实毕业去向）"
    return f"{row.code} {destination_label(row.code)}（{SOURCE_LABELS.get(row.source, row.source)}）"
