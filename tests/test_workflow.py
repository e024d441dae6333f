"""The workflow engine: a random walk of actions by random roles against a real database,
and two reviewers deciding the same item at the same moment."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings as hsettings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from app import workflow
from app.auth import service as accounts
from app.db import Database
from app.reviews.flows import ORIGIN_FLOW, RECOMMENDATION_FLOW
from app.roles import Role
from app.tables import audit_log
from tests.conftest import using_postgres
from tests.factories import PASSWORD_HASH
from tests.review_helpers import import_origins, origin_row

# A stand-in table with an id and a state: the flows' real transition tables run over it,
# so the machine needs no students. It lives outside the app's metadata.
test_metadata = sa.MetaData()
items = sa.Table("workflow_test_items", test_metadata,
                 sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("status", sa.String(20), nullable=False),
                 sa.Column("reviewed_at", sa.String(40)))


async def _nobody(conn, item_id):  # noqa: ANN001, ANN202
    return []


def on_test_table(flow: workflow.Flow) -> workflow.Flow:
    return dataclasses.replace(flow, table=items, recipients={k: _nobody for k in flow.recipients})


NOW = dt.datetime(2026, 5, 1, 8, 0, tzinfo=dt.timezone.utc)


def machine_for(flow: workflow.Flow, database_url: str) -> type[RuleBasedStateMachine]:
    actions = sorted({s.action for s in flow.steps} | {"delete"})

    class FlowMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.loop = asyncio.new_event_loop()
            self.db = Database(database_url)
            self.run(self._create_table())
            self.item_id = self.run(self._insert())
            self.model = flow.initial.value
            self.audit_rows = 0

        def run(self, coro):  # noqa: ANN001, ANN201
            return self.loop.run_until_complete(coro)

        async def _create_table(self) -> None:
            async with self.db.write() as conn:
                await conn.run_sync(test_metadata.create_all)

        async def _insert(self) -> int:
            async with self.db.write() as conn:
                return (await conn.execute(items.insert().values(status=flow.initial.value)
                                           .returning(items.c.id))).scalar_one()

        async def _take(self, action: str, role: Role, reason: str) -> str:
            async with self.db.write() as conn:
                return await workflow.transition(conn, flow, self.item_id, action,
                                                 actor=workflow.Actor(None, role), at=NOW,
                                                 reason=reason)

        async def _facts(self) -> tuple[str, list[workflow.HistoryEntry]]:
            async with self.db.read() as conn:
                return (await workflow.current_state(conn, flow, self.item_id),
                        await workflow.history(conn, flow, self.item_id))

        @rule(action=st.sampled_from(actions), role=st.sampled_from(list(Role)),
              reason=st.sampled_from(["", "  ", "材料不全，请补充"]))
        def act(self, action: str, role: Role, reason: str) -> None:
            step = flow.step(self.model, action)
            allowed = (step is not None and role in step.roles
                       and not (step.reason_required and not reason.strip()))
            try:
                new_state = self.run(self._take(action, role, reason))
            except workflow.TransitionError as exc:
                assert not allowed, (self.model, action, role, exc)
                assert flow.state_label(self.model) in str(exc) or isinstance(
                    exc, workflow.ReasonRequired)
                state, entries = self.run(self._facts())
                assert state == self.model and len(entries) == self.audit_rows
                return
            assert allowed, (self.model, action, role)
            assert new_state == step.target.value
            self.model = new_state
            self.audit_rows += 1

        @invariant()
        def audit_replays_to_the_state(self) -> None:
            state, entries = self.run(self._facts())
            assert state == self.model
            assert len(entries) == self.audit_rows
            assert workflow.replay(flow, entries) == state
            for e in entries:
                step = flow.step(e.from_state, e.action)
                assert step is not None and step.target.value == e.to_state

        def teardown(self) -> None:
            self.run(self.db.dispose())
            self.loop.close()

    return FlowMachine


@pytest.mark.parametrize("flow", [ORIGIN_FLOW, RECOMMENDATION_FLOW], ids=lambda f: f.name)
def test_random_actions_follow_the_table_and_the_audit_replays(database_url, flow):
    machine = machine_for(on_test_table(flow), database_url)
    run_state_machine_as_test(machine, settings=hsettings(
        max_examples=12 if using_postgres() else 20, stateful_step_count=15, deadline=None,
        suppress_health_check=[HealthCheck.too_slow]))


def test_refusal_names_the_current_state():
    with pytest.raises(ValueError):
        workflow.replay(ORIGIN_FLOW, [workflow.HistoryEntry(
            at=NOW, actor_id=None, actor_name=None, action="approve", action_label="通过",
            from_state="draft", from_label="", to_state="approved", to_label="", reason=None)])


async def test_wrong_action_message_names_state(world, database_url, clock):
    student = world.active_student()
    ids = await import_origins(database_url, world.schools[0].id, [student.student_no], clock.now())
    db = Database(database_url)
    try:
        with pytest.raises(workflow.NotAllowed) as exc:
            async with db.write() as conn:
                await workflow.transition(conn, ORIGIN_FLOW, ids[student.student_no], "return",
                                          actor=workflow.Actor(None, Role.COUNSELOR),
                                          at=clock.now(), reason="x")
        assert str(exc.value) == "当前状态为“待核对”，不能执行“退回”"
    finally:
        await db.dispose()


async def test_two_reviewers_at_once_exactly_one_wins(world, database_url, clock):
    school = world.schools[0]
    student = world.active_student()
    origin_id = (await import_origins(database_url, school.id, [student.student_no],
                                      clock.now()))[student.student_no]
    db_a, db_b = Database(database_url), Database(database_url)
    try:
        async with db_a.write() as conn:
            second = await accounts.create_account(
                conn, role=Role.COUNSELOR, username="counselor0b", password=None,
                password_hash=PASSWORD_HASH, display_name="另一位辅导员", now=clock.now(),
                school_id=school.id, college_id=school.college_ids[0])
            await workflow.transition(conn, ORIGIN_FLOW, origin_id, "submit",
                                      actor=workflow.Actor(student.account_id, Role.STUDENT),
                                      at=clock.now())
        # On PostgreSQL both transactions read "待审核" before either writes (the lost-update
        # case the conditional UPDATE guards); SQLite's BEGIN IMMEDIATE serialises them.
        barrier = asyncio.Barrier(2) if using_postgres() else None

        async def decide(db: Database, account_id: int, action: str, reason: str | None):
            async with db.write() as conn:
                if barrier is not None:
                    assert await workflow.current_state(conn, ORIGIN_FLOW, origin_id) == "submitted"
                    await barrier.wait()
                return await workflow.transition(
                    conn, ORIGIN_FLOW, origin_id, action, reason=reason, at=clock.now(),
                    actor=workflow.Actor(account_id, Role.COUNSELOR))

        results = await asyncio.gather(
            decide(db_a, world.staff["counselor0"][1], "approve", None),
            decide(db_b, second, "return", "照片不清晰"),
            return_exceptions=True)
        wins = [r for r in results if isinstance(r, str)]
        losses = [r for r in results if isinstance(r, workflow.TransitionError)]
        assert len(wins) == 1 and len(losses) == 1, results
        row = await origin_row(database_url, origin_id)
        assert row.status == wins[0]
        async with db_a.read() as conn:
            decisions = (await conn.execute(sa.select(audit_log.c.to_state).where(
                audit_log.c.entity == "origin", audit_log.c.entity_id == str(origin_id))
                .order_by(audit_log.c.id))).scalars().all()
        assert decisions == ["submitted", wins[0]]
        assert "当前状态为" in str(losses[0])
    finally:
        await db_a.dispose()
        await db_b.dispose()
