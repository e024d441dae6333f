"""The termination flow as a hypothesis state machine on the engine, through the real
services and the real database: both parties apply (with or without a 解约函), withdraw, the
counselor and the school admin approve or return, administrators force a termination, and
the student signs again after each termination. Whatever the order:
- an agreement is never effective and terminated at once: an effective one holds the
  graduate's one destination row, a terminated one holds none and has an end time;
- every termination (approved application or forced) restores eligibility exactly once: one
  `agreement.terminate` audit row per terminated agreement, from exactly one approved
  application or one forced termination, and nothing holds the student afterwards;
- at most one open application per agreement, and only on an effective agreement;
- every agreement's and every application's audit replays to its state."""

from __future__ import annotations

import asyncio
import datetime as dt

import sqlalchemy as sa
from hypothesis import HealthCheck, settings as hsettings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from app import workflow
from app.auth.sessions import Identity
from app.db import Database
from app.destinations.tables import graduate_destinations as gd
from app.forms import FormError
from app.roles import Role
from app.signing import online, review
from app.signing import service as signing
from app.signing.flows import AgreementState, flow_of
from app.signing.tables import agreements
from app.tables import audit_log
from app.termination import forced, service
from app.termination.flows import OPEN, TERMINATION_FLOW, TermState
from app.termination.tables import termination_requests as tr
from app.uploads import FileStore
from tests.conftest import using_postgres
from tests.registration_helpers import png_bytes
from tests.signing_kit import invite_form, ready_student, second_employer

NOW = dt.datetime(2026, 5, 1, 8, 0, tzinfo=dt.timezone.utc)
LETTER = service.Upload("解约函.jpg", "image/png", png_bytes())


