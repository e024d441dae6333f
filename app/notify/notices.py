"""In-site notices (站内通知)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import paging
from ..clock import china_date, china_midnight
from ..db import for_accounts
from ..tables import notices


async def add(conn: AsyncConnection, *, account_id: int, title: str, at: dt.datetime,
              body: str = "", link: str | None = None) -> None:
    await conn.execute(for_accounts(notices.insert(), account_id).values(
        account_id=account_id, title=title, body=body, link=link, created_at=at))


async def add_grouped(conn: AsyncConnection, *, account_id: int, title: str, at: dt.datetime,
                      link: str | None = None) -> None:
    """One more item on today's unread notice with this title and link, or a new notice: a
    reviewer gets "有新的生源信息待审核（113 条）" once a day and queue, not 113 notices. The
    increment is one UPDATE (atomic on both databases); the notice moves to the top."""
    day_start = china_midnight(china_date(at))
    same = sa.and_(notices.c.account_id == account_id, notices.c.read_at.is_(None),
                   notices.c.title == title, notices.c.created_at >= day_start,
                   notices.c.link.is_(None) if link is None else notices.c.link == link)
    bumped = await conn.execute(for_accounts(notices.update(), account_id).where(same)
                                .values(repeats=notices.c.repeats + 1, created_at=at))
    if bumped.rowcount == 0:
        await add(conn, account_id=account_id, title=title, at=at, link=link)


def unread_of(account_id: sa.ColumnElement | int) -> sa.ScalarSelect:
    """The count of unread notices, as an expression (a column of another query may be the
    account: the session's query counts them in passing, app/auth/sessions.py)."""
    return (sa.select(sa.func.count()).select_from(notices)
            .where(notices.c.account_id == account_id, notices.c.read_at.is_(None))
            .scalar_subquery())


_LATEST = (sa.select(notices).where(notices.c.account_id == sa.bindparam("account_id"))
           .order_by(notices.c.created_at.desc(), notices.c.id.desc())
           .limit(sa.bindparam("limit", type_=sa.Integer)))  # built once: every centre asks


async def latest(conn: AsyncConnection, account_id: int, limit: int = 20) -> list[sa.Row]:
    return list(await conn.execute(_LATEST, {"account_id": account_id, "limit": limit}))


async def page_of(conn: AsyncConnection, account_id: int, wanted: paging.Params) -> paging.Page:
    """站内通知, newest first; ?q= searches the title."""
    return await paging.fetch(conn, sa.select(notices).where(
        notices.c.account_id == account_id, paging.matches(wanted.q, notices.c.title))
        .order_by(notices.c.created_at.desc(), notices.c.id.desc()), wanted)


async def mark_all_read(conn: AsyncConnection, account_id: int, at: dt.datetime) -> None:
    await conn.execute(for_accounts(notices.update(), account_id)
                       .where(notices.c.account_id == account_id, notices.c.read_at.is_(None))
                       .values(read_at=at))
