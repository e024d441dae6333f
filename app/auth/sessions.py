"""Server-side sessions. The cookie holds a random token; the table holds its hash."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..roles import Role
from ..security import new_token, token_hash
from ..tables import accounts, sessions

# Refresh last_seen/expiry at most this often, so every page view is not a write.
TOUCH_EVERY = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Identity:
    account_id: int
    role: Role
    display_name: str
    school_id: int | None
    college_id: int | None
    employer_id: int | None
    session_hash: str


async def start(conn: AsyncConnection, *, account_id: int, now: dt.datetime, days: int,
                user_agent: str = "") -> str:
    token = new_token()
    await conn.execute(sessions.insert().values(
        token_hash=token_hash(token), account_id=account_id, created_at=now, last_seen_at=now,
        expires_at=now + dt.timedelta(days=days), user_agent=user_agent[:300]))
    return token


async def load(conn: AsyncConnection, token: str, now: dt.datetime) -> tuple[Identity, bool] | None:
    """The identity behind a cookie token, and whether the session is due a touch."""
    row = (await conn.execute(
        sa.select(sessions.c.token_hash, sessions.c.last_seen_at, accounts)
        .join(accounts, accounts.c.id == sessions.c.account_id)
        .where(sessions.c.token_hash == token_hash(token), sessions.c.expires_at > now,
               accounts.c.is_active.is_(True)))).first()
    if row is None:
        return None
    identity = Identity(account_id=row.id, role=Role(row.role), display_name=row.display_name,
                        school_id=row.school_id, college_id=row.college_id,
                        employer_id=row.employer_id, session_hash=row.token_hash)
    return identity, now - row.last_seen_at > TOUCH_EVERY


async def touch(conn: AsyncConnection, session_hash: str, now: dt.datetime, days: int) -> None:
    await conn.execute(sessions.update().where(sessions.c.token_hash == session_hash)
                       .values(last_seen_at=now, expires_at=now + dt.timedelta(days=days)))


async def end(conn: AsyncConnection, session_hash: str) -> None:
    await conn.execute(sessions.delete().where(sessions.c.token_hash == session_hash))


async def end_all(conn: AsyncConnection, account_id: int, keep_hash: str | None = None) -> int:
    stmt = sessions.delete().where(sessions.c.account_id == account_id)
    if keep_hash:
        stmt = stmt.where(sessions.c.token_hash != keep_hash)
    return (await conn.execute(stmt)).rowcount
