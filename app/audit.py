"""The audit log: every review decision and admin action leaves a row."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .tables import audit_log


async def record(conn: AsyncConnection, *, at: dt.datetime, actor_id: int | None, action: str,
                 entity: str, entity_id: Any, from_state: str | None = None,
                 to_state: str | None = None, reason: str | None = None,
                 detail: dict[str, Any] | None = None) -> None:
    await conn.execute(audit_log.insert().values(
        at=at, actor_id=actor_id, action=action, entity=entity, entity_id=str(entity_id),
        from_state=from_state, to_state=to_state, reason=reason, detail=detail))


async def history(conn: AsyncConnection, entity: str, entity_id: Any) -> list[sa.Row]:
    rows = await conn.execute(
        sa.select(audit_log).where(audit_log.c.entity == entity,
                                   audit_log.c.entity_id == str(entity_id))
        .order_by(audit_log.c.at, audit_log.c.id))
    return list(rows)
