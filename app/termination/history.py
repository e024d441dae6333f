"""An agreement's history with its terminations folded in: the 解约申请 audit rows (entity
"termination") beside the agreement's own (entity "agreement"), in time order."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import workflow
from .flows import TERMINATION_FLOW
from .tables import termination_requests as tr


async def with_terminations(conn: AsyncConnection, agreement_id: int,
                            entries: list[workflow.HistoryEntry]) -> list[workflow.HistoryEntry]:
    marked = [dataclasses.replace(e, action_label="管理员强制解约")
              if e.action == "terminate" and (e.detail or {}).get("forced") else e for e in entries]
    ids = (await conn.execute(sa.select(tr.c.id).where(tr.c.agreement_id == agreement_id)
                              .order_by(tr.c.id))).scalars().all()
    requests = []
    for request_id in ids:
        requests += [dataclasses.replace(e, action_label=f"解约申请 · {e.action_label}")
                     for e in await workflow.history(conn, TERMINATION_FLOW, request_id)]
    # At one moment the request's decision reads before the agreement's resulting step.
    both = [(e.at, 0, n, e) for n, e in enumerate(requests)] + \
           [(e.at, 1, n, e) for n, e in enumerate(marked)]
    return [e for *_, e in sorted(both, key=lambda t: t[:3])]
