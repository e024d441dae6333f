"""Batch decisions on a staff list (app/lists/batch.py), on the 生源信息 queue: "select all N
that match" acts on exactly those N, a confirmation names the count and is asked again when
the list changed meanwhile, items another reviewer decided in between are listed with the
reason (never skipped in silence), 退回 takes one reason for all, and every decision leaves
its own audit row."""

from __future__ import annotations


import re

import sqlalchemy as sa

from app import workflow
from app.db import Database
from app.reviews.flows import ORIGIN_FLOW
from app.reviews.tables import origin_records
from app.roles import Role
from app.tables import audit_log
from tests.conftest import field_error
from tests.factories import PASSWORD
from tests.lists_kit import count_on, done_failed, states
from tests.review_helpers import submitted_origins


async def audit_rows(database_url: str, action: str) -> list[str]:
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return [r.entity_id for r in await conn.execute(
                sa.select(audit_log.c.entity_id).where(audit_log.c.entity == "origin",
                                                       audit_log.c.action == f"origin.{action}"))]
    finally:
        await db.dispose()


async def decided_elsewhere(database_url: str, world, origin_ids: list[int], now) -> None:  # noqa: ANN001
    """Another counselor of the college decides these first."""
    db = Database(database_url)
    try:
        async with db.write() as conn:
            for oid in origin_ids:
                await workflow.transition(conn, ORIGIN_FLOW, oid, "approve", at=now,
                                          actor=workflow.Actor(world.staff["counselor0"][1], Role.COUNSELOR))
    finally:
        await db.dispose()


async def test_select_all_that_match_acts_on_exactly_those_and_recounts_when_they_change(
        make_client, world, settings, clock):
    made = await submitted_origins(settings.database_url, world, clock.now(), 45)
    undergrads = [oid for oid, edu in made if edu == "本科生"]   # 15 of the 45
    counselor = await make_client()
    await counselor.login("staff", world.staff["counselor0"][0], PASSWORD)
    listed = await (await counselor.get("/reviews/origins?status=submitted&education=本科生&size=20")).text()
    assert 'data-total="15"' in listed and "选择全部" not in listed   # one page holds them all
    # each row opens its review page with the queue's filters, for 下一条 and 返回列表
    links = re.findall(r'href="/reviews/origins/(\d+)\?([^"]+)"', listed)
    assert len(links) == 15 and all("education=" in q and "status=submitted" in q for _, q in links)
    listed = await (await counselor.get("/reviews/origins?status=submitted")).text()
    assert 'data-total="45"' in listed and "选择全部 45 条符合条件的记录" in listed
    every = {"action": "approve", "every": "1", "status": "submitted", "education": "本科生"}
    page = await (await counselor.post("/reviews/origins/batch", {**every, "expected": "15"})).text()
    assert count_on(page) == 15 and "确认通过 15 条" in page
    assert (await states(settings.database_url, origin_records))[undergrads[0]] == "submitted"   # nothing yet
    # two of them are decided by someone else before the confirmation
    await decided_elsewhere(settings.database_url, world, undergrads[:2], clock.now())
    resp = await counselor.post("/reviews/origins/batch", {**every, "expected": "15", "confirmed": "1"})
    page = await resp.text()
    assert resp.status == 409 and "符合条件的记录已变为 13 条" in page and count_on(page) == 13
    assert await audit_rows(settings.database_url, "approve") == [str(i) for i in undergrads[:2]]
    resp = await counselor.post("/reviews/origins/batch", {**every, "expected": "13", "confirmed": "1"})
    assert done_failed(await resp.text()) == (13, 0)
    after = await states(settings.database_url, origin_records)
    assert {oid for oid, s in after.items() if s == "approved"} == set(undergrads)
    assert all(after[oid] == "submitted" for oid, edu in made if edu != "本科生")
    audited = await audit_rows(settings.database_url, "approve")
    assert sorted(audited) == sorted(str(i) for i in undergrads) and len(audited) == 15


async def test_ticked_items_changed_meanwhile_are_reported_and_return_takes_one_reason(
        make_client, world, settings, clock):
    made = [oid for oid, _ in await submitted_origins(settings.database_url, world, clock.now(), 6)]
    other_school = [oid for oid, _ in await submitted_origins(settings.database_url, world,
                                                              clock.now(), 1, school=1)]
    counselor = await make_client()
    await counselor.login("staff", world.staff["counselor0"][0], PASSWORD)
    ticked = {"action": "return", "id": [str(i) for i in made + other_school]}
    page = await (await counselor.post("/reviews/origins/batch", ticked)).text()
    assert count_on(page) == 7 and "退回理由" in page
    resp = await counselor.post("/reviews/origins/batch", {**ticked, "confirmed": "1"})
    page = await resp.text()
    assert resp.status == 400 and field_error(page, "reason") == "请填写退回理由"
    assert set((await states(settings.database_url, origin_records)).values()) == {"submitted"}   # nothing written
    await decided_elsewhere(settings.database_url, world, made[:2], clock.now())
    resp = await counselor.post("/reviews/origins/batch",
                                {**ticked, "confirmed": "1", "reason": "请补充家庭住址"})
    page = await resp.text()
    assert done_failed(page) == (4, 3)
    assert page.count("当前状态为“已通过”") == 2 and f"#{other_school[0]}：不在您的范围内" in page
    after = await states(settings.database_url, origin_records)
    assert [after[i] for i in made] == ["approved"] * 2 + ["returned"] * 4
    assert after[other_school[0]] == "submitted"
    db = Database(settings.database_url)
    try:
        async with db.read() as conn:
            reasons = list((await conn.execute(sa.select(audit_log.c.reason).where(
                audit_log.c.action == "origin.return"))).scalars())
    finally:
        await db.dispose()
    assert reasons == ["请补充家庭住址"] * 4   # one audit row per item, each with the reason


async def test_a_school_admin_cannot_approve_and_a_counselor_cannot_notify(make_client, world, settings, clock):
    made = [oid for oid, _ in await submitted_origins(settings.database_url, world, clock.now(), 2)]
    admin = await make_client()
    await admin.login("staff", world.staff["school_admin0"][0], PASSWORD)
    resp = await admin.post("/reviews/origins/batch", {"action": "approve", "id": [str(made[0])],
                                                       "confirmed": "1"})
    assert resp.status == 400
    counselor = await make_client()
    await counselor.login("staff", world.staff["counselor0"][0], PASSWORD)
    resp = await counselor.post("/reviews/origins/batch", {"action": "notify", "id": [str(made[0])],
                                                           "confirmed": "1"})
    assert resp.status == 400
    assert set((await states(settings.database_url, origin_records)).values()) == {"submitted"}
