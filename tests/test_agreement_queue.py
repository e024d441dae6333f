"""The 就业协议书 review queue on the staff list component (app/signing/listing.py): each
filter narrows to exactly what a plain Python filter of the agreements made here keeps
(hypothesis draws the filters), the 待办 links' ?status= values still open exactly their
work, batch 通过 / 退回 act on "all N that match" only as counted, report what they could
not do and why, leave one audit row per item, and decide nothing outside the reviewer's
part; the review page keeps the queue's filters through a decision to 【下一条】."""

from __future__ import annotations

import datetime as dt
import html
import random
import re
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import strategies as st

from app.auth.sessions import Identity
from app.db import Database
from app.destinations.tables import graduate_destinations
from app.roles import Role
from app.signing import listing
from app.signing.review import STAFF_VISIBLE, decide
from app.signing.tables import agreements
from app.tables import audit_log, majors
from tests.agreement_queue_kit import BASE, UNITS, Made, add_agreement, make
from tests.conftest import field_error
from tests.lists_kit import count_on, done_failed, drawn, states, total
from tests.signing_kit import add_account, as_user

DAYS = [dt.date(2026, 5, 1) + dt.timedelta(days=d) for d in range(0, 17, 2)]
EDUCATIONS = ("本科生", "硕士生", "专科生")
HIDDEN = ("draft", "awaiting", "confirmed")   # the student's business: never listed to staff
# written out here, not imported: the test checks the app's meaning of 待我审核
WAITING = {Role.COUNSELOR: {"college"}, Role.SCHOOL_ADMIN: {"school", "scan_review"}}


def ident(world: Any, key: str, role: Role, *, school: int = 0, college: int | None = 0) -> Identity:
    sd = world.schools[school]
    return Identity(account_id=world.staff[key][1], role=role, display_name=key, school_id=sd.id,
                    college_id=sd.college_ids[college] if college is not None else None,
                    employer_id=None, session_hash="")


def words_in(q: str, *texts: str) -> bool:
    return all(any(w.lower() in t.lower() for t in texts) for w in q.split())


def keeps(a: Made, f: dict[str, str], who: Identity) -> bool:
    """The plain Python meaning of the list: the reviewer's part, what staff see, the filters."""
    if a.school_id != who.school_id or a.status not in STAFF_VISIBLE:
        return False
    if who.college_id is not None and a.college_id != who.college_id:
        return False
    status = f.get("status", "waiting")
    checks = {
        "status": lambda v: a.status in WAITING[who.role] if v == "waiting" else a.status == v,
        "college": lambda v: a.college_id == int(v),
        "major": lambda v: a.major_id == int(v),
        "education": lambda v: a.education == v,
        "year": lambda v: a.year == int(v),
        "channel": lambda v: a.channel == v,
        "q": lambda v: words_in(v, a.student_no, a.name, a.number),
        "unit": lambda v: words_in(v, a.unit),
        "updated_from": lambda v: a.day >= dt.date.fromisoformat(v),
        "updated_to": lambda v: a.day <= dt.date.fromisoformat(v),
    }
    return all(checks[k](v) for k, v in {**f, "status": status}.items() if v != "")


@pytest.fixture
async def made(settings, world) -> list[Made]:  # noqa: ANN001
    """Agreements in every state, both ways of signing, two 学院 (three 专业), three 学历, two
    years, four units (some a registered employer's), changed on days whose China-time
    boundaries fall between them; and some in the other school."""
    db = Database(settings.database_url)
    out = []
    try:
        async with db.write() as conn:
            sd = world.schools[0]
            extra_major = (await conn.execute(majors.insert().values(
                college_id=sd.college_ids[0], code="M9", name="人工智能").returning(majors.c.id))).scalar_one()
            major_pool = [(0, sd.major_ids[0]), (0, extra_major), (1, sd.major_ids[1])]
            states = [*STAFF_VISIBLE, *HIDDEN]
            rng = random.Random(25)
            for i in range(90):
                college, major = rng.choice(major_pool)
                out.append(await add_agreement(
                    conn, world, i, states[i % len(states)], college=college, major=major,
                    education=rng.choice(EDUCATIONS), year=rng.choice((2026, 2026, 2025)),
                    channel=rng.choice(("online", "offline")), unit=rng.choice(UNITS),
                    registered=rng.random() < 0.2,
                    updated_at=BASE + dt.timedelta(days=rng.randrange(17), minutes=rng.choice((0, 20, 40)))))
            for i in range(90, 100):
                out.append(await add_agreement(conn, world, i, states[i % len(states)], school=1,
                                               updated_at=BASE + dt.timedelta(days=i % 17)))
    finally:
        await db.dispose()
    return out


