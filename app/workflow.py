"""The one state-machine helper every review flow uses.

A flow is data: its states (a StrEnum), the labels of its actions, and one transition
table (state × action → state, who may take it, whether a reason is required, who is
told). `transition()` is the only code that writes a flow's state column: it runs inside
the caller's transaction, re-checks the state with a conditional UPDATE (so two reviewers
acting at once cannot both win, on SQLite and PostgreSQL alike), writes the audit row and
queues the notices. The audit rows are the item's history and replay to its state.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from . import audit
from .db import for_accounts
from .notify import emails, notices
from .roles import Role
from .tables import accounts


@dataclass(frozen=True)
class Recipient:
    account_id: int
    email: str | None = None


# Who is told about a step: the flow maps a key ("student", "reviewers" …) to a lookup.
RecipientLookup = Callable[[AsyncConnection, int], Awaitable[Sequence[Recipient]]]


@dataclass(frozen=True)
class Notify:
    to: str                 # a key of Flow.recipients
    title: str              # notice title; may use {label} (the flow's label) and {reason}
    email: bool = False     # also mail it (template "workflow_notice")
    link: str | None = None  # the page the notice opens, for that recipient

    @property
    def grouped(self) -> bool:
        """A queue's "有新的…待审核" says the same each time: one notice a day and queue,
        counting the items (notify/notices.add_grouped), not one notice per item."""
        return self.title.startswith("有新的")


@dataclass(frozen=True)
class Step:
    source: enum.StrEnum
    action: str
    target: enum.StrEnum
    roles: frozenset[Role]
    reason_required: bool = False
    notify: tuple[Notify, ...] = ()


@dataclass(frozen=True)
class Flow:
    name: str                           # audit entity name, e.g. "origin"
    label: str                          # shown to users, e.g. "生源信息"
    states: type[enum.StrEnum]
    state_labels: Mapping[str, str]
    action_labels: Mapping[str, str]
    initial: enum.StrEnum
    steps: tuple[Step, ...]
    table: sa.Table
    state_column: str = "status"
    recipients: Mapping[str, RecipientLookup] = field(default_factory=dict)

    def __post_init__(self) -> None:
        seen = set()
        for step in self.steps:
            key = (step.source, step.action)
            if key in seen:
                raise ValueError(f"{self.name}: two steps for {key}")
            seen.add(key)
            for note in step.notify:
                if note.to not in self.recipients:
                    raise ValueError(f"{self.name}: no recipients called {note.to!r}")

    @functools.cached_property
    def table_of_steps(self) -> dict[tuple[str, str], Step]:
        return {(s.source, s.action): s for s in self.steps}

    def step(self, state: str, action: str) -> Step | None:
        return self.table_of_steps.get((state, action))

    def actions_for(self, state: str, role: Role) -> list[str]:
        """The actions this role may take now, in table order (for buttons)."""
        return [s.action for s in self.steps if s.source == state and role in s.roles]

    def state_label(self, state: str) -> str:
        return self.state_labels.get(state, state)

    def action_label(self, action: str) -> str:
        return self.action_labels.get(action, action)


class TransitionError(Exception):
    """A step that cannot be taken; the message is for the user and names the state.

    `field` names the form field the message belongs next to ("_form": the page top).
    """

    default_field = "_form"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field or self.default_field


class NotAllowed(TransitionError):
    pass


class StaleState(TransitionError):
    """Someone else changed the item between our read and our write."""


class ReasonRequired(TransitionError):
    default_field = "reason"


@dataclass(frozen=True)
class Actor:
    account_id: int | None
    role: Role


async def current_state(conn: AsyncConnection, flow: Flow, item_id: int) -> str | None:
    col = flow.table.c[flow.state_column]
    return (await conn.execute(sa.select(col).where(flow.table.c.id == item_id))).scalar()


async def _state_and_owner(conn: AsyncConnection, flow: Flow,
                           item_id: int) -> tuple[str | None, int | None]:
    """The item's state, and the account whose row it is when its table has one, in one read."""
    if "account_id" not in flow.table.c:
        return await current_state(conn, flow, item_id), None
    row = (await conn.execute(sa.select(flow.table.c[flow.state_column], flow.table.c.account_id)
                              .where(flow.table.c.id == item_id))).first()
    return (row[0], row[1]) if row is not None else (None, None)