def machine(database_url: str, world, data_dir, employer2: tuple[int, int]):  # noqa: ANN001, ANN201
    student = world.active_student()
    school = world.schools[0]

    def ident(role: Role, account_id: int, employer_id: int | None = None) -> Identity:
        return Identity(account_id=account_id, role=role, display_name="x", school_id=school.id,
                        college_id=school.college_ids[0], employer_id=employer_id, session_hash="")

    people = {
        Role.STUDENT: ident(Role.STUDENT, student.account_id),
        Role.COUNSELOR: ident(Role.COUNSELOR, world.staff["counselor0"][1]),
        Role.SCHOOL_ADMIN: ident(Role.SCHOOL_ADMIN, world.staff["school_admin0"][1]),
        Role.PLATFORM_ADMIN: ident(Role.PLATFORM_ADMIN, world.staff["platform"][1]),
    }
    employers = [ident(Role.EMPLOYER, world.staff["employer"][1], world.employer_id),
                 ident(Role.EMPLOYER, employer2[1], employer2[0])]

    class TerminationMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.loop = asyncio.new_event_loop()
            self.db = Database(database_url)
            self.store = FileStore(data_dir)
            self.signed = 0
            self.current = self.run(self._start())

        def run(self, coro):  # noqa: ANN001, ANN201
            return self.loop.run_until_complete(coro)

        def teardown(self) -> None:
            self.run(self.db.dispose())
            self.loop.close()

        async def _start(self) -> int:
            async with self.db.write() as conn:  # a fresh graduate for every example
                await conn.execute(tr.delete())
                await conn.execute(gd.delete())
                await conn.execute(agreements.delete())
                await conn.execute(audit_log.delete().where(audit_log.c.entity.in_(
                    ["agreement", "termination"])))
            return await self._sign()

        def employer(self) -> Identity:
            """The party of the current agreement (the student signs with each in turn)."""
            return employers[self.signed % 2]

        async def _sign(self) -> int:
            """A new online agreement made effective through the signing services."""
            self.signed += 1
            async with self.db.write() as conn:
                aid = await online.invite(conn, self.employer(), invite_form(world, valid_until="2026-05-20"),
                                          now=NOW)
                await online.answer(conn, people[Role.STUDENT], aid, "agree", opinion="同意", now=NOW)
                for role in (Role.COUNSELOR, Role.SCHOOL_ADMIN):
                    await review.decide(conn, people[role], aid, "approve", reason=None, now=NOW)
            return aid

        def attempt(self, coro) -> None:  # noqa: ANN001
            try:
                self.run(coro)
            except (workflow.TransitionError, FormError):
                pass  # refused: the invariants check that nothing changed wrongly

        async def _apply(self, party: Identity, letter: bool, code: str) -> None:
            async with self.db.write() as conn:
                await service.apply(conn, party, self.current, reason_code=code, reason_text="说明",
                                    letter=LETTER if letter else None, store=self.store, now=NOW)

        @rule(by_student=st.booleans(), letter=st.booleans(),
              code=st.sampled_from(["personal_study", "personal_other", "employer", "nonsense"]))
        def apply(self, by_student: bool, letter: bool, code: str) -> None:
            party = people[Role.STUDENT] if by_student else self.employer()
            self.attempt(self._apply(party, letter, code))

        @rule(by_student=st.booleans())
        def apply_complete(self, by_student: bool) -> None:
            party = people[Role.STUDENT] if by_student else self.employer()
            self.attempt(self._apply(party, True, "personal_family"))

        async def _latest(self) -> int | None:
            async with self.db.read() as conn:
                return (await conn.execute(sa.select(sa.func.max(tr.c.id)))).scalar()

        async def _decide(self, action: str, role: Role, reason: str | None) -> None:
            request_id = await self._latest()
            if request_id is None:
                return
            who = self.employer() if role == Role.EMPLOYER else people[role]
            async with self.db.write() as conn:
                if action == "withdraw":
                    await service.withdraw(conn, who, request_id, NOW)
                else:
                    await service.review(conn, who, request_id, action, reason=reason, now=NOW)

        @rule(action=st.sampled_from(["approve", "return", "withdraw"]),
              role=st.sampled_from([Role.STUDENT, Role.EMPLOYER, Role.COUNSELOR, Role.SCHOOL_ADMIN]),
              reason=st.sampled_from([None, "请补充材料"]))
        def decide(self, action: str, role: Role, reason: str | None) -> None:
            self.attempt(self._decide(action, role, reason))

        async def _latest_state(self) -> str | None:
            async with self.db.read() as conn:
                return (await conn.execute(sa.select(tr.c.status).order_by(tr.c.id.desc())
                                           .limit(1))).scalar()

        @rule(data=st.data())
        def an_allowed_step(self, data: st.DataObject) -> None:
            """Mostly walk the table's own steps, so approvals are reached."""
            state = self.run(self._latest_state())
            enabled = [(s.action, role) for s in TERMINATION_FLOW.steps
                       if s.source == state and s.action in ("approve", "return", "withdraw")
                       for role in sorted(s.roles)]
            if not enabled:
                return
            action, role = data.draw(st.sampled_from(enabled))
            self.attempt(self._decide(action, role, "请补充材料" if action == "return" else None))

        async def _force(self, role: Role) -> None:
            async with self.db.write() as conn:
                number = (await conn.execute(sa.select(agreements.c.number).where(
                    agreements.c.id == self.current))).scalar()
                await forced.force(conn, people[role], number, reason="纸质证明", now=NOW,
                                    proof=service.Upload("p.pdf", "application/pdf", b"%PDF-1.4"),
                                    store=self.store)

        @rule(role=st.sampled_from([Role.SCHOOL_ADMIN, Role.PLATFORM_ADMIN, Role.COUNSELOR]))
        def force(self, role: Role) -> None:
            self.attempt(self._force(role))

        @rule()
        def sign_again(self) -> None:
            """After a termination the student may sign again: this must not be refused."""
            status = self.run(self._status(self.current))
            if status == AgreementState.TERMINATED:
                self.current = self.run(self._sign())

        async def _status(self, agreement_id: int) -> str:
            async with self.db.read() as conn:
                return (await conn.execute(sa.select(agreements.c.status).where(
                    agreements.c.id == agreement_id))).scalar_one()

        async def _facts(self):  # noqa: ANN202
            async with self.db.read() as conn:
                ags = list(await conn.execute(sa.select(agreements).order_by(agreements.c.id)))
                reqs = list(await conn.execute(sa.select(tr).order_by(tr.c.id)))
                dest = list(await conn.execute(sa.select(gd)))
                ag_history = {r.id: await workflow.history(conn, flow_of(r.channel), r.id) for r in ags}
                req_history = {r.id: await workflow.history(conn, TERMINATION_FLOW, r.id) for r in reqs}
                busy = await signing.why_busy(conn, student.record_id)
            return ags, reqs, dest, ag_history, req_history, busy

        @invariant()
        def consistent(self) -> None:
            ags, reqs, dest, ag_history, req_history, busy = self.run(self._facts())
            effective = [a for a in ags if a.status == AgreementState.EFFECTIVE]
            assert len(effective) <= 1
            assert [(d.source, d.source_id) for d in dest] == [("agreement", a.id) for a in effective]
            for a in ags:
                assert workflow.replay(flow_of(a.channel), ag_history[a.id]) == a.status
                ends = [e for e in ag_history[a.id] if e.action == "terminate"]
                approved = [r for r in reqs if r.agreement_id == a.id and r.status == TermState.APPROVED]
                if a.status == AgreementState.TERMINATED:
                    assert a.ended_at is not None and len(ends) == 1
                    forced = bool(ends[0].detail.get("forced"))
                    assert len(approved) == (0 if forced else 1)
                    assert forced or ends[0].detail["termination_request"] == approved[0].id
                else:
                    assert a.status == AgreementState.EFFECTIVE and not ends and not approved
                open_ = [r for r in reqs if r.agreement_id == a.id and r.status in OPEN]
                assert len(open_) <= 1
                assert not open_ or a.status == AgreementState.EFFECTIVE
                assert not [r for r in open_ if r.status == TermState.DRAFT]
            for r in reqs:
                assert workflow.replay(TERMINATION_FLOW, req_history[r.id]) == r.status
            # Eligibility: nothing holds the student once the current agreement is terminated.
            assert (busy is None) == (not effective)

    return TerminationMachine


def test_termination_state_machine(database_url, world, tmp_path):
    asyncio.run(ready_student(database_url, world, NOW))
    employer2, _, account2 = asyncio.run(second_employer(database_url, NOW))
    run_state_machine_as_test(machine(database_url, world, tmp_path, (employer2, account2)), settings=hsettings(
        max_examples=15 if using_postgres() else 30, stateful_step_count=40, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))
