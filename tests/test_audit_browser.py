"""操作日志: logins, failed logins and create-admin leave audit rows (never a password); each
row knows its school; a school admin browses only their school's rows, a platform admin all;
filters by actor, item, action and dates; 50 rows a page with the filters kept in the links."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from app import audit, workflow
from app.applications import service as apps
from app.applications.service import APPLICATION_FLOW
from app.db import Database
from app.roles import Role
from app.tables import accounts, applications, audit_log
from app.uploads import FileStore
from tests.conftest import field_error
from tests.factories import PASSWORD
from tests.helpers import published_job, saved_resume
from tests.signing_kit import as_user
from tests.test_cli import cli_env, run

WRONG = "Wr0ng-Secret!zz"


async def audit_rows(database_url: str, *where) -> list[sa.Row]:  # noqa: ANN002
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return list(await conn.execute(sa.select(audit_log).where(*where).order_by(audit_log.c.id)))
    finally:
        await db.dispose()


def listed_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-id="(\d+)"', html)]


async def test_logins_and_failed_logins_are_audited_without_the_password(make_client, world, settings):
    c = await make_client()
    await c.get("/login/staff")
    assert (await c.post("/login/staff", {"account": "school_admin0", "password": WRONG})).status == 400
    assert (await c.post("/login/staff", {"account": "nobody-" + WRONG, "password": WRONG})).status == 400
    await c.login("staff", "school_admin0", PASSWORD)
    rows = await audit_rows(settings.database_url, audit_log.c.action.in_(["login", "login.failed"]))
    admin_id = world.staff["school_admin0"][1]
    assert [(r.action, r.actor_id, r.entity, r.entity_id, r.school_id) for r in rows] == [
        ("login.failed", None, "account", str(admin_id), world.schools[0].id),
        ("login.failed", None, "account", "unknown", None),
        ("login", admin_id, "account", str(admin_id), world.schools[0].id)]
    assert all(r.detail["portal"] == "staff" and r.detail["address"] for r in rows)
    # neither the password nor a typed unknown name (often a password in the wrong box) is kept
    assert not any(WRONG in repr(tuple(r)) or PASSWORD in repr(tuple(r)) for r in rows)


async def test_create_admin_on_the_command_line_is_audited(database_url, world, tmp_path):
    env = cli_env(database_url, tmp_path, ADMIN_PASSWORD="Str0ng-Passw0rd")
    run(["create-admin", "--username", "ops_school", "--role", "school", "--school", "10002"], env)
    rows = await audit_rows(database_url, audit_log.c.action == "create_admin")
    db = Database(database_url)
    try:
        async with db.read() as conn:
            new_id = (await conn.execute(sa.select(accounts.c.id).where(
                accounts.c.username == "ops_school"))).scalar_one()
    finally:
        await db.dispose()
    assert [(r.actor_id, r.entity, r.entity_id, r.school_id, r.detail) for r in rows] == [
        (None, "account", str(new_id), world.schools[1].id,
         {"role": "school_admin", "username": "ops_school", "via": "command line"})]


async def test_an_employers_step_lands_in_the_students_schools_log(world, settings, clock, make_client):
    """The employer has no school: its rows about a student's record carry the student's."""
    now = clock.now()
    student = world.active_student(1)
    job_id = await published_job(settings.database_url, world.employer_id, world.staff["employer"][1],
                                 world.staff["platform"][1], now)
    await saved_resume(settings.database_url, student.account_id, now, name=student.name)
    db = Database(settings.database_url)
    try:
        async with db.write() as conn:
            app_id = await apps.apply(conn, FileStore(settings.data_dir), job_id=job_id,
                                      account_id=student.account_id, now=now)
            await workflow.transition(conn, APPLICATION_FLOW, app_id, "reject", at=now,
                                      actor=workflow.Actor(world.staff["employer"][1], Role.EMPLOYER))
            assert (await conn.execute(sa.select(applications.c.status)
                                       .where(applications.c.id == app_id))).scalar_one() == "rejected"
    finally:
        await db.dispose()
    (rejected,) = await audit_rows(settings.database_url, audit_log.c.action == "application.reject")
    assert (rejected.actor_id, rejected.school_id) == (world.staff["employer"][1], world.schools[1].id)
    # the employer's own job row stays platform-wide
    (job_row,) = await audit_rows(settings.database_url, audit_log.c.entity == "job",
                                  audit_log.c.action == "create")
    assert job_row.school_id is None
    admin1 = await as_user(make_client, "staff", "school_admin1")
    assert rejected.id in listed_ids(await (await admin1.get("/audit")).text())
    admin0 = await as_user(make_client, "staff", "school_admin0")
    seen0 = listed_ids(await (await admin0.get("/audit")).text())
    assert rejected.id not in seen0 and job_row.id not in seen0


@pytest.fixture
async def logged(world, settings, clock, make_client):  # noqa: ANN001, ANN201
    """Logins of both schools' admins and counselors, the employer and the platform admin,
    a day apart each (school 0's counselor logs in on day 2)."""
    clients = {}
    for day, key, kind in ((0, "school_admin0", "staff"), (1, "school_admin1", "staff"),
                           (2, "counselor0", "staff"), (3, "employer", "employer"),
                           (4, "platform", "staff")):
        clients[key] = await as_user(make_client, kind, world.staff[key][0])
        clock.advance(days=1)
    return clients


async def test_a_school_admin_sees_only_their_schools_rows(logged, world, settings):
    rows = await audit_rows(settings.database_url, audit_log.c.action == "login")
    by_actor = {r.actor_id: r.id for r in rows}
    staff = world.staff
    html = await (await logged["school_admin0"].get("/audit")).text()
    assert sorted(listed_ids(html)) == sorted([by_actor[staff["school_admin0"][1]],
                                               by_actor[staff["counselor0"][1]]])
    # a school in the URL does not widen a school admin's view
    html = await (await logged["school_admin0"].get(f"/audit?school={world.schools[1].id}")).text()
    assert by_actor[staff["school_admin1"][1]] not in listed_ids(html)
    # the platform admin sees every row, the platform's own (the employer's) too, or one school's
    html = await (await logged["platform"].get("/audit")).text()
    assert set(by_actor.values()) <= set(listed_ids(html))
    html = await (await logged["platform"].get(f"/audit?school={world.schools[1].id}")).text()
    assert listed_ids(html) == [by_actor[staff["school_admin1"][1]]]
    for key in ("counselor0", "employer"):
        assert (await logged[key].get("/audit")).status == 403


async def test_filters_by_actor_item_action_and_dates(logged, world, settings, clock):
    admin = logged["school_admin0"]
    mine = world.staff["school_admin0"][1]
    counselor = world.staff["counselor0"][1]
    (counselor_login,) = await audit_rows(settings.database_url, audit_log.c.actor_id == counselor)
    html = await (await admin.get("/audit?actor=counselor0")).text()
    assert listed_ids(html) == [counselor_login.id]
    assert listed_ids(await (await admin.get(f"/audit?actor={counselor}")).text()) == [counselor_login.id]
    html = await (await admin.get(f"/audit?entity=account&entity_id={mine}")).text()
    assert [r.actor_id for r in await audit_rows(settings.database_url, audit_log.c.id.in_(
        listed_ids(html)))] == [mine]
    # "login" also finds login.failed; "login.failed" only those
    fail = await logged["counselor0"].post("/login/staff", {"account": "counselor0", "password": WRONG})
    assert fail.status == 400
    (failed,) = await audit_rows(settings.database_url, audit_log.c.action == "login.failed")
    assert failed.id in listed_ids(await (await admin.get("/audit?action=login")).text())
    assert listed_ids(await (await admin.get("/audit?action=login.failed")).text()) == [failed.id]
    # dates are China dates, both ends included: day 2 is the counselor's login only
    day0 = (clock.now() - dt.timedelta(days=5)).astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    day2 = (day0 + dt.timedelta(days=2)).isoformat()
    html = await (await admin.get(f"/audit?action=login&from={day2}&to={day2}")).text()
    assert listed_ids(html) == [counselor_login.id]
    html = await (await admin.get(f"/audit?action=login&to={day0.isoformat()}")).text()
    assert [r.actor_id for r in await audit_rows(settings.database_url, audit_log.c.id.in_(
        listed_ids(html)))] == [mine]


async def test_bad_filters_are_shown_next_to_their_fields_and_list_nothing(logged):
    resp = await logged["school_admin0"].get("/audit?from=2026-02-30&to=2026-01-01&entity=nonsense"
                                             "&actor=" + "x" * 80)
    html = await resp.text()
    assert resp.status == 400
    assert field_error(html, "from") == "请输入日期，如 2026-06-30"   # the list component's word
    assert field_error(html, "entity") == "请选择列表中的对象"
    assert field_error(html, "actor") == "内容过长"
    assert 'value="2026-02-30"' in html and listed_ids(html) == []
    resp = await logged["school_admin0"].get("/audit?from=2026-03-02&to=2026-03-01")
    assert resp.status == 400 and "不能早于" in field_error(await resp.text(), "to")


async def test_fifty_rows_a_page_and_the_links_keep_the_filters(logged, world, settings, clock):
    db = Database(settings.database_url)
    try:
        async with db.write() as conn:
            for i in range(120):
                await audit.record(conn, at=clock.now() + dt.timedelta(seconds=i),
                                   actor_id=world.staff["school_admin0"][1], action="hall.notice",
                                   entity="hall_notice", entity_id=i)
    finally:
        await db.dispose()
    admin = logged["school_admin0"]
    first = await (await admin.get("/audit?action=hall.notice")).text()
    assert len(listed_ids(first)) == 50 and "第 1 / 3 页，共 120 条" in first
    assert 'href="/audit?action=hall.notice&amp;page=2"' in first
    assert 'href="/audit?action=hall.notice&amp;page=3"' in first
    third = await (await admin.get("/audit?action=hall.notice&page=3")).text()
    assert len(listed_ids(third)) == 20
    assert 'href="/audit?action=hall.notice&amp;page=2" rel="prev"' in third
    newest_first = listed_ids(first) + listed_ids(
        await (await admin.get("/audit?action=hall.notice&page=2")).text()) + listed_ids(third)
    assert newest_first == sorted(newest_first, reverse=True) and len(set(newest_first)) == 120
    # past the end: the last page
    assert listed_ids(await (await admin.get("/audit?action=hall.notice&page=99")).text()) == \
        listed_ids(third)
