"""找回密码: account → 邮箱 + 邮箱验证码 → new password.

One password_resets row carries the attempt through its steps; the URL holds a random
token whose hash is the row's key. Codes are 6 digits, stored as keyed hashes, valid for
CODE_TTL_SECONDS, single use, void after CODE_MAX_TRIES wrong entries, and a new one can
be asked for only after CODE_RESEND_SECONDS.
"""

from __future__ import annotations

import datetime as dt
import hmac

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import audit
from ..config import Settings
from ..forms import FormError
from ..notify import emails
from ..security import keyed_hash, new_code, new_token, token_hash
from ..tables import accounts, password_resets, verification_codes
from . import service, sessions

PURPOSE = "reset"
FLOW_TTL = dt.timedelta(minutes=30)


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***{local[-1:] if len(local) > 2 else ''}@{domain}"


async def begin(conn: AsyncConnection, account_id: int, now: dt.datetime) -> str:
    token = new_token()
    await conn.execute(password_resets.insert().values(
        token_hash=token_hash(token), account_id=account_id, created_at=now,
        expires_at=now + FLOW_TTL))
    return token


async def load(conn: AsyncConnection, token: str, now: dt.datetime) -> sa.Row | None:
    """The live reset attempt behind a URL token, joined with its account's email."""
    return (await conn.execute(
        sa.select(password_resets, accounts.c.email)
        .join(accounts, accounts.c.id == password_resets.c.account_id)
        .where(password_resets.c.token_hash == token_hash(token),
               password_resets.c.expires_at > now, password_resets.c.used_at.is_(None)))).first()


def _check_email(flow: sa.Row, email: str) -> None:
    if not flow.email or flow.email.lower() != email.lower():
        raise FormError({"email": "邮箱与该账号登记的邮箱不一致"})


async def send_code(conn: AsyncConnection, flow: sa.Row, email: str, now: dt.datetime,
                    settings: Settings) -> None:
    _check_email(flow, email)
    vc = verification_codes
    last = (await conn.execute(
        sa.select(vc.c.created_at).where(vc.c.account_id == flow.account_id, vc.c.purpose == PURPOSE)
        .order_by(vc.c.created_at.desc()).limit(1))).scalar()
    if last is not None:
        wait = settings.code_resend_seconds - (now - last).total_seconds()
        if wait > 0:
            raise FormError({"code": f"验证码已发送，请{int(wait) + 1}秒后再重新获取"})
    # A new code voids the older ones: only the latest mail is valid.
    await conn.execute(vc.update().where(vc.c.account_id == flow.account_id, vc.c.purpose == PURPOSE,
                                         vc.c.used_at.is_(None)).values(used_at=now))
    code = new_code()
    await conn.execute(vc.insert().values(
        account_id=flow.account_id, purpose=PURPOSE,
        code_hash=keyed_hash(settings.secret_key, f"{flow.account_id}:{code}"), created_at=now,
        expires_at=now + dt.timedelta(seconds=settings.code_ttl_seconds)))
    await emails.enqueue(conn, to=flow.email, template="reset_code", at=now, context={
        "code": code, "minutes": settings.code_ttl_seconds // 60})


async def check_code(conn: AsyncConnection, flow: sa.Row, email: str, code: str,
                     now: dt.datetime, settings: Settings) -> str | None:
    """Check an entered code. Returns an error message, or None and marks the flow verified.

    Returns instead of raising so that the caller commits the counted wrong try.
    """
    _check_email(flow, email)
    vc = verification_codes
    row = (await conn.execute(
        sa.select(vc).where(vc.c.account_id == flow.account_id, vc.c.purpose == PURPOSE,
                            vc.c.used_at.is_(None), vc.c.expires_at > now)
        .order_by(vc.c.created_at.desc()).limit(1))).first()
    if row is None:
        return "验证码已失效，请重新获取"
    if row.tries >= settings.code_max_tries:
        return "验证码错误次数过多，请重新获取"
    expected = keyed_hash(settings.secret_key, f"{flow.account_id}:{code.strip()}")
    if not hmac.compare_digest(expected, row.code_hash):
        tries = row.tries + 1
        await conn.execute(vc.update().where(vc.c.id == row.id).values(tries=tries))
        left = settings.code_max_tries - tries
        return f"验证码不正确，还可以再试{left}次" if left else "验证码错误次数过多，请重新获取"
    await conn.execute(vc.update().where(vc.c.id == row.id).values(used_at=now))
    await conn.execute(password_resets.update()
                       .where(password_resets.c.token_hash == flow.token_hash)
                       .values(verified_at=now))
    return None


async def finish(conn: AsyncConnection, flow: sa.Row, password: str, now: dt.datetime) -> int:
    """Set the new password and end every session of the account. Returns the account id."""
    if flow.verified_at is None:
        raise FormError({"_form": "请先完成邮箱验证"})
    await service.set_password(conn, flow.account_id, password)
    await conn.execute(password_resets.update()
                       .where(password_resets.c.account_id == flow.account_id,
                              password_resets.c.used_at.is_(None))
                       .values(used_at=now))
    ended = await sessions.end_all(conn, flow.account_id)
    await audit.record(conn, at=now, actor_id=flow.account_id, action="password_reset",
                       entity="account", entity_id=flow.account_id,
                       detail={"sessions_ended": ended})
    return flow.account_id
