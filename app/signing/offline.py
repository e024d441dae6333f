"""8.3 线下签约: the student enters the agreement (【录入协议书】), previews it, sends it to
the employer for confirmation (a registered unit in its 单位中心, any other through a mailed
link), 【保存并生成协议书】 numbers it, and after
signing and stamping uploads it for the school's review."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import audit, files, workflow
from ..auth.sessions import Identity
from ..forms import FormError
from ..notify import emails
from ..ratelimit import take_in
from ..roles import Role
from ..security import sign, token_hash, unsign
from ..tables import employers, student_records
from ..uploads import FileStore
from . import fields
from .flows import EDITABLE_OFFLINE, OFFLINE_FLOW, AgreementState
from .service import actor, item, lock_student, number_values, select, why_busy
from .tables import agreements

ag, sr = agreements, student_records
CONFIRM_PURPOSE = "agreement-confirm"
CONFIRM_DAYS = 7
# 发给单位确认 mails an address the student typed: at most this many an hour
CONFIRM_MAIL_WINDOW = 3600
CONFIRM_MAILS_PER_STUDENT, CONFIRM_MAILS_PER_ADDRESS = 5, 3
MAX_SCANS = 4  # the paper agreement has up to 4 pages; also app/bodies.MAX_FILE_PARTS


async def mine(conn: AsyncConnection, ident: Identity) -> list[sa.Row]:
    return list(await conn.execute(select().where(sr.c.account_id == ident.account_id,
                                                  ag.c.channel == "offline")
                                   .order_by(ag.c.created_at.desc()).limit(100)))


async def open_draft(conn: AsyncConnection, ident: Identity) -> sa.Row | None:
    """The student's offline agreement still being entered, if any (one at a time)."""
    return (await conn.execute(select().where(
        sr.c.account_id == ident.account_id, ag.c.channel == "offline",
        ag.c.status.in_([s.value for s in EDITABLE_OFFLINE])).limit(1))).first()


async def _employer_id_for(conn: AsyncConnection, credit_code: str) -> int | None:
    """A registered employer with this credit code is party to the agreement (单位中心 shows it)."""
    if not credit_code:
        return None
    return (await conn.execute(sa.select(employers.c.id).where(
        employers.c.credit_code == credit_code))).scalar()


async def save(conn: AsyncConnection, ident: Identity, student: sa.Row, raw: Mapping[str, str], *,
               agreement_id: int | None, complete: bool, now: dt.datetime) -> int:
    """【录入协议书】 / edit: keep a draft (format checks only) or, for 【预览协议书】, a complete one.
    Changing what the employer confirmed sends it back to 录入中. Raises FormError."""
    values, errors = fields.clean(raw, complete=complete)
    if errors:
        raise FormError(errors)
    await lock_student(conn, student.id)
    employer_id = await _employer_id_for(conn, values.get("credit_code", ""))
    if agreement_id is None:
        busy = await why_busy(conn, student.id)
        if busy:
            raise FormError({"_form": busy})
        if await open_draft(conn, ident) is not None:
            raise FormError({"_form": "您已有一份正在录入的协议书，请在线下签约页面继续编辑"})
        new_id = (await conn.execute(ag.insert().values(
            channel="offline", status=AgreementState.DRAFT.value, student_record_id=student.id,
            school_id=student.school_id, college_id=student.college_id, employer_id=employer_id,
            created_by=ident.account_id, data=values, scans=[], created_at=now,
            updated_at=now).returning(ag.c.id))).scalar_one()
        await audit.record(conn, at=now, actor_id=ident.account_id, action="agreement.create",
                           entity="agreement", entity_id=new_id, to_state=AgreementState.DRAFT.value,
                           detail={"role": ident.role.value})
        return new_id
    row = await item(conn, ident, agreement_id)
    if row is None or row.channel != "offline":
        raise FormError({"_form": "协议书不存在"})
    if row.status not in EDITABLE_OFFLINE:
        raise FormError({"_form": f"当前状态为“{OFFLINE_FLOW.state_label(row.status)}”，不能修改"})
    update = {"data": values, "employer_id": employer_id, "updated_at": now}
    if values != row.data and row.status != AgreementState.DRAFT:
        await workflow.transition(conn, OFFLINE_FLOW, row.id, "edit", actor=actor(ident), at=now,
                                  values={**update, "confirm_token_hash": None,
                                          "confirm_expires_at": None})
    else:
        await conn.execute(ag.update().where(ag.c.id == row.id, ag.c.status == row.status)
                           .values(**update))
    return row.id


