"""One-time verification codes (SMS and email): issue one, check an entry.

The rules every code follows: 6 digits, stored only as a keyed hash, valid for
CODE_TTL_SECONDS, single use, void after CODE_MAX_TRIES entries, a new one only after
CODE_RESEND_SECONDS, and a new one voids the older ones. A code is bound to an account, a
purpose and the address it was sent to (the hash covers all three), so it works for
nothing else. Hourly send limits are the caller's (app/ratelimit.py), since they also
count per client address.
"""

from __future__ import annotations

import datetime as dt
import hmac
import math

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..config import Settings
from ..db import lock_for_update
from ..security import keyed_hash, new_code
from ..tables import accounts, verification_codes as vc

EXPIRED = "验证码已失效，请重新获取"
TOO_MANY = "验证码错误次数过多，请重新获取"


class ResendTooSoon(Exception):
    def __init__(self, seconds: int) -> None:
        super().__init__(f"{seconds} s before another code")
        self.seconds = seconds


def _hash(settings: Settings, account_id: int, purpose: str, address: str, code: str) -> str:
    return keyed_hash(settings.secret_key, f"{purpose}:{account_id}:{address}:{code}")


async def resend_wait(conn: AsyncConnection, account_id: int, purpose: str, now: dt.datetime,
                      settings: Settings) -> int:
    """Whole seconds before another code may be sent (0: now)."""
    last = (await conn.execute(
        sa.select(vc.c.created_at).where(vc.c.account_id == account_id, vc.c.purpose == purpose)
        .order_by(vc.c.created_at.desc()).limit(1))).scalar()
    if last is None:
        return 0
    wait = settings.code_resend_seconds - (now - last).total_seconds()
    return math.ceil(wait) if wait > 0 else 0


async def issue(conn: AsyncConnection, *, account_id: int, purpose: str, address: str,
                now: dt.datetime, settings: Settings) -> str:
    """A new code for this account, purpose and address; raises ResendTooSoon in the cooldown."""
    # Two requests at once must not both pass the cooldown: hold the account row (PostgreSQL;
    # SQLite's write transaction already runs alone).
    await conn.execute(lock_for_update(sa.select(accounts.c.id).where(accounts.c.id == account_id),
                                       conn.dialect.name == "sqlite"))
    wait = await resend_wait(conn, account_id, purpose, now, settings)
    if wait:
        raise ResendTooSoon(wait)
    await conn.execute(vc.update().where(vc.c.account_id == account_id, vc.c.purpose == purpose,
                                         vc.c.used_at.is_(None)).values(used_at=now))
    code = new_code()
    await conn.execute(vc.insert().values(
        account_id=account_id, purpose=purpose,
        code_hash=_hash(settings, account_id, purpose, address, code), created_at=now,
        expires_at=now + dt.timedelta(seconds=settings.code_ttl_seconds)))
    return code


async def check(conn: AsyncConnection, *, account_id: int, purpose: str, address: str, code: str,
                now: dt.datetime, settings: Settings) -> str | None:
    """Check an entry: None when right (the code is used up), else the message to show.

    Returns instead of raising so that the caller commits the counted try. The try is
    counted by a conditional UPDATE before comparing, so however many entries arrive at
    once, at most CODE_MAX_TRIES of them are ever compared.
    """
    row = (await conn.execute(
        sa.select(vc.c.id).where(vc.c.account_id == account_id, vc.c.purpose == purpose,
                                 vc.c.used_at.is_(None), vc.c.expires_at > now)
        .order_by(vc.c.created_at.desc(), vc.c.id.desc()).limit(1))).first()
    if row is None:
        return EXPIRED
    tries = (await conn.execute(
        vc.update().where(vc.c.id == row.id, vc.c.used_at.is_(None),
                          vc.c.tries < settings.code_max_tries)
        .values(tries=vc.c.tries + 1).returning(vc.c.tries, vc.c.code_hash))).first()
    if tries is None:
        return TOO_MANY
    expected = _hash(settings, account_id, purpose, address, code.strip())
    if not hmac.compare_digest(expected, tries.code_hash):
        left = settings.code_max_tries - tries.tries
        return f"验证码不正确，还可以再试{left}次" if left else TOO_MANY
    used = (await conn.execute(
        vc.update().where(vc.c.id == row.id, vc.c.used_at.is_(None)).values(used_at=now)
        .returning(vc.c.id))).first()
    return None if used is not None else EXPIRED