async def transition(conn: AsyncConnection, flow: Flow, item_id: int, action: str, *,
                     actor: Actor, at: dt.datetime, reason: str | None = None,
                     values: Mapping[str, Any] | None = None,
                     values_from: Callable[[int], Mapping[str, Any]] | None = None,
                     detail: Mapping[str, Any] | None = None) -> str:
    """Take `action` on the item; returns the new state. Call inside a write transaction.

    `values` are written with the new state (e.g. reviewed_at); `values_from(item_id)`
    computes more of them from the id (e.g. a serial number); `detail` goes into the audit
    row beside the actor's role (e.g. a forced termination's proof file).
    """
    state, owner = await _state_and_owner(conn, flow, item_id)
    if state is None:
        raise NotAllowed(f"{flow.label}不存在")
    step = flow.step(state, action)
    if step is None:
        raise NotAllowed(f"当前状态为“{flow.state_label(state)}”，不能执行“{flow.action_label(action)}”")
    if actor.role not in step.roles:
        raise NotAllowed(f"当前状态为“{flow.state_label(state)}”，"
                         f"{actor.role.label}不能执行“{flow.action_label(action)}”")
    reason = (reason or "").strip() or None
    if step.reason_required and not reason:
        raise ReasonRequired(f"请填写{flow.action_label(action)}原因")
    extra = dict(values or {})
    if values_from is not None:
        extra.update(values_from(item_id))
    col = flow.table.c[flow.state_column]
    # The WHERE on the old state is the guard: a concurrent winner leaves us 0 rows.
    update = flow.table.update()
    if "account_id" in flow.table.c:  # an account's own row (投递, 面试): only its entries go
        update = for_accounts(update, owner)
    result = await conn.execute(
        update.where(flow.table.c.id == item_id, col == state)
        .values({flow.state_column: step.target.value, **extra}))
    if result.rowcount != 1:
        now_state = await current_state(conn, flow, item_id)
        raise StaleState(f"该{flow.label}刚被他人处理，当前状态为“{flow.state_label(now_state or '')}”，"
                         "请刷新后再试")
    await audit.record(conn, at=at, actor_id=actor.account_id, action=f"{flow.name}.{action}",
                       entity=flow.name, entity_id=item_id, from_state=state,
                       to_state=step.target.value, reason=reason,
                       detail={**(detail or {}), "role": actor.role.value},
                       school_id=item_school(flow, item_id))
    await _notify(conn, flow, step, item_id, at, reason)
    return step.target.value


def item_school(flow: Flow, item_id: int) -> sa.ScalarSelect | None:
    """The school an item's audit rows belong to, as a subquery of the audit INSERT: the
    item's own school_id (生源, 推荐表, 协议书, 登记, 解约), else its student's (投递 and 面试
    carry the student's account_id), so an employer's step shows in that school's log.
    Employers and jobs belong to no school: None (the actor's school, i.e. none for them)."""
    t = flow.table
    if "school_id" in t.c:
        return sa.select(t.c.school_id).where(t.c.id == item_id).scalar_subquery()
    if "account_id" in t.c:
        return (sa.select(accounts.c.school_id).join(t, t.c.account_id == accounts.c.id)
                .where(t.c.id == item_id).scalar_subquery())
    return None


async def _notify(conn: AsyncConnection, flow: Flow, step: Step, item_id: int,
                  at: dt.datetime, reason: str | None) -> None:
    for note in step.notify:
        title = note.title.format(label=flow.label, reason=reason or "")
        body = f"原因：{reason}" if reason else ""
        for person in await flow.recipients[note.to](conn, item_id):
            if note.grouped and not body:
                await notices.add_grouped(conn, account_id=person.account_id, title=title,
                                          link=note.link, at=at)
            else:
                await notices.add(conn, account_id=person.account_id, title=title, body=body,
                                  link=note.link, at=at)
            if note.email and person.email:
                await emails.enqueue(conn, to=person.email, template="workflow_notice", at=at,
                                     context={"title": title, "reason": reason})


@dataclass(frozen=True)
class HistoryEntry:
    at: dt.datetime
    actor_id: int | None
    actor_name: str | None
    action: str
    action_label: str
    from_state: str | None
    from_label: str
    to_state: str | None
    to_label: str
    reason: str | None
    detail: Mapping[str, Any] | None = None


async def history(conn: AsyncConnection, flow: Flow, item_id: int) -> list[HistoryEntry]:
    from .tables import accounts  # the audit rows name accounts; show their names
    names = {}
    rows = await audit.history(conn, flow.name, item_id)
    ids = {r.actor_id for r in rows if r.actor_id}
    if ids:
        names = dict((await conn.execute(sa.select(accounts.c.id, accounts.c.display_name)
                                         .where(accounts.c.id.in_(ids)))).all())
    out = []
    for r in rows:
        action = r.action.split(".", 1)[-1]
        out.append(HistoryEntry(
            at=r.at, actor_id=r.actor_id, actor_name=names.get(r.actor_id), action=action,
            action_label=flow.action_label(action), from_state=r.from_state,
            from_label=flow.state_label(r.from_state or ""), to_state=r.to_state,
            to_label=flow.state_label(r.to_state or ""), reason=r.reason, detail=r.detail))
    return out


def replay(flow: Flow, entries: Iterable[HistoryEntry | Any]) -> str:
    """The state the audit trail leads to from the initial state; raises on a gap."""
    state = flow.initial.value
    for e in entries:
        if e.from_state is None:  # a non-transition audit row (e.g. an import note)
            continue
        step = flow.step(e.from_state, e.action.split(".", 1)[-1])
        if e.from_state != state or step is None or step.target.value != e.to_state:
            raise ValueError(f"audit does not replay at {e.from_state} → {e.to_state}")
        state = e.to_state
    return state