def _missing(row: sa.Row) -> dict[str, str]:
    return fields.clean(row.data or {}, complete=True)[1]


async def send_for_confirmation(conn: AsyncConnection, ident: Identity, agreement_id: int, *,
                                secret_key: str, base_url: str, now: dt.datetime) -> str | None:
    """发给单位确认. The confirmation must come from the unit itself: when the 统一社会信用代码
    belongs to a registered employer, the agreement goes to that employer's 单位中心 (its
    accounts are told by the flow) and only it can confirm; the typed email is not used,
    since whoever typed it could be the student. Only an unregistered unit gets a mailed,
    signed, single-use link (a new one voids the old), and the agreement says so on the
    verification page ("单位未注册，经邮件确认")."""
    row = await item(conn, ident, agreement_id)
    if row is None or row.channel != "offline":
        return None
    if _missing(row):
        raise workflow.NotAllowed("协议书尚未填写完整，请先编辑并【预览协议书】")
    # bounded per student, and a mailed link per address too, counted in this transaction
    # (a refusal writes nothing, the count included)
    limits = {f"confirm-mail:account:{ident.account_id}": CONFIRM_MAILS_PER_STUDENT}
    if row.employer_id is None:
        limits[f"confirm-mail:to:{row.data['email'].strip().lower()}"] = CONFIRM_MAILS_PER_ADDRESS
    if not await take_in(conn, now, CONFIRM_MAIL_WINDOW, limits):
        raise workflow.NotAllowed("发送过于频繁：每小时最多发送 "
                                  f"{CONFIRM_MAILS_PER_STUDENT} 次（同一邮箱 "
                                  f"{CONFIRM_MAILS_PER_ADDRESS} 次），请稍后再试")
    if row.employer_id is not None:
        return await workflow.transition(
            conn, OFFLINE_FLOW, row.id, "send", actor=actor(ident), at=now,
            values={"confirm_token_hash": None, "updated_at": now, "confirm_used_at": None,
                    "confirm_expires_at": None})
    token = sign(secret_key, CONFIRM_PURPOSE, {"a": row.id, "n": secrets.token_hex(8)},
                 CONFIRM_DAYS * 86400)
    state = await workflow.transition(
        conn, OFFLINE_FLOW, row.id, "send", actor=actor(ident), at=now,
        values={"confirm_token_hash": token_hash(token), "updated_at": now, "confirm_used_at": None,
                "confirm_expires_at": now + dt.timedelta(days=CONFIRM_DAYS)})
    await emails.enqueue(conn, to=row.data["email"], template="agreement_confirm", at=now, context={
        "unit_name": row.data["unit_name"], "student_name": row.student_name,
        "school_name": row.school_name, "link": f"{base_url}/agreements/confirm/{token}",
        "days": CONFIRM_DAYS})
    return state


@dataclass(frozen=True)
class ConfirmLink:
    row: sa.Row | None
    problem: str | None     # why the link cannot be used, for the page


async def by_confirm_token(conn: AsyncConnection, token: str, *, secret_key: str,
                           now: dt.datetime) -> ConfirmLink:
    token = token[:600]
    payload = unsign(secret_key, CONFIRM_PURPOSE, token)
    row = (await conn.execute(select().where(ag.c.confirm_token_hash == token_hash(token)))).first()
    if row is None:
        if payload is None:
            return ConfirmLink(None, "链接无效：请使用邮件中的完整链接")
        return ConfirmLink(None, "该链接已失效：学生已修改协议书或发送了新的确认链接")
    if row.confirm_used_at is not None:
        return ConfirmLink(row, "该链接已使用过，协议书已确认或已退回学生修改")
    if row.employer_id is not None:  # registered since: only its 单位中心 may answer
        return ConfirmLink(row, "该单位已在本网注册，请登录单位中心确认协议书")
    if payload is None or (row.confirm_expires_at is not None and row.confirm_expires_at < now):
        return ConfirmLink(row, "该链接已过期，请联系学生重新发送")
    if row.status != AgreementState.AWAITING_EMPLOYER:
        return ConfirmLink(row, f"协议书当前状态为“{OFFLINE_FLOW.state_label(row.status)}”，无需确认")
    return ConfirmLink(row, None)


