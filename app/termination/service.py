"""解约中心: rules and writes. Every read is scoped by the caller through the agreement
(signing.service.scope): a student sees only their agreements, an employer those it is
party to, a counselor their college's, a school admin their school's, a platform admin all.

Termination itself (`terminate`) is one place for both ways in: an approved 解约申请 and a
管理员强制解约 take the agreement's `terminate` step (a conditional UPDATE, so exactly one of
two racing attempts wins) and release the graduate's destination in the same transaction.
Both lock the agreement before the request, so they never deadlock on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import files, workflow
from ..db import dialect_insert
from ..files import Upload
from ..auth.sessions import Identity
from ..clock import china_date
from ..destinations import service as destinations
from ..forms import FormError
from ..notify import emails, notices
from ..roles import Role
from ..school_settings import form as settings_form, service as school_settings
from ..signing import service as signing
from ..signing.flows import STATE_LABELS as AGREEMENT_LABELS
from ..signing.flows import AgreementState, flow_of
from ..signing.tables import agreements
from ..tables import accounts, colleges, employers, student_records
from ..tables import files as stored
from ..uploads import FileStore
from . import codes
from .flows import OPEN, TERMINATION_FLOW, TermState
from .tables import termination_requests as tr

ag, sr = agreements, student_records
PARTY_PAGES = {Role.STUDENT: "/student/termination", Role.EMPLOYER: "/employer/termination"}
REASON_MAX = 500
# The other party is mailed about one side's 解约申请 of an agreement at most once in this
# long: a request withdrawn and submitted again (or returned and resubmitted) within a day is
# the same matter still being put right, and the unit has already been told of it. Each
# submission still lands as a notice in the party's 单位中心 / 签约中心, so nothing is hidden;
# only the mailbox is spared, and a student cycling 提交/撤回 cannot make us mail the unit
# again and again.
MAIL_AGAIN_AFTER = dt.timedelta(hours=24)


# --- the window (a school setting) -------------------------------------------------------------

@dataclass(frozen=True)
class Window:
    """The school's 解约申请 window (China dates; None: no bound on that side)."""
    opens: dt.date | None
    closes: dt.date | None
    why_closed: str | None      # None while applications are open

    @property
    def open(self) -> bool:
        return self.why_closed is None


def _when(day: dt.date) -> str:
    return f"{day:%Y年%m月%d日}"


async def window(conn: AsyncConnection, school_id: int, now: dt.datetime) -> Window:
    settings = await school_settings.load(conn, school_id)
    opens, closes, today = settings.termination_opens, settings.termination_closes, china_date(now)
    why = None
    if not settings.termination_open(today):
        if closes is not None and today > closes:
            why = f"解约申请已于 {_when(closes)} 截止"
        else:
            why = f"解约申请将于 {_when(opens)} 开放" + (f"，{_when(closes)} 截止" if closes else "")
    return Window(opens, closes, why)


async def set_window(conn: AsyncConnection, ident: Identity, opens: str, closes: str,
                     now: dt.datetime) -> school_settings.SchoolSettings:
    """The school admin's 解约申请 window: two China dates, either left empty. Audited by
    school_settings.change. Raises FormError (nothing written) on a bad date."""
    first, last = settings_form.window(opens, closes, "opens", "closes")
    return await school_settings.change(conn, ident.school_id, actor_id=ident.account_id, at=now,
                                        termination_opens=first, termination_closes=last)


# --- reading ---------------------------------------------------------------------------------

def _select() -> sa.Select:
    return (sa.select(tr, ag.c.number, ag.c.channel, ag.c.status.label("agreement_status"),
                      ag.c.employer_id, ag.c.data.label("agreement_data"), sr.c.student_no,
                      sr.c.name.label("student_name"), colleges.c.name.label("college_name"),
                      employers.c.name.label("employer_name"),
                      stored.c.content_type.label("letter_type"))
            .join(ag, ag.c.id == tr.c.agreement_id)
            .join(sr, sr.c.id == tr.c.student_record_id)
            .join(colleges, colleges.c.id == tr.c.college_id)
            .outerjoin(employers, employers.c.id == ag.c.employer_id)
            .outerjoin(stored, stored.c.id == tr.c.letter_file_id))


