"""Test data for 解约中心: an effective online agreement made over HTTP (invite → agree →
counselor → school admin), uploads, and small readers."""

from __future__ import annotations

import datetime as dt

import aiohttp
import sqlalchemy as sa

from app import files, workflow
from app.auth.sessions import Identity
from app.clock import china_date
from app.db import Database
from app.roles import Role
from app.signing import offline, online, review
from app.signing.flows import OFFLINE_FLOW
from app.termination.tables import termination_requests
from app.tables import audit_log, student_records
from app.uploads import FileStore
from tests.registration_helpers import PDF_BYTES, png_bytes
from tests.signing_kit import AGREEMENT, agreement_id_from, as_user, invite_form, ready_student

__all__ = ["PDF_BYTES", "png_bytes", "effective", "apply", "force", "audit_rows", "requests",
           "agree_new", "identity", "invite_by_service", "approve_by_service", "offline_generated",
           "offline_effective"]


async def agree_new(student, employer, world, clock) -> int:  # noqa: ANN001
    """The employer invites the student, who agrees → the agreement's id (in college review)."""
    until = (china_date(clock.now()) + dt.timedelta(days=7)).isoformat()
    await employer.get("/employer/agreements/new")
    resp = await employer.post("/employer/agreements/new", invite_form(world, valid_until=until))
    assert resp.status == 303, await resp.text()
    aid = agreement_id_from(resp.headers["Location"])
    resp = await student.post(f"/student/signing/online/{aid}/answer", {"action": "agree", "opinion": "同意"})
    assert resp.status == 303, await resp.text()
    return aid


async def effective(make_client, world, settings, clock):  # noqa: ANN001, ANN201
    """A ready student with an effective online agreement → (student, employer, agreement id)."""
    await ready_student(settings.database_url, world, clock.now())
    student = await as_user(make_client, "student", world.active_student().email)
    employer = await as_user(make_client, "employer", "employer")
    aid = await agree_new(student, employer, world, clock)
    for username in ("counselor0", "school_admin0"):
        staff = await as_user(make_client, "staff", username)
        assert (await staff.post(f"/reviews/agreements/{aid}", {"action": "approve"})).status == 303
    return student, employer, aid


async def apply(client, prefix: str, aid: int, *, reason_code: str = "personal_study",  # noqa: ANN001
                reason_text: str = "考取研究生，单位同意解约，违约金已结清",
                letter: tuple[str, bytes] | None = ("解约函.png", None)):  # type: ignore[assignment]
    """【提交】 a 解约申请 as a multipart form (a PNG 解约函 unless told otherwise)."""
    form = aiohttp.FormData()
    form.add_field("_csrf", client.csrf())
    form.add_field("reason_code", reason_code)
    form.add_field("reason_text", reason_text)
    if letter is not None:
        name, data = letter
        form.add_field("letter", data if data is not None else png_bytes(), filename=name,
                       content_type="application/octet-stream")
    return await client.client.post(f"/{prefix}/termination/apply/{aid}", data=form,
                                    allow_redirects=False)


async def force(client, number: str, reason: str = "单位已出具书面解约证明",  # noqa: ANN001
                proof: tuple[str, bytes] | None = ("证明.pdf", PDF_BYTES)):
    form = aiohttp.FormData()
    form.add_field("_csrf", client.csrf())
    form.add_field("number", number)
    form.add_field("reason", reason)
    if proof is not None:
        form.add_field("proof", proof[1], filename=proof[0], content_type="application/octet-stream")
    return await client.client.post("/school/termination/force", data=form, allow_redirects=False)


async def audit_rows(database_url: str, entity: str, entity_id: int) -> list[sa.Row]:
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return list(await conn.execute(sa.select(audit_log).where(
                audit_log.c.entity == entity, audit_log.c.entity_id == str(entity_id))
                .order_by(audit_log.c.id)))
    finally:
        await db.dispose()


async def requests(database_url: str) -> list[sa.Row]:
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return list(await conn.execute(sa.select(termination_requests)
                                           .order_by(termination_requests.c.id)))
    finally:
        await db.dispose()


def identity(world, username: str, role: Role, employer_id: int | None = None):  # noqa: ANN001, ANN201
    """The identity of a world account, for calling services directly."""
    school = world.schools[0]
    account_id = world.staff[username][1] if username in world.staff else username
    return Identity(account_id=account_id, role=role, display_name=str(username),
                    school_id=None if role in (Role.EMPLOYER, Role.PLATFORM_ADMIN) else school.id,
                    college_id=school.college_ids[0], employer_id=employer_id, session_hash="")


async def invite_by_service(database_url: str, world, employer, now: dt.datetime,  # noqa: ANN001
                            *, agree: bool = False, approve: bool = False) -> int:
    """An online invitation through the signing services (optionally agreed and approved)."""
    db = Database(database_url)
    student = identity(world, world.active_student().account_id, Role.STUDENT)
    try:
        async with db.write() as conn:
            until = (china_date(now) + dt.timedelta(days=7)).isoformat()
            aid = await online.invite(conn, employer, invite_form(world, valid_until=until), now=now)
            if agree:
                await online.answer(conn, student, aid, "agree", opinion="同意", now=now)
        if approve:
            await approve_by_service(database_url, world, aid, now)
        return aid
    finally:
        await db.dispose()


async def approve_by_service(database_url: str, world, aid: int, now: dt.datetime) -> None:  # noqa: ANN001
    """The counselor's and the school admin's approvals of an agreed agreement → effective."""
    db = Database(database_url)
    try:
        async with db.write() as conn:
            for name, role in (("counselor0", Role.COUNSELOR), ("school_admin0", Role.SCHOOL_ADMIN)):
                await review.decide(conn, identity(world, name, role), aid, "approve",
                                    reason=None, now=now)
    finally:
        await db.dispose()


async def offline_generated(database_url: str, world, now: dt.datetime) -> int:  # noqa: ANN001
    """A 线下签约 agreement (the unit has no account) confirmed by mail and generated:
    numbered, to print, stamp and upload."""
    student = world.active_student()
    me = identity(world, student.account_id, Role.STUDENT)
    db = Database(database_url)
    try:
        async with db.write() as conn:
            record = (await conn.execute(sa.select(student_records).where(
                student_records.c.id == student.record_id))).one()
            aid = await offline.save(conn, me, record, AGREEMENT, agreement_id=None, complete=True, now=now)
            await offline.send_for_confirmation(conn, me, aid, secret_key="k", base_url="http://x", now=now)
            await workflow.transition(conn, OFFLINE_FLOW, aid, "confirm", at=now,
                                      actor=workflow.Actor(None, Role.EMPLOYER))
            await offline.generate(conn, me, aid, now=now)
        return aid
    finally:
        await db.dispose()


async def offline_effective(database_url: str, world, data_dir, now: dt.datetime) -> int:  # noqa: ANN001
    """offline_generated, then the stamped scan uploaded and approved: effective."""
    aid = await offline_generated(database_url, world, now)
    me = identity(world, world.active_student().account_id, Role.STUDENT)
    db = Database(database_url)
    try:
        async with db.write() as conn:
            await offline.upload_scans(conn, FileStore(data_dir), me, aid,
                                       [files.Upload("p.pdf", "application/pdf", PDF_BYTES)], now=now)
            await review.decide(conn, identity(world, "school_admin0", Role.SCHOOL_ADMIN), aid,
                                "approve", reason=None, now=now)
        return aid
    finally:
        await db.dispose()
