"""就业信息登记's flow on the engine, against the real database: random actions by random
roles (the student, the counselor, the school admin, staff of another college and school)
through the registration service, with a competing 就业协议书 claiming and releasing the
destination. After every step the audit replays to the stored state, and no path gives the
graduate two effective destinations, whether a reviewer decides on the item's page or as
one item of a batch."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from pathlib import Path

import sqlalchemy as sa
from hypothesis import HealthCheck, settings as hsettings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from PIL import Image

from app import workflow
from app.auth.sessions import Identity
from app.db import Database
from app.destinations import service as destinations
from app.destinations.codes import blocks
from app.destinations.tables import graduate_destinations
from app.forms import FormError
from app.lists import batch
from app.registration import listing, service
from app.registration.flows import EDITABLE, REGISTRATION_FLOW
from app.registration.tables import registrations
from app.roles import Role
from app.tables import audit_log, email_outbox, files, notices
from app.uploads import FileStore
from tests.conftest import using_postgres
from tests.factories import World, build_world
from tests.registration_helpers import ready_student, staff_account

NOW = dt.datetime(2026, 6, 1, 1, 0, tzinfo=dt.timezone.utc)   # before the 31 August deadline
AGREEMENT_ID = 1


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(out, "JPEG")
    return out.getvalue()


# The branches the machine picks: one with evidence, one that does not block, two plain ones.
FILLED = {
    "46": ({"area": "500103"}, {"enlist_notice": service.Upload("n.jpg", "image/jpeg", _jpeg())}),
    "70": ({"sub_code": "701"}, {}),
    "71": ({}, {}),
    "80": ({"sub_code": "801", "admitted_school": "重庆大学"}, {}),
}


def ident(account_id: int, role: Role, school_id: int, college_id: int | None) -> Identity:
    return Identity(account_id=account_id, role=role, display_name="", school_id=school_id,
                    college_id=college_id, employer_id=None, session_hash="")


async def _setup(database_url: str) -> tuple[World, dict[str, Identity]]:
    world = await build_world(database_url, NOW)
    student = await ready_student(database_url, world, NOW)
    s0, s1 = world.schools
    other_college = await staff_account(database_url, world, "counselor_b", Role.COUNSELOR, NOW,
                                        college=1)
    people = {
        "student": ident(student.account_id, Role.STUDENT, s0.id, s0.college_ids[0]),
        "counselor": ident(world.staff["counselor0"][1], Role.COUNSELOR, s0.id, s0.college_ids[0]),
        "school_admin": ident(world.staff["school_admin0"][1], Role.SCHOOL_ADMIN, s0.id, None),
        "other_college": ident(other_college, Role.COUNSELOR, s0.id, s0.college_ids[1]),
        "other_school": ident(world.staff["school_admin1"][1], Role.SCHOOL_ADMIN, s1.id, None),
    }
    return world, people


def machine_for(database_url: str, data_dir: Path, world: World,
                people: dict[str, Identity]) -> type[RuleBasedStateMachine]:
    student = world.active_student()
    store = FileStore(data_dir)
    # in-scope reviewers and approvals weigh more, so that walks reach the school's approval
    reviewers = ["counselor", "counselor", "school_admin", "school_admin", "other_college",
                 "other_school"]

    class RegistrationMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.loop = asyncio.new_event_loop()
            self.db = Database(database_url)
            self.run(self._clean())
            self.state = REGISTRATION_FLOW.initial.value
            self.code: str | None = None
            self.holder: str | None = None      # who holds graduate_destinations: the model
            self.audit_rows = 0

        def run(self, coro):  # noqa: ANN001, ANN201
            return self.loop.run_until_complete(coro)

        async def _clean(self) -> None:
            async with self.db.write() as conn:
                for table, where in ((graduate_destinations, sa.true()),
                                     (registrations, sa.true()), (files, sa.true()),
                                     (audit_log, audit_log.c.entity == "registration"),
                                     (notices, sa.true()), (email_outbox, sa.true())):
                    await conn.execute(table.delete().where(where))

        async def _write(self, fn, *args, **kw):  # noqa: ANN001, ANN202
            async with self.db.write() as conn:
                return await fn(conn, *args, **kw)

        def _try(self, allowed: bool, fn, *args, **kw):  # noqa: ANN001, ANN202
            try:
                result = self.run(self._write(fn, *args, **kw))
            except (workflow.TransitionError, FormError) as exc:
                assert not allowed, exc
                return None, False
            assert allowed, (self.state, self.code, self.holder, fn.__name__)
            return result, True

        @property
        def editable(self) -> bool:
            return self.state in EDITABLE and self.holder != "agreement"

        @rule(code=st.sampled_from(sorted(FILLED)))
        def student_chooses(self, code: str) -> None:
            _, ok = self._try(self.editable, service.choose, people["student"], code, NOW)
            if ok:
                self.code = code

        @rule()
        def student_goes_back_to_the_chooser(self) -> None:
            _, ok = self._try(self.editable, service.reset, people["student"], NOW)
            if ok:
                self.code = None

        @rule(code=st.sampled_from(sorted(FILLED)))
        def student_fills_a_branch_and_submits(self, code: str) -> None:
            self.student_chooses(code)
            self.student_submits()

        @rule()
        def student_submits(self) -> None:
            values, uploads = FILLED.get(self.code or "", ({}, {}))
            _, ok = self._try(self.editable and self.code is not None, service.submit,
                              people["student"], values, uploads, store, now=NOW)
            if ok:
                self.state, self.audit_rows = "submitted", self.audit_rows + 1

        @rule()
        def student_withdraws(self) -> None:
            _, ok = self._try(self.state == "submitted", service.withdraw, people["student"], NOW)
            if ok:
                self.state, self.audit_rows = "draft", self.audit_rows + 1

        @rule(who=st.sampled_from(reviewers), action=st.sampled_from(["approve", "approve", "return"]),
              reason=st.sampled_from(["", "材料不清晰"]))
        def staff_decides(self, who: str, action: str, reason: str) -> None:
            reg_id = self.run(self._reg_id())
            if reg_id is None:
                return
            person = people[who]
            if who not in ("counselor", "school_admin"):   # not theirs: not found, nothing done
                assert self.run(self._write(service.review, person, reg_id, action,
                                            reason=reason or None, now=NOW)) is None
                return
            result, ok = self._try(self._may(who, action, reason), service.review, person,
                                   reg_id, action, reason=reason or None, now=NOW)
            if ok:
                self._decided(result)

        def _may(self, who: str, action: str, reason: str) -> bool:
            step = REGISTRATION_FLOW.step(self.state, action)
            return (who in ("counselor", "school_admin") and step is not None
                    and people[who].role in step.roles
                    and not (step.reason_required and not reason)
                    # the school's approval claims the destination: refused while an
                    # agreement holds it
                    and not (step.target == "approved" and self.holder == "agreement"))

        def _decided(self, state: str) -> None:
            self.state, self.audit_rows = state, self.audit_rows + 1
            if state == "approved":
                self.holder = "registration"

        @rule(who=st.sampled_from(reviewers), action=st.sampled_from(["approve", "approve", "return"]),
              reason=st.sampled_from(["", "材料不清晰"]))
        def staff_decides_in_a_batch(self, who: str, action: str, reason: str) -> None:
            """The same decision as one item of a batch (the queue's 批量通过/批量退回): done,
            or reported with the reason and nothing of it kept."""
            reg_id = self.run(self._reg_id())
            if reg_id is None:
                return
            act = listing.decide(people[who], NOW)(action, reason or None)
            report = self.run(batch.apply(self.db, [reg_id], act))
            allowed = self._may(who, action, reason)
            assert len(report.done) == int(allowed) and len(report.failed) == int(not allowed), \
                (self.state, self.holder, who, action, report)
            if who not in ("counselor", "school_admin"):
                assert report.failed == [(f"#{reg_id}", "不在您的范围内")]
            if allowed:
                self._decided(REGISTRATION_FLOW.step(self.state, action).target.value)

        @rule()
        def student_revises_an_approved_non_blocking_one(self) -> None:
            allowed = (self.state == "approved" and not blocks(self.code or "")
                       and self.holder != "agreement")
            _, ok = self._try(allowed, service.revise, people["student"], NOW)
            if ok:
                self.state, self.holder, self.audit_rows = "draft", None, self.audit_rows + 1

        @rule()
        def both_levels_approve(self) -> None:
            # the happy path as one rule, so that walks often reach the school's approval
            self.staff_decides("counselor", "approve", "")
            self.staff_decides("school_admin", "approve", "")

        @rule()
        def agreement_becomes_effective(self) -> None:
            allowed = self.holder in (None, "agreement") or (
                self.holder == "registration" and not blocks(self.code or ""))
            try:
                self.run(self._write(lambda conn: destinations.claim(
                    conn, student_record_id=student.record_id, school_id=student.school_id,
                    college_id=world.schools[0].college_ids[0], code="10", source="agreement",
                    source_id=AGREEMENT_ID, at=NOW)))
            except destinations.DestinationTaken:
                assert not allowed
                return
            assert allowed, (self.state, self.code, self.holder)
            self.holder = "agreement"

        @rule()
        def agreement_is_terminated(self) -> None:
            gone = self.run(self._write(lambda conn: destinations.release(
                conn, source="agreement", source_id=AGREEMENT_ID)))
            assert gone == (self.holder == "agreement")
            if gone:
                self.holder = None

        async def _reg_id(self) -> int | None:
            async with self.db.read() as conn:
                return (await conn.execute(sa.select(registrations.c.id))).scalar()

        async def _facts(self):  # noqa: ANN202
            async with self.db.read() as conn:
                reg = (await conn.execute(sa.select(registrations))).first()
                held = (await conn.execute(sa.select(graduate_destinations))).all()
                entries = await service.history(conn, reg.id) if reg else []
            return reg, held, entries

        @invariant()
        def audit_replays_and_one_destination_at_most(self) -> None:
            reg, held, entries = self.run(self._facts())
            state = reg.status if reg else REGISTRATION_FLOW.initial.value
            assert state == self.state
            assert (reg.code if reg else None) == self.code
            assert len(entries) == self.audit_rows
            assert workflow.replay(REGISTRATION_FLOW, entries) == state
            assert len(held) <= 1
            assert (held[0].source if held else None) == self.holder
            approved_blocking = state == "approved" and blocks(self.code or "")
            # an approved registration that blocks and an effective agreement never coexist
            assert not (approved_blocking and self.holder == "agreement")
            if approved_blocking:
                assert held[0].source_id == reg.id and held[0].code == reg.code

        def teardown(self) -> None:
            self.run(self.db.dispose())
            self.loop.close()

    return RegistrationMachine


def test_random_actions_replay_and_never_two_destinations(database_url, tmp_path):
    world, people = asyncio.run(_setup(database_url))
    machine = machine_for(database_url, tmp_path / "data", world, people)
    run_state_machine_as_test(machine, settings=hsettings(
        max_examples=15 if using_postgres() else 25, stateful_step_count=30, deadline=None,
        suppress_health_check=[HealthCheck.too_slow]))