async def employer_answer(conn: AsyncConnection, token: str, action: str, comment: str, *,
                          secret_key: str, now: dt.datetime) -> tuple[str | None, str | None]:
    """确认无误 or 需要修改 through the mailed link (no login). (new state, problem)."""
    link = await by_confirm_token(conn, token, secret_key=secret_key, now=now)
    if link.problem or link.row is None:
        return None, link.problem
    if action not in ANSWERS:
        return None, "未知的操作"
    # Used at once in the same write: a second click (or a replay) finds confirm_used_at set.
    used = await conn.execute(ag.update().where(ag.c.id == link.row.id,
                                                ag.c.confirm_used_at.is_(None),
                                                ag.c.confirm_token_hash == token_hash(token[:600]))
                              .values(confirm_used_at=now))
    if used.rowcount != 1:
        return None, "该链接已使用过"
    return await _answer(conn, link.row.id, action, comment, workflow.Actor(None, Role.EMPLOYER),
                         now), None


async def employer_confirm(conn: AsyncConnection, ident: Identity, agreement_id: int, action: str,
                           comment: str, *, now: dt.datetime) -> str | None:
    """确认无误 or 需要修改 in a registered employer's 单位中心 (its own agreements only)."""
    row = await item(conn, ident, agreement_id)
    if row is None or row.channel != "offline":
        return None
    if action not in ANSWERS:
        raise workflow.TransitionError("未知的操作")
    errors = answer_errors(action, comment)
    if errors:
        raise FormError(errors)
    return await _answer(conn, row.id, action, comment, actor(ident), now)


ANSWERS = ("confirm", "ask_changes")


def answer_errors(action: str, comment: str) -> dict[str, str]:
    """需要修改 says what: the student has to know what to change."""
    if action == "ask_changes" and not comment.strip():
        return {"comment": "请填写需要修改的内容"}
    return {}


async def _answer(conn: AsyncConnection, agreement_id: int, action: str, comment: str,
                  by: workflow.Actor, now: dt.datetime) -> str:
    comment = comment.strip()[:500] or None
    return await workflow.transition(conn, OFFLINE_FLOW, agreement_id, action, actor=by, at=now,
                                     reason=comment,
                                     values={"employer_comment": comment, "updated_at": now})


async def generate(conn: AsyncConnection, ident: Identity, agreement_id: int, *,
                   now: dt.datetime) -> str | None:
    """【保存并生成协议书】: only what the employer confirmed; assigns the number."""
    row = await item(conn, ident, agreement_id)
    if row is None or row.channel != "offline":
        return None
    await lock_student(conn, row.student_record_id)
    busy = await why_busy(conn, row.student_record_id, besides=row.id)
    if busy:
        raise workflow.NotAllowed(busy)
    return await workflow.transition(
        conn, OFFLINE_FLOW, row.id, "generate", actor=actor(ident), at=now,
        values={**await number_values(conn, row), "generated_at": now, "updated_at": now})


async def upload_scans(conn: AsyncConnection, store: FileStore, ident: Identity, agreement_id: int,
                       scans: Sequence[files.Upload], *, now: dt.datetime) -> str | None:
    """The signed and stamped agreement: several photos or one PDF (already checked by content)."""
    row = await item(conn, ident, agreement_id)
    if row is None or row.channel != "offline":
        return None
    if not scans:
        raise workflow.TransitionError("请选择盖章后的协议书照片或PDF", field="scans")
    if len(scans) > MAX_SCANS:
        raise workflow.TransitionError(f"最多上传{MAX_SCANS}张照片", field="scans")
    if any(s.content_type == "application/pdf" for s in scans) and len(scans) > 1:
        raise workflow.TransitionError("请上传多张照片，或一个PDF文件", field="scans")
    ids = [await files.save(conn, store, owner_id=ident.account_id, kind=files.FileKind.AGREEMENT_SCAN,
                            display_name=s.display_name, content_type=s.content_type, data=s.data,
                            now=now) for s in scans]
    return await workflow.transition(conn, OFFLINE_FLOW, row.id, "upload", actor=actor(ident),
                                     at=now, values={"scans": ids, "updated_at": now})


async def cancel(conn: AsyncConnection, ident: Identity, agreement_id: int, *,
                 now: dt.datetime) -> str | None:
    row = await item(conn, ident, agreement_id)
    if row is None or row.channel != "offline":
        return None
    return await workflow.transition(conn, OFFLINE_FLOW, row.id, "cancel", actor=actor(ident),
                                     at=now, values={"updated_at": now, "ended_at": now,
                                                     "confirm_token_hash": None})