async def request_item(conn: AsyncConnection, ident: Identity, request_id: int) -> sa.Row | None:
    """A 解约申请 of an agreement the caller may see (either party, or its reviewers)."""
    return (await conn.execute(_select().where(tr.c.id == request_id, signing.scope(ident)))).first()


async def requests_of(conn: AsyncConnection, ident: Identity) -> list[sa.Row]:
    return list(await conn.execute(_select().where(signing.scope(ident))
                                   .order_by(tr.c.updated_at.desc(), tr.c.id.desc()).limit(200)))


async def effective_agreements(conn: AsyncConnection, ident: Identity) -> list[sa.Row]:
    """The caller's effective agreements: the ones a 解约申请 can start from."""
    return list(await conn.execute(signing.select().where(
        signing.scope(ident), ag.c.status == AgreementState.EFFECTIVE.value)
        .order_by(ag.c.effective_at.desc()).limit(200)))


async def open_request(conn: AsyncConnection, agreement_id: int) -> sa.Row | None:
    return (await conn.execute(sa.select(tr).where(
        tr.c.agreement_id == agreement_id, tr.c.status.in_([s.value for s in OPEN])))).first()


# The state each reviewer decides: 待我审核 in the queue (listing.py) and the centres' 待办事项.
WAITING = {Role.COUNSELOR: TermState.SUBMITTED, Role.SCHOOL_ADMIN: TermState.COLLEGE_APPROVED}


async def history(conn: AsyncConnection, request_id: int) -> list[workflow.HistoryEntry]:
    return await workflow.history(conn, TERMINATION_FLOW, request_id)


def employer_label(row: sa.Row) -> str:
    return row.employer_name or (row.agreement_data or {}).get("unit_name", "")


# --- 9.1 解约申请 ----------------------------------------------------------------------------

def _check(ident: Identity, reason_code: str, reason_text: str, letter: Upload | None,
           kept_letter: str | None, upload_error: str | None) -> str:
    errors = {}
    if reason_code not in codes.REASONS:
        errors["reason_code"] = "请选择解约原因"
    text = reason_text.strip()
    if not text:
        errors["reason_text"] = "请填写解约说明"
    elif len(text) > REASON_MAX:
        errors["reason_text"] = f"解约说明不能超过{REASON_MAX}字"
    if upload_error:
        errors["letter"] = upload_error
    elif ident.role == Role.STUDENT and letter is None and not kept_letter:
        errors["letter"] = "请上传用人单位出具的解约函（JPG、PNG 图片或 PDF）"
    if errors:
        raise FormError(errors)
    return text


async def lock_agreement(conn: AsyncConnection, agreement_id: int) -> None:
    """Serialise everything done to one agreement: on PostgreSQL lock its row first (SQLite's
    BEGIN IMMEDIATE already serialises writers), so two submissions of the same 解约申请 at
    once see each other, and every path takes the agreement's lock before the request's."""
    if conn.dialect.name != "sqlite":
        await conn.execute(sa.select(ag.c.id).where(ag.c.id == agreement_id).with_for_update())


