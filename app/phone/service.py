"""手机认证 rules: the number typed must be the one in the approved 生源信息; a 6-digit code
goes to it through the SMS outbox; the right code records the number as confirmed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from .. import audit
from ..auth import codes
from ..auth.sessions import Identity
from ..config import Settings
from ..forms import FormError
from ..signing import gate as signing_gate
from ..signing.tables import phone_verifications
from ..sms import outbox
from ..validators import Invalid, normalize_phone

PURPOSE = "phone"


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


def sms_text(code: str, settings: Settings) -> str:
    return (f"【高校毕业生就业信息网】您正在进行签约中心手机认证，验证码：{code}，"
            f"{settings.code_ttl_seconds // 60}分钟内有效。请勿将验证码告诉他人。")


@dataclass(frozen=True)
class State:
    gate: signing_gate.Gate
    resend_wait: int  # seconds before 获取验证码 works again

    @property
    def can_verify(self) -> bool:
        """The 生源信息 is approved and has a number to confirm."""
        return self.gate.origin_approved and bool(self.gate.mobile)


async def state(conn: AsyncConnection, ident: Identity, now: dt.datetime,
                settings: Settings) -> State:
    gate = await signing_gate.load(conn, ident)
    wait = await codes.resend_wait(conn, ident.account_id, PURPOSE, now, settings)
    return State(gate, wait)


def _same_number(gate: signing_gate.Gate, typed: str) -> str:
    """The typed number, normalised, when it is the 生源信息's; else a message at the field."""
    if not gate.origin_approved or not gate.mobile:
        raise FormError({"_form": gate.why_not})
    try:
        phone = normalize_phone(typed)
    except Invalid as exc:
        raise FormError({"phone": str(exc)}) from None
    try:
        expected = normalize_phone(gate.mobile)
    except Invalid:
        expected = gate.mobile
    if phone != expected:
        raise FormError({"phone": "手机号与生源信息核对时填报的手机不一致，请核对"})
    return phone


async def send_code(conn: AsyncConnection, ident: Identity, typed_phone: str, now: dt.datetime,
                    settings: Settings) -> str:
    """Queue a code to the confirmed-to-be number; returns it. The caller wakes the SMS worker
    after the commit."""
    phone = _same_number(await signing_gate.load(conn, ident), typed_phone)
    try:
        code = await codes.issue(conn, account_id=ident.account_id, purpose=PURPOSE,
                                 address=phone, now=now, settings=settings)
    except codes.ResendTooSoon as exc:
        raise FormError({"code": f"验证码已发送，请{exc.seconds}秒后再重新获取"}) from None
    await outbox.enqueue(conn, to=phone, text=sms_text(code, settings), purpose="phone_code",
                         at=now)
    return phone


async def verify(conn: AsyncConnection, ident: Identity, typed_phone: str, code: str,
                 now: dt.datetime, settings: Settings) -> str | None:
    """Check the code. None: the number is confirmed; else the message for the code field.
    Returns instead of raising so that the caller commits the counted try."""
    gate = await signing_gate.load(conn, ident)
    phone = _same_number(gate, typed_phone)
    problem = await codes.check(conn, account_id=ident.account_id, purpose=PURPOSE,
                                address=phone, code=code, now=now, settings=settings)
    if problem:
        return problem
    pv = phone_verifications
    await conn.execute(pv.delete().where(pv.c.account_id == ident.account_id))
    # Kept as the record spells it: the gate compares this with the record's number.
    await conn.execute(pv.insert().values(account_id=ident.account_id, phone=gate.mobile,
                                          verified_at=now))
    await audit.record(conn, at=now, actor_id=ident.account_id, action="phone_verified",
                       entity="account", entity_id=ident.account_id,
                       detail={"phone": mask_phone(phone)})
    return None
