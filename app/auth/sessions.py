"""Server-side sessions. The cookie holds a random token; the table holds its hash."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..db import for_accounts
from ..roles import Role
from ..security import new_token, token_hash
from ..notify import notices
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
    await conn.execute(for_accounts(sessions.insert(), account_id).values(
        token_hash=token_hash(token), account_id=account_id, created_at=now, last_seen_at=now,
        expires_at=now + dt.timedelta(days=days), user_agent=user_agent[:300]))
    return token


def _by_token(*extra: sa.ColumnElement) -> sa.Select:
    """Built once (below) with bind parameters `token_hash` and `now`: every page and every
    socket connect asks it, and building a select costs more than running this one."""
    return (sa.select(sessions.c.token_hash, sessions.c.last_seen_at, sessions.c.expires_at,
                      accounts, *extra)
            .join(accounts, accounts.c.id == sessions.c.account_id)
            .where(sessions.c.token_hash == sa.bindparam("token_hash"),
                   sessions.c.expires_at > sa.bindparam("now"),
                   accounts.c.is_active.is_(True)))


_BY_TOKEN_FOR_PAGE = _by_token(notices.unread_of(sessions.c.account_id).label("unread_notices"))


def _identity(row: sa.Row) -> Identity:
    return Identity(account_id=row.id, role=Role(row.role), display_name=row.display_name,
                    school_id=row.school_id, college_id=row.college_id,
                    employer_id=row.employer_id, session_hash=row.token_hash)


@dataclass(frozen=True)
class Loaded:
    identity: Identity
    last_seen_at: dt.datetime
    expires_at: dt.datetime
    unread_notices: int


async def load_for_page(conn: AsyncConnection, token: str, now: dt.datetime) -> Loaded | None:
    """The session behind a cookie token as a page needs it: with the account's unread 站内通知
    count every page's header shows, in the same query (a page view is then one query
    before the page's own, and none while app/accountcache.py holds it)."""
    return await load_hashed(conn, token_hash(token), now)


async def load_hashed(conn: AsyncConnection, key: str, now: dt.datetime) -> Loaded | None:
    """load_for_page by the token's hash, which is all a hall socket keeps of it."""
    row = (await conn.execute(_BY_TOKEN_FOR_PAGE, {"token_hash": key, "now": now})).first()
    if row is None:
        return None
    return Loaded(_identity(row), row.last_seen_at, row.expires_at, row.unread_notices)


async def touch(conn: AsyncConnection, ident: Identity, now: dt.datetime, days: int) -> None:
    await conn.execute(for_accounts(sessions.update(), ident.account_id)
                       .where(sessions.c.token_hash == ident.session_hash)
                       .values(last_seen_at=now, expires_at=now + dt.timedelta(days=days)))


async def end(conn: AsyncConnection, ident: Identity) -> None:
    await conn.execute(for_accounts(sessions.delete(), ident.account_id)
                       .where(sessions.c.token_hash == ident.session_hash))


async def end_all(conn: AsyncConnection, account_id: int, keep_hash: str | None = None) -> int:
    stmt = for_accounts(sessions.delete(), account_id).where(sessions.c.account_id == account_id)
    if keep_hash:
        stmt = stmt.where(sessions.c.token_hash != keep_hash)
    return (await conn.execute(stmt)).rowcount