def filters_strategy(world: Any, extra_major: int) -> st.SearchStrategy[dict[str, str]]:
    sd = world.schools[0]
    choices = {
        "status": st.sampled_from(["waiting", "", *STAFF_VISIBLE]),
        "college": st.sampled_from([str(c) for c in sd.college_ids]),
        "major": st.sampled_from([str(m) for m in (*sd.major_ids, extra_major)]),
        "education": st.sampled_from(EDUCATIONS),
        "year": st.sampled_from(["2025", "2026"]),
        "channel": st.sampled_from(["online", "offline"]),
        "q": st.sampled_from(["X000", "协议01", "AG202600", "x002 协议", "没有这个人"]),
        "unit": st.sampled_from(["重庆", "有限公司", "测试科技", "acme", "物流 集团", "无此单位"]),
        "updated_from": st.sampled_from([d.isoformat() for d in DAYS]),
        "updated_to": st.sampled_from([d.isoformat() for d in DAYS]),
    }
    return st.dictionaries(st.sampled_from(sorted(choices)), st.just(""), max_size=4).flatmap(
        lambda keys: st.fixed_dictionaries({k: choices[k] for k in keys}))


def wrong_values(f: dict[str, str], who: Identity, college_of: dict[int, int]) -> set[str]:
    """What the list must refuse (a message next to the field, the filter not applied)."""
    wrong = set()
    if "updated_from" in f and "updated_to" in f and f["updated_from"] > f["updated_to"]:
        wrong.add("updated_to")
    college = who.college_id
    if who.college_id is not None and "college" in f and int(f["college"]) != who.college_id:
        wrong.add("college")     # a counselor is offered their own 学院 only
    elif who.college_id is None and "college" in f:
        college = int(f["college"])
    if "major" in f and college is not None and college_of[int(f["major"])] != college:
        wrong.add("major")       # a 专业 of another 学院 than the one in force
    return wrong


async def test_each_filter_and_sort_keeps_exactly_the_matching_agreements(settings, world, made):
    sd = world.schools[0]
    college_of = {a.major_id: a.college_id for a in made if a.school_id == sd.id}
    extra_major = next(m for m in college_of if m not in sd.major_ids)
    people = [ident(world, "counselor0", Role.COUNSELOR),
              ident(world, "school_admin0", Role.SCHOOL_ADMIN, college=None)]
    examples = drawn(filters_strategy(world, extra_major), 120)
    sorts = ["updated", "-updated", "student_no", "-student_no", "unit", "-status", "channel"]
    db = Database(settings.database_url)
    try:
        async with db.read() as conn:
            sizes = set()
            for n, f in enumerate(examples):
                who = people[n % 2]
                sort = sorts[n % len(sorts)]
                resolved = await listing.read(conn, who, {**f, "sort": sort})
                wrong = wrong_values(f, who, college_of)
                assert set(resolved.form.errors) == wrong, (who.role, f)
                kept = {k: v for k, v in f.items() if k not in wrong}
                got = [r.id for r in await conn.execute(listing.ids(who, resolved))]
                want = [a for a in made if keeps(a, kept, who)]
                assert sorted(got) == sorted(a.id for a in want), (who.role, f)
                key = {"updated": lambda a: a.updated_at, "student_no": lambda a: a.student_no}.get(
                    sort.lstrip("-"))
                if key is not None:   # ties broken by id, whichever way the column runs
                    expected = sorted(sorted(want, key=lambda a: a.id), key=key,
                                      reverse=sort.startswith("-"))
                    assert got == [a.id for a in expected], (who.role, f, sort)
                sizes.add(min(len(got), 2))
            assert sizes == {0, 1, 2}   # the examples narrowed to none, one and many
    finally:
        await db.dispose()


def review_action(page: str) -> str:
    """Where the review box's forms post (the page's other form is the logout)."""
    found = set(re.findall(r'<form method="post" action="(/reviews/agreements/\d+[^"]*)"', page))
    assert len(found) == 1, found
    return html.unescape(found.pop())


