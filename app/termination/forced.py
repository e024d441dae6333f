"""9.2 管理员强制解约: a school admin (own school) or a platform admin (any school) finds an
effective agreement by its student's 学号 or 姓名 (or its number) and ends it with a reason
and the uploaded paper proof. The effect is the approved application's (service.terminate);
the audit row says it was forced and keeps the proof's file id, and an open application of
that agreement is closed as superseded."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import files, paging, workflow
from ..auth.sessions import Identity
from ..forms import FormError
from ..roles import Role
from ..signing import service as signing
from ..signing.flows import STATE_LABELS as AGREEMENT_LABELS
from ..signing.flows import AgreementState, flow_of
from ..signing.tables import agreements as ag
from ..tables import colleges, employers, schools, student_records as sr
from ..uploads import FileStore
from .flows import OPEN, TERMINATION_FLOW, TermState
from ..files import Upload
from .service import REASON_MAX, lock_agreement, open_request, tell_parties, terminate
from .tables import termination_requests as tr


def _matches() -> sa.Select:
    """The agreements a 强制解约 can be for, one row each, narrow (no JSON but the unit's name)."""
    return (sa.select(ag.c.id, ag.c.number, ag.c.effective_at,
                      ag.c.data["unit_name"].as_string().label("unit_name"),
                      sr.c.id.label("record_id"), sr.c.student_no, sr.c.name.label("student_name"),
                      schools.c.name.label("school_name"), colleges.c.name.label("college_name"),
                      employers.c.name.label("employer_name"),
                      tr.c.status.label("request_status"))
            .join(sr, sr.c.id == ag.c.student_record_id)
            .join(schools, schools.c.id == ag.c.school_id)
            .join(colleges, colleges.c.id == ag.c.college_id)
            .outerjoin(employers, employers.c.id == ag.c.employer_id)
            # the one open 解约申请 an agreement may have (a unique index), which a 强制解约
            # closes as superseded: the admin sees it before choosing
            .outerjoin(tr, sa.and_(tr.c.agreement_id == ag.c.id,
                                   tr.c.status.in_([s.value for s in OPEN if s != TermState.DRAFT])))
            .where(ag.c.status == AgreementState.EFFECTIVE.value))


async def search(conn: AsyncConnection, ident: Identity, wanted: paging.Params) -> paging.Page:
    """The effective agreements of the students whose 学号 or 姓名 (or the agreement whose
    编号) holds every word of ?q=, in the admin's scope: a school admin's own school, a
    platform admin's every school."""
    if ident.role not in (Role.SCHOOL_ADMIN, Role.PLATFORM_ADMIN):
        raise workflow.NotAllowed("只有学校管理员或平台管理员可以强制解约")
    return await paging.fetch(conn, _matches().where(
        signing.scope(ident), paging.matches(wanted.q, sr.c.student_no, sr.c.name, ag.c.number))
        .order_by(sr.c.student_no, ag.c.id), wanted)


async def find_effective(conn: AsyncConnection, ident: Identity, number: str) -> sa.Row:
    """The agreement a 强制解约 is for, by its number, in the admin's scope."""
    number = number.strip()
    if not number:
        raise FormError({"number": "请填写协议书编号"})
    row = (await conn.execute(signing.select().where(ag.c.number == number[:40],
                                                     signing.scope(ident)))).first()
    if row is None:
        raise FormError({"number": "未找到该编号的就业协议书（只能处理本校的协议书）"})
    if row.status != AgreementState.EFFECTIVE:
        raise FormError({"number": f"该协议书当前状态为“{AGREEMENT_LABELS.get(row.status, row.status)}”，"
                                   "只有已生效的协议书可以解约"})
    return row


async def force(conn: AsyncConnection, ident: Identity, number: str, *, reason: str,
                proof: Upload | None, store: FileStore, now: dt.datetime,
                upload_error: str | None = None) -> int:
    """管理员强制解约 → the agreement's id. Raises FormError (nothing written) or StaleState."""
    if ident.role not in (Role.SCHOOL_ADMIN, Role.PLATFORM_ADMIN):
        raise workflow.NotAllowed("只有学校管理员或平台管理员可以强制解约")
    errors = {}
    reason = reason.strip()
    if not reason:
        errors["reason"] = "请填写解约原因"
    elif len(reason) > REASON_MAX:
        errors["reason"] = f"解约原因不能超过{REASON_MAX}字"
    if upload_error:
        errors["proof"] = upload_error
    elif proof is None:
        errors["proof"] = "请上传纸质解约证明的照片或扫描件（JPG、PNG 图片或 PDF）"
    try:
        row = await find_effective(conn, ident, number)
    except FormError as exc:
        errors.update(exc.errors)
    if errors:
        raise FormError(errors)
    await lock_agreement(conn, row.id)
    proof_id = await files.save(conn, store, owner_id=ident.account_id, kind=files.FileKind.TERMINATION,
                                display_name=proof.display_name, content_type=proof.content_type,
                                data=proof.data, now=now)
    await terminate(conn, row, actor=signing.actor(ident), at=now, reason=reason,
                    detail={"forced": True, "proof_file_id": proof_id})
    pending = await open_request(conn, row.id)
    if pending is not None and pending.status != TermState.DRAFT:
        await workflow.transition(conn, TERMINATION_FLOW, pending.id, "supersede",
                                  actor=signing.actor(ident), at=now, reason=reason,
                                  values={"decided_at": now, "updated_at": now})
    await tell_parties(conn, row, f"就业协议书（编号 {row.number}）已由学校管理员办理解约",
                       at=now, body=f"解约原因：{reason}。学生的网签资格已恢复，毕业去向已恢复为待就业。")
    return row.id


async def proof_ids(conn: AsyncConnection, agreement_id: int) -> set[str]:
    """File ids of the paper proofs of this agreement's forced terminations (audit rows)."""
    # Both signing flows audit under "agreement": either one reads the rows.
    entries = await workflow.history(conn, flow_of("online"), agreement_id)
    return {e.detail["proof_file_id"] for e in entries
            if e.action == "terminate" and e.detail and e.detail.get("proof_file_id")}
