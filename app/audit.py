"""The audit log: every review decision and admin action leaves a row."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .tables import accounts, audit_log


async def record(conn: AsyncConnection, *, at: dt.datetime, actor_id: int | None, action: str,
                 entity: str, entity_id: Any, from_state: str | None = None,
                 to_state: str | None = None, reason: str | None = None,
                 detail: dict[str, Any] | None = None,
                 school_id: int | sa.ScalarSelect | None = None) -> None:
    """`school_id`: the school the row concerns, when the caller knows it (an employer's or
    a platform admin's act on a school's record). Left out, it is the acting account's
    school, taken inside the same INSERT: a student, counselor or school admin only ever acts
    within their own school; an employer's or platform admin's row stays platform-wide."""
    school: Any = school_id
    if school is None and actor_id is not None:
        school = sa.select(accounts.c.school_id).where(accounts.c.id == actor_id).scalar_subquery()
    await conn.execute(audit_log.insert().values(
        at=at, actor_id=actor_id, action=action, entity=entity, entity_id=str(entity_id),
        from_state=from_state, to_state=to_state, reason=reason, detail=detail, school_id=school))


async def history(conn: AsyncConnection, entity: str, entity_id: Any) -> list[sa.Row]:
    rows = await conn.execute(
        sa.select(audit_log).where(audit_log.c.entity == entity,
                                   audit_log.c.entity_id == str(entity_id))
        .order_by(audit_log.c.at, audit_log.c.id))
    return list(rows)
