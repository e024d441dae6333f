"""操作日志 on the list component: each filter (学校, 学生, 操作人, 操作, 对象, 对象编号, dates)
keeps exactly what a plain Python filter of the same audit rows keeps (hypothesis draws the
filters), sorted by time either way; the 学生 filter finds exactly the rows about that
student's record and items; each row's item links to its staff page only for a viewer whose
role may open it, and the link opens; every action, item, state and detail key the app
writes reads in Chinese."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import strategies as st

from app import audit
from app.audit_browser import labels, service
from app.auth.sessions import Identity
from app.clock import CHINA
from app.db import Database
from app.roles import Role
from app.school_settings.service import FIELDS as SETTING_FIELDS
from app.tables import accounts, audit_log, student_records
from tests import exports_kit, todo_kit as kit
from tests.conftest import field_error
from tests.signing_kit import as_user
from tests.lists_kit import drawn, total

ROOT = Path(__file__).resolve().parents[1]
BASE = dt.datetime(2026, 5, 1, 1, 0, tzinfo=dt.timezone.utc)
DAYS = [(BASE + dt.timedelta(days=d)).astimezone(CHINA).date() for d in range(0, 12)]


@dataclass
class Log:
    """The generated log: students and their items, and the other items rows are about."""
    students: dict[str, dict[str, Any]]        # 学号 → {name, school, items: {(entity, id)}}
    items: list[tuple[str, int, int | None]]   # (entity, id, school id or None)
    staff: dict[str, int]                      # username → account id


ACTIONS = {  # entity → the actions the app writes about it
    "origin": ["origin.submit", "origin.approve", "origin.return"],
    "recommendation": ["recommendation.submit", "recommendation.approve"],
    "registration": ["registration.submit", "registration.return"],
    "agreement": ["agreement.invite", "agreement.create", "agreement.approve", "agreement.terminate"],
    "termination": ["termination.submit", "termination.approve"],
    "application": ["application.view", "application.reject"],
    "interview": ["interview.accept", "interview.finish"],
    "student_record": ["activate"],
    "account": ["login", "login.failed", "password_reset", "phone_verified"],
    "employer": ["register", "employer.approve"],
    "job": ["create", "job.approve"],
    "email_outbox": ["outbox.resend"],
    "hall_notice": ["hall.notice"],
    "school_settings": ["school_settings.change"],
}


async def _student_items(conn, world, record_id: int, school_id: int, now,
                         rich: bool = False) -> set[tuple[str, int]]:  # noqa: ANN001
    items = {("student_record", record_id), ("origin", await kit.origin(conn, record_id, "submitted", now))}
    agreement = await kit.agreement(conn, record_id, "effective", now,
                                    created_by=world.staff["employer"][1], employer_id=world.employer_id)
    items.add(("agreement", agreement))
    if rich:
        items |= {("recommendation", await kit.recommendation(conn, record_id, "submitted", now)),
                  ("registration", await kit.registration(conn, record_id, "submitted", now)),
                  ("termination", await kit.termination(conn, agreement, "submitted", now,
                                                        applicant_role="student", applicant_id=record_id))}
    return items


@pytest.fixture
async def log(world, settings, clock) -> Log:  # noqa: ANN001
    """Rows about three students of school 0 (two of them of the same name), one of school 1,
    their items, an employer, a job, a mail, hall notices and settings; by every staff
    account and the system, over twelve China days."""
    rng = random.Random(25)
    now = clock.now()
    s0, s1 = world.schools
    db = Database(settings.database_url)
    try:
        async with db.write() as conn:
            a = world.active_student(0)
            b = next(s for s in world.students if s.school_id == s0.id and not s.account_id)
            d_id = await kit.student(conn, s0.id, s0.college_ids[0], now)
            await conn.execute(student_records.update().where(student_records.c.id == d_id)
                               .values(name=b.name))   # 同名: D shares B's 姓名
            d_no = (await conn.execute(sa.select(student_records.c.student_no).where(
                student_records.c.id == d_id))).scalar_one()
            c = world.active_student(1)
            students = {}
            for sno, name, rid, school, rich in ((a.student_no, a.name, a.record_id, s0.id, True),
                                                 (b.student_no, b.name, b.record_id, s0.id, False),
                                                 (d_no, b.name, d_id, s0.id, False),
                                                 (c.student_no, c.name, c.record_id, s1.id, True)):
                found = await _student_items(conn, world, rid, school, now, rich)
                students[sno] = {"name": name, "school": school, "items": found}
            # 投递 and 面试 of the active students: theirs through their account
            job = await kit.job(conn, world.employer_id, "published", now)
            for st_ in (a, c):
                app_id = await kit.application(conn, job, st_.account_id, "invited", now)
                iv = await kit.interview(conn, app_id, now + dt.timedelta(days=3), "invited", now)
                students[st_.student_no]["items"] |= {("application", app_id), ("interview", iv),
                                                     ("account", st_.account_id)}
            items: list[tuple[str, int, int | None]] = []
            for sno, s in students.items():
                items += [(e, i, s["school"]) for e, i in s["items"]]
            items += [("employer", world.employer_id, None), ("job", job, None),
                      ("email_outbox", await kit.mail(conn, "failed", now), None),
                      ("hall_notice", 7, s0.id), ("school_settings", s0.id, s0.id),
                      ("school_settings", s1.id, s1.id),
                      ("account", world.staff["school_admin0"][1], s0.id),
                      ("account", world.staff["counselor1"][1], s1.id)]
            actors = [None, *(aid for _, aid in world.staff.values())]
            for n in range(260):
                entity, item_id, school = items[n % len(items)] if n < len(items) else rng.choice(items)
                action = rng.choice(ACTIONS[entity])
                states = (None, None)
                if entity == "origin":
                    states = rng.choice([("draft", "submitted"), ("submitted", "approved")])
                await audit.record(conn, at=BASE + dt.timedelta(minutes=rng.randrange(12 * 24 * 60)),
                                   actor_id=rng.choice(actors), action=action, entity=entity,
                                   entity_id=item_id, from_state=states[0], to_state=states[1],
                                   reason=rng.choice([None, "材料不全" * rng.randrange(1, 12)]),
                                   detail={"role": "counselor"}, school_id=school)
            await audit.record(conn, at=BASE, actor_id=None, action="hall.notice",
                               entity="hall_notice", entity_id=99, school_id=s0.id)   # just one
            staff = {r.username: r.id for r in await conn.execute(
                sa.select(accounts.c.username, accounts.c.id).where(accounts.c.username.is_not(None)))}
    finally:
        await db.dispose()
    return Log(students=students, items=items, staff=staff)


def ident_of(world, key: str) -> Identity:  # noqa: ANN001
    role = {"platform": Role.PLATFORM_ADMIN}.get(key, Role.SCHOOL_ADMIN)
    school = None if role == Role.PLATFORM_ADMIN else world.schools[int(key[-1])].id
    return Identity(account_id=world.staff[key][1], role=role, display_name=key, school_id=school,
                    college_id=None, employer_id=None, session_hash="")


def keeps(row: Any, actor: Any, f: dict[str, str], viewer: Identity, log: Log) -> bool:
    """The plain Python meaning of each filter."""
    def student(v: str) -> bool:
        named = [s for sno, s in log.students.items() if v in (sno, s["name"])
                 and (viewer.school_id is None or s["school"] == viewer.school_id)]
        return any((row.entity, int(row.entity_id)) in s["items"] for s in named)

    def action(v: str) -> bool:
        if v in {fl.name for fl in labels.FLOWS}:
            return row.entity == v
        return row.action == v or row.action.startswith(v + ".")

    def actor_is(v: str) -> bool:
        if v.isdigit():
            return row.actor_id == int(v)
        return actor is not None and (actor.username == v or v in actor.display_name)

    day = row.at.astimezone(CHINA).date()
    checks = {
        "school": lambda v: row.school_id is None if v == "none" else row.school_id == int(v),
        "student": student, "actor": actor_is, "action": action,
        "entity": lambda v: row.entity == v, "entity_id": lambda v: row.entity_id == v,
        "from": lambda v: day >= dt.date.fromisoformat(v),
        "to": lambda v: day <= dt.date.fromisoformat(v),
    }
    if viewer.school_id is not None and row.school_id != viewer.school_id:
        return False
    return all(checks[k](v) for k, v in f.items() if k in checks)


def filters_strategy(world, log: Log, platform: bool) -> st.SearchStrategy[dict[str, str]]:  # noqa: ANN001
    s0, s1 = world.schools
    students = sorted({*log.students, *(s["name"] for s in log.students.values())})
    choices = {
        "student": st.sampled_from(students),
        "actor": st.sampled_from(["counselor0", "school_admin1", "平台", "测试科技", "counselor",
                                  str(world.staff["school_admin0"][1]), str(world.staff["employer"][1])]),
        "action": st.sampled_from(["origin", "agreement", "employer", "job", "login", "hall",
                                   "origin.approve", "login.failed", "activate", "register",
                                   "school_settings.change", "agreement.invite"]),
        "entity": st.sampled_from(sorted(ACTIONS)),
        "entity_id": st.sampled_from(sorted({str(i) for _, i, _ in log.items})),
        "from": st.sampled_from([d.isoformat() for d in DAYS]),
        "to": st.sampled_from([d.isoformat() for d in DAYS]),
        **({"school": st.sampled_from([str(s0.id), str(s1.id), "none"])} if platform else {}),
    }
    return st.dictionaries(st.sampled_from(sorted(choices)), st.just(""), max_size=3).flatmap(
        lambda keys: st.fixed_dictionaries({k: choices[k] for k in keys}))


@pytest.mark.parametrize("viewer", ["school_admin0", "platform"])
async def test_each_filter_keeps_exactly_the_matching_rows(viewer, settings, world, log):
    ident = ident_of(world, viewer)
    db = Database(settings.database_url)
    try:
        async with db.read() as conn:
            every = list(await conn.execute(sa.select(audit_log)))
            actors = {r.id: r for r in await conn.execute(sa.select(accounts))}
            sizes = set()
            # none, one and many for certain; then what hypothesis draws
            fixed = [{"actor": "无此人"}, {"entity_id": "99"}, {}]
            for f in fixed + drawn(filters_strategy(world, log, ident.school_id is None), 70):
                descending = len(f) % 2 == 0
                r = await service.read(conn, ident, {**f, "sort": "-at" if descending else "at"})
                wrong = set()
                if f.get("from") and f.get("to") and f["from"] > f["to"]:
                    wrong.add("to")
                if "student" in f and not any(
                        f["student"] in (sno, s["name"]) and ident.school_id in (None, s["school"])
                        for sno, s in log.students.items()):
                    wrong.add("student")   # a student of another school: none of theirs
                assert set(r.form.errors) == wrong, f
                if wrong:
                    continue
                got = list(await conn.execute(service.rows().where(*r.where()).order_by(*r.order_by())))
                want = {row.id for row in every if keeps(row, actors.get(row.actor_id), f, ident, log)}
                assert {g.id for g in got} == want, f
                times = [(g.at, g.id) for g in got]
                assert times == sorted(times, reverse=descending), f
                sizes.add(min(len(got), 2))
            assert sizes == {0, 1, 2}
    finally:
        await db.dispose()


def listed_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-id="(\d+)"', page)]




async def rows_about(database_url: str, items: set[tuple[str, int]]) -> set[int]:
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return {r.id for r in await conn.execute(sa.select(audit_log))
                    if (r.entity, int(r.entity_id) if r.entity_id.isdigit() else -1) in items}
    finally:
        await db.dispose()


async def test_the_student_filter_shows_exactly_the_rows_about_that_students_items(
        make_client, world, settings, log):
    admin = await as_user(make_client, "staff", "school_admin0")
    a = world.active_student(0)
    b = next(s for s in world.students if s.school_id == world.schools[0].id and not s.account_id)
    mine = log.students[a.student_no]["items"]
    assert {e for e, _ in mine} == {"student_record", "origin", "recommendation", "registration",
                                    "agreement", "termination", "application", "interview", "account"}
    want = await rows_about(settings.database_url, mine)
    page = await (await admin.get(f"/audit?student={a.student_no}&size=200")).text()
    assert sorted(listed_ids(page)) == sorted(want) and total(page) == len(want)
    assert "学生（学号或姓名）：" + a.student_no in htmllib.unescape(page)   # the filter's chip
    # by 姓名: the same rows
    by_name = await (await admin.get(f"/audit?student={a.name}&size=200")).text()
    assert sorted(listed_ids(by_name)) == sorted(want)
    # a 姓名 two students share finds both; the 学号 one only
    both = [sno for sno, s in log.students.items() if s["name"] == b.name]
    assert len(both) == 2
    items_both = log.students[both[0]]["items"] | log.students[both[1]]["items"]
    page = await (await admin.get(f"/audit?student={b.name}&size=200")).text()
    assert sorted(listed_ids(page)) == sorted(await rows_about(settings.database_url, items_both))
    page = await (await admin.get(f"/audit?student={b.student_no}&size=200")).text()
    assert sorted(listed_ids(page)) == sorted(await rows_about(
        settings.database_url, log.students[b.student_no]["items"]))
    # with another filter: both apply
    page = await (await admin.get(f"/audit?student={a.student_no}&entity=origin&size=200")).text()
    origin = {i for e, i in mine if e == "origin"}
    assert sorted(listed_ids(page)) == sorted(await rows_about(
        settings.database_url, {("origin", i) for i in origin}))
    # another school's student is not found for a school admin (found for the platform's)
    c = world.active_student(1)
    resp = await admin.get(f"/audit?student={c.student_no}")
    assert resp.status == 400
    page = await resp.text()
    assert field_error(page, "student") == f"没有学号或姓名为“{c.student_no}”的学生"
    assert listed_ids(page) == []
    platform = await as_user(make_client, "staff", "platform")
    page = await (await platform.get(f"/audit?student={c.student_no}&size=200")).text()
    assert sorted(listed_ids(page)) == sorted(await rows_about(
        settings.database_url, log.students[c.student_no]["items"]))


def row_links(page: str) -> dict[int, str | None]:
    """row id → the href of its item's link, or None."""
    out = {}
    for rid, body in re.findall(r'<tr data-id="(\d+)"[^>]*>(.*?)</tr>', page, re.S):
        m = re.search(r'<a href="([^"]+)" class="item-link">', body)
        out[int(rid)] = htmllib.unescape(m.group(1)) if m else None
    return out


