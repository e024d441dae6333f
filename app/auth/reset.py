"""找回密码: account → 邮箱 + 邮箱验证码 → new password.

One password_resets row carries the attempt through its steps; the URL holds a random
token whose hash is the row's key. The row also holds the attempt's current code: 6
digits, stored as a keyed hash bound to the 邮箱 it was sent to, valid for
CODE_TTL_SECONDS, single use, void after CODE_MAX_TRIES wrong entries; a new one can be
asked for only CODE_RESEND_SECONDS after the last.

Nothing here tells a visitor whether an account exists or which 邮箱 it has: an unknown
account gets an attempt too (account_id NULL), the next step asks for the full 邮箱
without a hint, and 获取验证码 answers the same whether the 邮箱 matched or not. When it
did not (or there is no account), the row gets a code nobody can enter, so the tries count
down exactly as for a real code.
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
from ..tables import accounts, password_resets
from . import service, sessions

FLOW_TTL = dt.timedelta(minutes=30)
EXPIRED = "验证码已失效，请重新获取"
NO_CODE = "请先获取验证码"
TOO_MANY = "验证码错误次数过多，请重新获取"
NOT_VERIFIED = "请先完成邮箱验证"


def lookup_key(secret_key: str, identifier: str) -> str:
    """What the visitor typed as 账号, as a keyed hash: the per-account limit's key for an
    account that may not exist (the raw text is not kept)."""
    return keyed_hash(secret_key, f"reset-lookup:{identifier.strip().lower()}")


def owner_key(flow: sa.Row) -> str:
    """The account behind an attempt for per-account limits; the typed 账号 when none."""
    return f"acct:{flow.account_id}" if flow.account_id is not None else f"who:{flow.lookup_key}"


async def begin(conn: AsyncConnection, account_id: int | None, lookup: str,
                now: dt.datetime) -> str:
    token = new_token()
    await conn.execute(password_resets.insert().values(
        token_hash=token_hash(token), account_id=account_id, lookup_key=lookup, created_at=now,
        expires_at=now + FLOW_TTL))
    return token


async def load(conn: AsyncConnection, token: str, now: dt.datetime) -> sa.Row | None:
    """The live reset attempt behind a URL token, with its account's email (None if none)."""
    return (await conn.execute(
        sa.select(password_resets, accounts.c.email)
        .join(accounts, accounts.c.id == password_resets.c.account_id, isouter=True)
        .where(password_resets.c.token_hash == token_hash(token),
               password_resets.c.expires_at > now, password_resets.c.used_at.is_(None)))).first()


def _code_hash(secret_key: str, flow: sa.Row, email: str, code: str) -> str:
    return keyed_hash(secret_key, f"{flow.token_hash}:{email.strip().lower()}:{code.strip()}")


def _matches(flow: sa.Row, email: str) -> bool:
    return bool(flow.email) and flow.email.lower() == email.strip().lower()


async def send_code(conn: AsyncConnection, flow: sa.Row, email: str, now: dt.datetime,
                    settings: Settings) -> None:
    """获取验证码: mail a new code if `email` is the account's; answer the same either way.

    The cooldown is one conditional UPDATE, so two presses at once cannot both pass it.
    """
    pr = password_resets
    code = new_code()
    if _matches(flow, email):
        code_hash = _code_hash(settings.secret_key, flow, email, code)
    else:  # a hash of something no (邮箱, 验证码) pair can produce
        code_hash = keyed_hash(settings.secret_key, f"decoy:{new_token()}")
    cutoff = now - dt.timedelta(seconds=settings.code_resend_seconds)
    won = (await conn.execute(
        pr.update().where(pr.c.token_hash == flow.token_hash, pr.c.verified_at.is_(None),
                          sa.or_(pr.c.code_sent_at.is_(None), pr.c.code_sent_at <= cutoff))
        .values(code_hash=code_hash, code_sent_at=now, code_tries=0,
                code_expires_at=now + dt.timedelta(seconds=settings.code_ttl_seconds))
        .returning(pr.c.token_hash))).first()
    if won is None:
        last = (await conn.execute(sa.select(pr.c.code_sent_at)
                                   .where(pr.c.token_hash == flow.token_hash))).scalar()
        wait = settings.code_resend_seconds - (now - last).total_seconds() if last else 1
        raise FormError({"code": f"验证码已发送，请{max(1, int(wait) + 1)}秒后再重新获取"})
    if _matches(flow, email):
        await emails.enqueue(conn, to=flow.email, template="reset_code", at=now, context={
            "code": code, "minutes": settings.code_ttl_seconds // 60})


async def check_code(conn: AsyncConnection, flow: sa.Row, email: str, code: str,
                     now: dt.datetime, settings: Settings) -> str | None:
    """Check an entered code. Returns an error message, or None and marks the flow verified.

    The try is counted BEFORE the comparison, by one conditional UPDATE that only passes
    while tries are left: forty concurrent guesses get CODE_MAX_TRIES comparisons on
    PostgreSQL too, where a read-then-write would lose updates under READ COMMITTED.
    Returns instead of raising so that the caller commits the counted try.
    """
    pr = password_resets
    counted = (await conn.execute(
        pr.update().where(pr.c.token_hash == flow.token_hash, pr.c.verified_at.is_(None),
                          pr.c.code_hash.is_not(None), pr.c.code_expires_at > now,
                          pr.c.code_tries < settings.code_max_tries)
        .values(code_tries=pr.c.code_tries + 1)
        .returning(pr.c.code_hash, pr.c.code_tries))).first()
    if counted is None:
        state = (await conn.execute(sa.select(pr.c.code_hash, pr.c.code_expires_at, pr.c.code_tries)
                                    .where(pr.c.token_hash == flow.token_hash))).first()
        if state is None or state.code_hash is None:
            return NO_CODE
        if state.code_expires_at <= now:
            return EXPIRED
        return TOO_MANY
    expected = _code_hash(settings.secret_key, flow, email, code)
    if not hmac.compare_digest(expected, counted.code_hash):
        left = settings.code_max_tries - counted.code_tries
        return f"验证码不正确，还可以再试{left}次" if left else TOO_MANY
    await conn.execute(pr.update().where(pr.c.token_hash == flow.token_hash)
                       .values(verified_at=now, code_hash=None))
    return None


async def finish(conn: AsyncConnection, flow: sa.Row, password_hash: str, now: dt.datetime) -> int:
    """Set the new password (hashed by the caller, off the loop) and end every session of
    the account. Returns the account id."""
    if flow.verified_at is None or flow.account_id is None:
        raise FormError({"_form": NOT_VERIFIED})
    await service.set_password(conn, flow.account_id, password_hash)
    await conn.execute(password_resets.update()
                       .where(password_resets.c.account_id == flow.account_id,
                              password_resets.c.used_at.is_(None))
                       .values(used_at=now))
    ended = await sessions.end_all(conn, flow.account_id)
    await audit.record(conn, at=now, actor_id=flow.account_id, action="password_reset",
                       entity="account", entity_id=flow.account_id,
                       detail={"sessions_ended": ended})
    return flow.account_id