def listed(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-id="(\d+)">', page)]


async def test_the_page_lists_what_the_filters_keep_and_the_todo_links_still_work(
        make_client, world, made):
    admin = await as_user(make_client, "staff", "school_admin0")
    who = ident(world, "school_admin0", Role.SCHOOL_ADMIN, college=None)
    for f in ({}, {"status": "school"}, {"status": "scan_review"}, {"status": ""},
              {"status": "", "channel": "offline", "unit": "重庆"},
              {"status": "effective", "education": "硕士生", "updated_from": "2026-05-03"}):
        resp = await admin.get("/reviews/agreements", params={**f, "size": "100"})
        assert resp.status == 200, f
        page = await resp.text()
        want = {a.id for a in made if keeps(a, f, who)}
        assert total(page) == len(want) and set(listed(page)) == want, f
        # one link per row to its review page (the 待办 test counts them), the name to the 学生档案
        assert page.count('href="/reviews/agreements/') == len(want), f
    page = await (await admin.get("/reviews/agreements")).text()
    waiting = [a for a in made if keeps(a, {}, who)]
    assert {a.status for a in waiting} == {"school", "scan_review"} and total(page) == len(waiting)
    tabs = dict(re.findall(r'<a href="[^"]*status=([a-z_]*)[^"]*"[^>]*>[^<]*<strong>(\d+)</strong>', page))
    assert tabs["waiting"] == str(len(waiting))
    assert tabs["school"] == str(sum(a.status == "school" for a in waiting))
    assert tabs[""] == str(sum(keeps(a, {"status": ""}, who) for a in made))
    first = next(a for a in made if a.id == listed(page)[0])
    assert f'href="/school/students/{first.record_id}" title="学生档案">{first.name}</a>' in page
    # a counselor's 待办 (?status=waiting) shows their college's 待学院审核 only
    counselor = await as_user(make_client, "staff", "counselor0")
    page = await (await counselor.get("/reviews/agreements?status=waiting&size=100")).text()
    mine = {a.id for a in made if keeps(a, {"status": "waiting"}, ident(world, "counselor0", Role.COUNSELOR))}
    assert mine and set(listed(page)) == mine
    assert {a.status for a in made if a.id in mine} == {"college"}
    # a value no one offers: said next to its field, not applied
    resp = await counselor.get("/reviews/agreements?status=draft")
    assert resp.status == 400 and field_error(await resp.text(), "status") == "请选择列表中的状态"


async def audited(database_url: str) -> list[tuple[int, str, str | None]]:
    """(agreement id, action, reason) of every review decision's audit row."""
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return [(int(r.entity_id), r.action, r.reason) for r in await conn.execute(
                sa.select(audit_log.c.entity_id, audit_log.c.action, audit_log.c.reason)
                .where(audit_log.c.entity == "agreement").order_by(audit_log.c.id))]
    finally:
        await db.dispose()


async def decided_elsewhere(settings, world, ids: list[int], now: dt.datetime) -> None:  # noqa: ANN001
    """Another school admin approves these first."""
    who = ident(world, "school_admin0", Role.SCHOOL_ADMIN, college=None)
    db = Database(settings.database_url)
    try:
        async with db.write() as conn:
            for aid in ids:
                await decide(conn, who, aid, "approve", reason=None, now=now)
    finally:
        await db.dispose()


async def test_select_all_that_match_acts_on_exactly_those_and_recounts_when_they_change(
        make_client, world, settings, clock):
    made = await make(settings, world, [
        {"status": "school", "channel": ("online", "offline")[i % 2],
         "updated_at": BASE + dt.timedelta(hours=i)} for i in range(26)]
        + [{"status": "scan_review", "channel": "offline"} for _ in range(3)])
    online = [a.id for a in made if a.channel == "online"]   # 13 待学校审核 online
    admin = await as_user(make_client, "staff", "school_admin0")
    page = await (await admin.get("/reviews/agreements?status=school")).text()
    assert total(page) == 26 and "选择全部 26 条符合条件的记录" in page
    every = {"action": "approve", "every": "1", "status": "school", "channel": "online"}
    page = await (await admin.post("/reviews/agreements/batch", {**every, "expected": "13"})).text()
    assert count_on(page) == 13 and "确认通过 13 份" in page
    assert (await states(settings.database_url, agreements))[online[0]] == "school"   # nothing yet
    await decided_elsewhere(settings, world, online[:2], clock.now())
    resp = await admin.post("/reviews/agreements/batch", {**every, "expected": "13", "confirmed": "1"})
    page = await resp.text()
    assert resp.status == 409 and "符合条件的记录已变为 11 份" in page and count_on(page) == 11
    assert [(i, a) for i, a, _ in await audited(settings.database_url)] == [
        (i, "agreement.approve") for i in online[:2]]
    resp = await admin.post("/reviews/agreements/batch", {**every, "expected": "11", "confirmed": "1"})
    assert done_failed(await resp.text()) == (11, 0)
    after = await states(settings.database_url, agreements)
    assert {i for i, s in after.items() if s == "effective"} == set(online)
    assert all(after[a.id] == a.status for a in made if a.id not in online)
    rows = await audited(settings.database_url)
    assert sorted(i for i, _, _ in rows) == sorted(online) and len(rows) == 13
    db = Database(settings.database_url)
    try:
        async with db.read() as conn:   # each approval made its graduate's 毕业去向 10
            claimed = set((await conn.execute(sa.select(graduate_destinations.c.source_id).where(
                graduate_destinations.c.source == "agreement",
                graduate_destinations.c.code == "10"))).scalars())
    finally:
        await db.dispose()
    assert claimed == set(online)


async def test_ticked_items_of_mixed_states_are_decided_as_the_flow_allows_and_the_rest_reported(
        make_client, world, settings, clock):
    made = await make(settings, world, [
        {"status": "school"}, {"status": "school", "unit": UNITS[1]},
        {"status": "scan_review", "channel": "offline"}, {"status": "scan_review", "channel": "offline"},
        {"status": "college"},                        # the counselor's turn
        {"status": "effective"},                      # nothing to decide
        {"status": "school", "school": 1},            # another school's
    ])
    school, school2, scan, scan2, college, effective, theirs = made
    admin = await as_user(make_client, "staff", "school_admin0")
    ticked = {"action": "return", "id": [str(a.id) for a in made]}
    page = await (await admin.post("/reviews/agreements/batch", ticked)).text()
    assert count_on(page) == 7 and "退回理由" in page
    resp = await admin.post("/reviews/agreements/batch", {**ticked, "confirmed": "1"})
    assert resp.status == 400 and field_error(await resp.text(), "reason") == "请填写退回理由"
    assert await audited(settings.database_url) == []   # nothing written
    await decided_elsewhere(settings, world, [scan2.id], clock.now())
    resp = await admin.post("/reviews/agreements/batch",
                            {**ticked, "confirmed": "1", "reason": "单位盖章不清晰"})
    page = html.unescape(await resp.text())
    assert done_failed(page) == (3, 4)
    assert f"{scan2.name}（{scan2.student_no}）：当前状态为“已生效”" in page
    assert f"{college.name}（{college.student_no}）：当前状态为“待学院审核”" in page
    assert f"{effective.name}（{effective.student_no}）：当前状态为“已生效”" in page
    assert f"#{theirs.id}：不在您的范围内" in page
    after = await states(settings.database_url, agreements)
    assert [after[a.id] for a in made] == ["returned", "returned", "scan_returned", "effective",
                                           "college", "effective", "school"]
    returns = [(i, r) for i, a, r in await audited(settings.database_url) if a == "agreement.return"]
    # one audit row per item, each with the one reason
    assert returns == [(a.id, "单位盖章不清晰") for a in (school, school2, scan)]


async def test_an_approval_refused_by_the_graduates_destination_leaves_nothing_of_it(
        make_client, world, settings, clock):
    first, second, third = await make(settings, world, [
        {"status": "school"}, {"status": "school"}, {"status": "school"}])
    db = Database(settings.database_url)
    try:
        async with db.write() as conn:   # the second graduate already went on to study
            await conn.execute(graduate_destinations.insert().values(
                student_record_id=(await conn.execute(sa.select(agreements.c.student_record_id)
                                                      .where(agreements.c.id == second.id))).scalar_one(),
                school_id=second.school_id, college_id=second.college_id, code="80",
                source="registration", source_id=1, effective_at=clock.now()))
    finally:
        await db.dispose()
    admin = await as_user(make_client, "staff", "school_admin0")
    resp = await admin.post("/reviews/agreements/batch", {
        "action": "approve", "confirmed": "1", "id": [str(a.id) for a in (first, second, third)]})
    page = await resp.text()
    assert done_failed(page) == (2, 1) and "已有生效的毕业去向" in page
    after = await states(settings.database_url, agreements)
    assert [after[a.id] for a in (first, second, third)] == ["effective", "school", "effective"]
    assert [i for i, _, _ in await audited(settings.database_url)] == [first.id, third.id]


async def test_reviewers_outside_the_part_decide_nothing(make_client, world, settings, clock):
    made = await make(settings, world, [{"status": "college"}, {"status": "college"},
                                        {"status": "school"}, {"status": "scan_review", "channel": "offline"}])
    await add_account(settings.database_url, clock.now(), role=Role.COUNSELOR, username="counselor_b",
                      school_id=world.schools[0].id, college_id=world.schools[0].college_ids[1])
    ids = [str(a.id) for a in made]
    for username in ("counselor_b", "counselor1", "school_admin1"):
        staff = await as_user(make_client, "staff", username)
        page = await (await staff.get("/reviews/agreements?status=")).text()
        assert total(page) == 0 and listed(page) == [], username
        for action, reason in (("approve", None), ("return", "不符")):
            extra = {"reason": reason} if reason else {}
            resp = await staff.post("/reviews/agreements/batch", {
                "action": action, "every": "1", "status": "", "expected": "4", "confirmed": "1", **extra})
            assert resp.status == 400 and "请先勾选要处理的记录" in await resp.text(), username
            page = await (await staff.post("/reviews/agreements/batch", {
                "action": action, "id": ids, "confirmed": "1", **extra})).text()
            assert done_failed(page) == (0, 4) and page.count("不在您的范围内") == 4, username
        for a in made:
            assert (await staff.get(f"/reviews/agreements/{a.id}")).status == 404, username
    assert await audited(settings.database_url) == []
    assert set((await states(settings.database_url, agreements)).values()) == {"college", "school", "scan_review"}


async def test_the_review_page_keeps_the_queue_through_a_decision_to_the_next(
        make_client, world, settings):
    made = await make(settings, world, [
        {"status": "school", "channel": ch, "updated_at": BASE + dt.timedelta(hours=i)}
        for i, ch in enumerate(["online", "offline", "online", "online", "offline"])])
    online = [a for a in made if a.channel == "online"]
    admin = await as_user(make_client, "staff", "school_admin0")
    page = await (await admin.get("/reviews/agreements?status=school&channel=online")).text()
    links = [html.unescape(h) for h in re.findall(r'href="(/reviews/agreements/\d+\?[^"]*)"', page)]
    assert [int(re.search(r"/(\d+)\?", h).group(1)) for h in links] == [a.id for a in online]
    first = links[0]
    assert "status=school" in first and "channel=online" in first
    review = await (await admin.get(first)).text()
    # the document first, the decision box beside it, its shortcuts announced
    assert review.index('class="review-document"') < review.index('class="review-box')
    for key in ("a", "r", "n"):
        assert f'data-key="{key}"' in review
    assert 'id="review-keys"' in review and "review-keys.js" in review
    action = review_action(review)
    assert action.startswith(f"/reviews/agreements/{online[0].id}?") and "channel=online" in action
    # 退回 without a reason: said next to the field, the queue kept in the form
    resp = await admin.post(action, {"action": "return", "reason": ""})
    page = await resp.text()
    assert resp.status == 400 and field_error(page, "reason") == "请填写退回原因"
    assert review_action(page) == action
    resp = await admin.post(action, {"action": "approve"})
    assert resp.status == 303
    done_url = resp.headers["Location"]
    assert "done=approve" in done_url and "channel=online" in done_url and "status=school" in done_url
    page = await (await admin.get(done_url)).text()
    note = re.search(r'id="review-done">(.*?)</div>', page, re.S).group(1)
    assert "已通过" in note and online[0].name in note
    nxt = html.unescape(re.search(r'href="([^"]+)" class="button primary" id="next-item"', note).group(1))
    assert nxt.startswith(f"/reviews/agreements/{online[1].id}?") and "done" not in nxt
    # the next in the same filtered queue, through to its end
    for current, following in ((online[1], online[2]), (online[2], None)):
        page = await (await admin.get(nxt)).text()
        action = review_action(page)
        resp = await admin.post(action, {"action": "return", "reason": "岗位信息不全"})
        page = await (await admin.get(resp.headers["Location"])).text()
        assert "已退回" in re.search(r'id="review-done">(.*?)</div>', page, re.S).group(1)
        if following is None:
            assert "这一队列已处理完" in page and 'id="next-item"' not in page
        else:
            nxt = html.unescape(re.search(r'href="([^"]+)" class="button primary" id="next-item"', page).group(1))
            assert nxt.startswith(f"/reviews/agreements/{following.id}?")
    after = await states(settings.database_url, agreements)
    assert [after[a.id] for a in made] == ["effective", "school", "returned", "returned", "school"]