PAGES = {"origin": "/reviews/origins/{}", "recommendation": "/school/recommendations/{}",
         "agreement": "/reviews/agreements/{}", "registration": "/reviews/registrations/{}",
         "termination": "/reviews/terminations/{}", "student_record": "/school/students/{}",
         "employer": "/platform/employers/{}", "job": "/platform/jobs/{}",
         "email_outbox": "/platform/outbox/{}", "school_settings": "/schools/{}/settings"}
# whose pages each admin may open (the routes' @allow)
SCHOOL_ADMIN_OPENS = {"origin", "recommendation", "agreement", "registration", "termination",
                      "student_record", "school_settings"}
PLATFORM_OPENS = {"student_record", "employer", "job", "email_outbox", "school_settings"}


@pytest.mark.parametrize("viewer", ["school_admin0", "platform"])
async def test_each_item_links_to_its_page_only_for_who_may_open_it(viewer, make_client, world,
                                                                    settings, log):
    c = await as_user(make_client, "staff", viewer)
    page = await (await c.get("/audit?size=200")).text()
    links = row_links(page)
    opens = SCHOOL_ADMIN_OPENS if viewer != "platform" else PLATFORM_OPENS
    db = Database(settings.database_url)
    try:
        async with db.read() as conn:
            rows = {r.id: r for r in await conn.execute(
                sa.select(audit_log).where(audit_log.c.id.in_(list(links))))}
    finally:
        await db.dispose()
    assert len(links) == len(rows) > 100
    seen = set()
    for rid, href in links.items():
        row = rows[rid]
        if row.entity in opens and row.entity_id.isdigit():
            assert href == PAGES[row.entity].format(row.entity_id), (row.entity, row.action)
            seen.add(row.entity)
        else:
            assert href is None, (row.entity, href)
    assert seen == opens
    for href in sorted({h for h in links.values() if h}):
        assert (await c.get(href)).status == 200, href


