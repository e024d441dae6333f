"""Review flows as data, and the one guarded transition that moves an item.

A flow names its table, its states (a StrEnum) and a table of (state, action) → Step.
`transition()` runs in the caller's transaction: it reads the current state, checks the
step and the actor's role, writes the new state with a conditional UPDATE (so two
reviewers acting at once cannot both win), and writes the audit row.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from . import audit
from .roles import Role


@dataclass(frozen=True)
class Step:
    to: enum.StrEnum
    roles: frozenset[Role]
    reason_required: bool = False


@dataclass(frozen=True)
class Flow:
    entity: str                     # audit entity name
    table: sa.Table
    labels: Mapping[enum.StrEnum, str]
    action_labels: Mapping[str, str]
    steps: Mapping[tuple[enum.StrEnum, str], Step] = field(default_factory=dict)

    def allowed(self, state: str, role: Role) -> list[str]:
        """Actions the role may take from this state (to show the right buttons)."""
        return [a for (s, a), step in self.steps.items() if s == state and role in step.roles]


class NotAllowed(Exception):
    """The action is not possible now; the message names the current state, in Chinese.

    `field` names the form field the message belongs next to ("_form" for the page top).
    """

    def __init__(self, message: str, field: str = "_form") -> None:
        super().__init__(message)
        self.field = field


async def transition(conn: AsyncConnection, flow: Flow, item_id: int, action: str, *,
                     actor_id: int | None, role: Role, now: dt.datetime,
                     reason: str | None = None, values: Mapping[str, Any] | None = None,
                     ) -> tuple[str, str]:
    t = flow.table
    current = (await conn.execute(sa.select(t.c.status).where(t.c.id == item_id))).scalar()
    if current is None:
        raise NotAllowed("记录不存在")
    label = flow.labels.get(current, current)
    step = flow.steps.get((current, action))  # StrEnum members hash like their values
    action_label = flow.action_labels.get(action, action)
    if step is None or role not in step.roles:
        raise NotAllowed(f"当前状态为“{label}”，不能执行“{action_label}”")
    if step.reason_required and not (reason or "").strip():
        raise NotAllowed("请填写原因", field="reason")
    result = await conn.execute(
        t.update().where(t.c.id == item_id, t.c.status == current)
        .values(status=step.to.value, **(values or {})))
    if result.rowcount != 1:  # someone else moved it first
        raise NotAllowed(f"该记录刚被他人处理，请刷新后查看（当前状态已不是“{label}”）")
    await audit.record(conn, at=now, actor_id=actor_id, action=action, entity=flow.entity,
                       entity_id=item_id, from_state=current, to_state=step.to.value,
                       reason=(reason or "").strip() or None)
    return current, step.to.value