async def apply(conn: AsyncConnection, ident: Identity, agreement_id: int, *, reason_code: str,
                reason_text: str, letter: Upload | None, store: FileStore, now: dt.datetime,
                upload_error: str | None = None) -> int | None:
    """【提交】 a 解约申请 (or resubmit a returned one of the same party) → its id; None when
    the agreement is not the caller's. Raises FormError (nothing written) or TransitionError."""
    if ident.role not in (Role.STUDENT, Role.EMPLOYER):
        return None
    row = await signing.item(conn, ident, agreement_id)
    if row is None:
        return None
    await lock_agreement(conn, agreement_id)
    existing = await open_request(conn, agreement_id)
    mine = existing is not None and existing.applicant_role == ident.role.value
    text = _check(ident, reason_code, reason_text, letter,
                  existing.letter_file_id if mine else None, upload_error)
    status = (await conn.execute(sa.select(ag.c.status).where(ag.c.id == agreement_id))).scalar()
    if status != AgreementState.EFFECTIVE:
        raise workflow.NotAllowed(f"该就业协议书当前状态为“{AGREEMENT_LABELS.get(status, status)}”，"
                                  "只有已生效的协议书可以申请解约")
    win = await window(conn, row.school_id, now)
    if not win.open:
        raise workflow.NotAllowed(win.why_closed)
    if existing is not None and not (mine and existing.status == TermState.RETURNED):
        raise workflow.NotAllowed("该就业协议书已有一份解约申请正在办理（"
                                  f"{TERMINATION_FLOW.state_label(existing.status)}），不能重复提交")
    letter_id = existing.letter_file_id if existing is not None else None
    if letter is not None:
        letter_id = await files.save(conn, store, owner_id=ident.account_id,
                                     kind=files.FileKind.TERMINATION, display_name=letter.display_name,
                                     content_type=letter.content_type, data=letter.data, now=now)
    values = dict(reason_code=reason_code, reason_text=text, letter_file_id=letter_id, updated_at=now)
    if existing is not None:
        request_id = existing.id
        await conn.execute(tr.update().where(tr.c.id == request_id,
                                             tr.c.status == TermState.RETURNED.value).values(**values))
    else:
        # The partial unique index is the last word: a second open request is never stored.
        request_id = (await conn.execute(dialect_insert(conn, tr).values(
            agreement_id=agreement_id, student_record_id=row.student_record_id,
            school_id=row.school_id, college_id=row.college_id, applicant_role=ident.role.value,
            applicant_id=ident.account_id, status=TermState.DRAFT.value, created_at=now, **values)
            .on_conflict_do_nothing().returning(tr.c.id))).scalar()
        if request_id is None:
            raise workflow.StaleState("该就业协议书刚有一份解约申请提交，不能重复提交")
    told = await _told_lately(conn, agreement_id, ident.role, now)  # before submitted_at moves
    await workflow.transition(conn, TERMINATION_FLOW, request_id, "submit", actor=signing.actor(ident),
                              at=now, reason=f"{codes.label(reason_code)}：{text}",
                              values={"submitted_at": now})
    other = "employer" if ident.role == Role.STUDENT else "student"
    who = "学生" if ident.role == Role.STUDENT else "用人单位"
    await tell_parties(conn, row, f"{who}提交了就业协议书（编号 {row.number}）的解约申请",
                       at=now, body=f"解约原因：{codes.label(reason_code)}。{text}", only=other,
                       mail=not told)
    return request_id


async def _told_lately(conn: AsyncConnection, agreement_id: int, role: Role,
                       now: dt.datetime) -> bool:
    """Whether this side submitted a 解约申请 of the agreement within MAIL_AGAIN_AFTER (the
    other party was mailed then, or is still within the day of the one that was)."""
    return (await conn.execute(sa.select(tr.c.id).where(
        tr.c.agreement_id == agreement_id, tr.c.applicant_role == role.value,
        tr.c.submitted_at > now - MAIL_AGAIN_AFTER).limit(1))).first() is not None


async def withdraw(conn: AsyncConnection, ident: Identity, request_id: int,
                   now: dt.datetime) -> str | None:
    """The applicant takes the request back (before the first review, or after a return)."""
    req = await request_item(conn, ident, request_id)
    if req is None:
        return None
    if req.applicant_role != ident.role.value:
        raise workflow.NotAllowed("只有提出申请的一方可以撤回解约申请")
    return await workflow.transition(conn, TERMINATION_FLOW, request_id, "withdraw",
                                     actor=signing.actor(ident), at=now)


# --- reviews ---------------------------------------------------------------------------------