def test_every_action_item_state_and_detail_the_app_writes_reads_in_chinese():
    sources = [p.read_text() for d in ("app", "rtc") for p in (ROOT / d).rglob("*.py")]
    calls = [m for s in sources for m in re.findall(r"audit\.record\((.*?)\)\n", s, re.S)]
    assert len(calls) >= 15
    actions = {a for c in calls for a in re.findall(r'action="([^"]+)"', c)}
    entities = {e for c in calls for e in re.findall(r'entity="([^"]+)"', c)}
    details = {k for c in calls for d in re.findall(r"detail=\{([^}]*)\}", c)
               for k in re.findall(r'"(\w+)":', d)}
    assert {"login", "hall.remove", "outbox.resend"} <= actions and "hall_ticket" in entities
    assert actions <= set(labels.ACTION_LABELS), actions - set(labels.ACTION_LABELS)
    # the flows' own steps, written by workflow.transition as "<flow>.<action>"
    for flow in labels.FLOWS:
        for step in flow.steps:
            assert f"{flow.name}.{step.action}" in labels.ACTION_LABELS
            assert {step.source.value, step.target.value} <= set(labels.STATE_LABELS[flow.name])
    assert entities <= set(labels.ENTITY_LABELS), entities - set(labels.ENTITY_LABELS)
    assert {"role", "portal", "session_id", "tickets", "phone"} <= details
    assert details <= set(labels.DETAILS), details - set(labels.DETAILS)
    assert set(SETTING_FIELDS) <= set(labels.DETAILS)
    # the states written outside a flow
    for entity, states in (("student_record", ("inactive", "active")),
                           ("interview_session", ("open", "closed", "ended")),
                           ("hall_ticket", ("waiting", "removed", "closed")),
                           ("email_outbox", ("failed", "pending"))):
        for s in states:
            assert not re.search(r"[a-z]", labels.state_label(entity, s)), (entity, s)
    # and as a person reads them
    assert labels.describe({"hall_open_minutes": [None, 15], "online_signing": [True, False],
                            "termination_opens": [None, "2026-07-01"]}) == (
        "面试大厅提前开放：默认 → 15分钟；开放线上应约：是 → 否；解约申请开放日期：未设置 → 2026-07-01")
    assert labels.state_change("student_record", "inactive", "active") == "未激活 → 已激活"


