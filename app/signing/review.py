"""Staff side of signing: the counselor's and the school admin's decisions (their queue is
listing.py), the employer's list, and the public verification page's lookup."""

from __future__ import annotations

import hmac

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import paging, workflow
from ..auth.sessions import Identity
from ..roles import Role
from ..tables import schools, student_records
from .flows import AgreementState, flow_of
from .service import actor, is_effective_step, item, make_effective, scope, select
from .tables import agreements

ag, sr = agreements, student_records
_s = AgreementState
# What waits for whom: the default filter of each reviewer's queue (listing.py, 待办事项).
WAITING = {Role.COUNSELOR: (_s.COLLEGE_REVIEW,), Role.SCHOOL_ADMIN: (_s.SCHOOL_REVIEW, _s.SCAN_REVIEW)}
# States staff see at all (drafts and unanswered invitations are the student's business).
STAFF_VISIBLE = tuple(s.value for s in _s if s not in (_s.DRAFT, _s.AWAITING_EMPLOYER, _s.CONFIRMED))


async def decide(conn: AsyncConnection, ident: Identity, agreement_id: int, action: str, *,
                 reason: str | None, now: dt.datetime) -> str | None:
    """通过 / 退回 by the reviewer whose turn it is. None: not in the reviewer's scope."""
    if ident.role not in (Role.COUNSELOR, Role.SCHOOL_ADMIN):
        return None
    row = await item(conn, ident, agreement_id)
    if row is None:
        return None
    if action not in ("approve", "return"):
        raise workflow.NotAllowed("未知的操作")
    if is_effective_step(row, action) and ident.role in flow_of(row.channel).step(row.status, action).roles:
        return await make_effective(conn, row, action, actor=actor(ident), at=now, reason=reason)
    values = {"updated_at": now}
    if action == "return":
        values["previous_data"] = row.data
    return await workflow.transition(conn, flow_of(row.channel), row.id, action, actor=actor(ident),
                                     at=now, reason=reason, values=values)


async def for_employer(conn: AsyncConnection, ident: Identity, wanted: paging.Params) -> paging.Page:
    """The agreements the employer is party to, the latest change first; ?q= searches the
    student's name, the school and the number."""
    return await paging.fetch(conn, select().where(
        scope(ident),
        paging.matches(wanted.q, sr.c.name, schools.c.name, ag.c.number))
        .order_by(ag.c.updated_at.desc(), ag.c.id.desc()), wanted)


VERIFY_LABELS = {_s.EFFECTIVE: "有效", _s.TERMINATED: "已解约", _s.CANCELLED: "作废",
                 _s.REFUSED: "作废", _s.WITHDRAWN: "作废"}


def verify_label(status: str) -> str:
    return VERIFY_LABELS.get(status, "审核中（尚未生效）")


def verify_employer(row: sa.Row) -> str:
    """Who the paper names as the employer, and how that is known: a registered employer
    confirmed in its own 单位中心 (or invited online); any other unit only by a mailed link
    to the address the student typed, which proves less."""
    if row.employer_name:
        return row.employer_name
    return f"{(row.data or {}).get('unit_name', '')}（单位未注册，经邮件确认）"


async def by_verify_token(conn: AsyncConnection, token: str) -> sa.Row | None:
    if not token or len(token) > 64:
        return None
    return (await conn.execute(select().where(ag.c.verify_token == token))).first()


CHECK_CODE_LENGTH = 8  # printed beside the number: 48 random bits, unguessable


def check_code(verify_token: str | None) -> str | None:
    """The 验证码 printed on the paper: the start of the QR code's random token. Numbers are
    sequential, so a number alone must not open a graduate's agreement to anyone."""
    return verify_token[:CHECK_CODE_LENGTH] if verify_token else None


async def by_number(conn: AsyncConnection, number: str, code: str) -> sa.Row | None:
    """The agreement with this number whose paper carries this 验证码."""
    number, code = number.strip()[:40], code.strip()[:CHECK_CODE_LENGTH * 2]
    if not number or not code:
        return None
    row = (await conn.execute(select().where(ag.c.number == number))).first()
    printed = check_code(row.verify_token) if row is not None else None
    return row if printed and hmac.compare_digest(printed, code) else None