async def review(conn: AsyncConnection, ident: Identity, request_id: int, action: str, *,
                 reason: str | None, now: dt.datetime) -> str | None:
    """The counselor's or the school admin's decision; None when not the caller's to see.
    The school's approval terminates the agreement in the same transaction."""
    if ident.role not in (Role.COUNSELOR, Role.SCHOOL_ADMIN):
        return None
    req = await request_item(conn, ident, request_id)
    if req is None:
        return None
    await lock_agreement(conn, req.agreement_id)
    # Read again under the agreement's lock: a decision that committed while we waited for
    # it (a 退回) must be seen before the agreement is terminated, not after.
    req = await request_item(conn, ident, request_id)
    step = TERMINATION_FLOW.step(req.status, action)
    if step is not None and step.target == TermState.APPROVED and ident.role in step.roles:
        agreement = await signing.item(conn, ident, req.agreement_id)
        # The agreement first (a racing 强制解约 or second approval leaves us 0 rows → refused).
        await terminate(conn, agreement, actor=signing.actor(ident), at=now,
                        reason=f"解约申请已通过（{codes.label(req.reason_code)}）",
                        detail={"termination_request": request_id})
    state = await workflow.transition(conn, TERMINATION_FLOW, request_id, action,
                                      actor=signing.actor(ident), at=now, reason=reason,
                                      values={"decided_at": now, "updated_at": now})
    if state == TermState.APPROVED:
        await tell_parties(conn, req, f"就业协议书（编号 {req.number}）解约申请已审核通过，协议书已解约",
                           at=now, body="学生的网签资格已恢复，毕业去向已恢复为待就业，可以重新签约。")
    return state


# --- termination itself (an approved application here, 9.2 管理员强制解约 in forced.py) ----------

async def terminate(conn: AsyncConnection, agreement: sa.Row, *, actor: workflow.Actor,
                    at: dt.datetime, reason: str, detail: dict[str, Any]) -> None:
    """The agreement becomes 已解约 and the graduate's 毕业去向 goes back to 70 待就业, in the
    caller's transaction; refused (StaleState) if someone else ended it first."""
    await workflow.transition(conn, flow_of(agreement.channel), agreement.id, "terminate",
                              actor=actor, at=at, reason=reason, detail=detail,
                              values={"ended_at": at, "updated_at": at})
    await destinations.release(conn, source="agreement", source_id=agreement.id)


async def letter_ids(conn: AsyncConnection, agreement_id: int) -> set[str]:
    rows = await conn.execute(sa.select(tr.c.letter_file_id).where(
        tr.c.agreement_id == agreement_id, tr.c.letter_file_id.is_not(None)))
    return {r for r, in rows}


# --- telling both parties ----------------------------------------------------------------------

async def tell_parties(conn: AsyncConnection, row: sa.Row, title: str, *, at: dt.datetime,
                       body: str = "", only: str | None = None, mail: bool = True) -> None:
    """A notice and a mail (unless `mail` is False) to the student and/or the employer of the
    agreement `row` (an agreement or a request row: both carry student_record_id and
    employer_id). An employer without accounts (an offline agreement) is mailed at the
    unit's email on the agreement."""
    data = getattr(row, "agreement_data", None) or getattr(row, "data", None) or {}
    targets: list[tuple[int | None, str | None, str]] = []
    if only in (None, "student"):
        found = (await conn.execute(sa.select(accounts.c.id, accounts.c.email).join(
            sr, sr.c.account_id == accounts.c.id).where(sr.c.id == row.student_record_id))).first()
        if found is not None:
            targets.append((found.id, found.email, PARTY_PAGES[Role.STUDENT]))
    if only in (None, "employer"):
        staff = []
        if row.employer_id is not None:
            staff = list(await conn.execute(sa.select(accounts.c.id, accounts.c.email).where(
                accounts.c.employer_id == row.employer_id, accounts.c.is_active.is_(True))))
        targets += [(a.id, a.email, PARTY_PAGES[Role.EMPLOYER]) for a in staff]
        if not staff and data.get("email"):
            targets.append((None, data["email"], ""))
    for account_id, email, link in targets:
        if account_id is not None:
            await notices.add(conn, account_id=account_id, title=title, body=body, link=link, at=at)
        if email and mail:
            await emails.enqueue(conn, to=email, template="workflow_notice", at=at,
                                 context={"title": title, "reason": body or None})