async def test_a_long_detail_folds_and_the_rows_are_cards(make_client, world, log):
    admin = await as_user(make_client, "staff", "school_admin0")
    page = await (await admin.get("/audit?size=200")).text()
    assert 'class="table compact stack pairs"' in page
    cells = re.findall(r'<td data-label="理由与详情" class="detail">(.*?)</td>', page, re.S)
    folded = [c for c in cells if c.startswith("<details>")]
    assert folded and all(len(htmllib.unescape(re.sub("<[^>]+>", "", c))) > 40 for c in folded)
    assert all(len(c) <= 40 for c in cells if not c.startswith("<details>"))
    # every cell of a row is labelled for its card on a phone
    for body in re.findall(r'<tr data-id="\d+"[^>]*>(.*?)</tr>', page, re.S)[:20]:
        assert body.count("<td") == body.count("<td data-label=") == 6


async def test_the_export_holds_exactly_the_filtered_rows_of_ones_own_part(make_client, world, log):
    admin = await as_user(make_client, "staff", "school_admin0")
    query = {"student": world.active_student(0).student_no, "sort": "at"}
    page = await (await admin.get("/audit", params={**query, "size": "200"})).text()
    shown = listed_ids(page)
    assert 0 < len(shown) == total(page)
    book = await exports_kit.exported(admin, "audit_log", **query)
    rows = list(book["操作日志"].iter_rows(values_only=True))
    assert rows[0][:4] == ("时间", "操作人", "用户名", "操作") and len(rows) - 1 == len(shown)
    about = {r[0]: r[1] for r in book["说明"].iter_rows(values_only=True)}
    assert about["范围"] == "本校" and world.active_student(0).student_no in about["筛选条件"]
    # another school's student: refused at the click, as on the page
    other = {"student": world.active_student(1).student_no}
    assert (await exports_kit.ask(admin, "audit_log", **other)).status == 403
    counselor = await as_user(make_client, "staff", "counselor0")
    assert (await exports_kit.ask(counselor, "audit_log")).status == 403
