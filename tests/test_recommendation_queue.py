"""推荐表审核 as a staff list (app/reviews/recommendation/listing.py) over forms whose every
field is known here: each hypothesis-drawn filter keeps exactly what a plain Python filter of
the same forms keeps, and sorts them; the screen shows those; the 待办事项's link opens
exactly the counted forms; batch 通过 and 退回 act on what was ticked or on "all N that
match" (recounted at the confirmation), report what they could not do and why, and leave one
audit row per form; the review page walks the same filtered queue with 【下一条】; nobody
outside the school sees or decides a form."""

from __future__ import annotations

import datetime as dt
import html
import random
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from hypothesis import strategies as st

from app import workflow
from app.auth.sessions import Identity
from app.clock import CHINA
from app.db import Database
from app.reviews.flows import RECOMMENDATION_FLOW
from app.reviews.recommendation import listing
from app.reviews.tables import recommendations
from app.roles import Role
from app.tables import audit_log, student_records
from tests import todo_kit
from tests.conftest import field_error
from tests.factories import PASSWORD
from tests.lists_kit import count_on, done_failed, drawn, total

EDUCATIONS = ("本科生", "硕士生", "专科生")
STATES = ("draft", "submitted", "returned", "approved", "revoked")
SURNAMES = ("王", "李", "张", "Zhao")
FIRST_DAY = dt.date(2026, 4, 1)
DAYS = [FIRST_DAY + dt.timedelta(days=d) for d in range(-2, 24, 2)]


@dataclass
class Form:
    id: int
    record_id: int
    school_id: int
    college: int          # index into the school's colleges (and majors: one each)
    college_id: int
    major_id: int
    student_no: str
    name: str
    education: str
    year: int
    status: str
    submitted_at: dt.datetime | None
    serial: str | None


@pytest.fixture
async def forms(settings, world, clock) -> dict[int, list[Form]]:  # noqa: ANN001
    """60 forms in the first school and 6 in the second, every field drawn with a fixed
    seed; 送审 times spread over China days (some late in the evening, the day before in UTC)."""
    rng = random.Random(25)
    db = Database(settings.database_url)
    out: dict[int, list[Form]] = {0: [], 1: []}
    try:
        async with db.write() as conn:
            for school, n in ((0, 60), (1, 6)):
                sd = world.schools[school]
                for i in range(n):
                    college = rng.randrange(2)
                    status = rng.choices(STATES, weights=(1, 3, 1, 2, 1))[0]
                    sent = None if status == "draft" else dt.datetime.combine(
                        FIRST_DAY + dt.timedelta(days=rng.randrange(20)),
                        dt.time(rng.randrange(24), rng.randrange(60)), CHINA).astimezone(dt.timezone.utc)
                    f = Form(0, 0, sd.id, college, sd.college_ids[college], sd.major_ids[college],
                             student_no=f"R{school}{i:03d}", name=f"{rng.choice(SURNAMES)}同学{school}{i}",
                             education=rng.choice(EDUCATIONS), year=rng.choice((2025, 2026)),
                             status=status, submitted_at=sent, serial=None)
                    f.record_id = (await conn.execute(student_records.insert().values(
                        school_id=sd.id, student_no=f.student_no, name=f.name,
                        id_number=f"5001032003{school}{i:03d}0000"[:18], gender="1",
                        college_id=f.college_id, major_id=f.major_id, education=f.education,
                        graduation_year=f.year, imported_at=clock.now(), updated_at=clock.now())
                        .returning(student_records.c.id))).scalar_one()
                    f.id = (await conn.execute(recommendations.insert().values(
                        school_id=sd.id, college_id=f.college_id, student_record_id=f.record_id,
                        status=status, data={}, created_at=clock.now(), updated_at=clock.now(),
                        submitted_at=sent).returning(recommendations.c.id))).scalar_one()
                    if status in ("approved", "revoked"):
                        f.serial = f"TJ{f.year}{sd.code}{f.id:06d}"
                        await conn.execute(recommendations.update().where(
                            recommendations.c.id == f.id).values(serial=f.serial))
                    out[school].append(f)
    finally:
        await db.dispose()
    return out


def _day(f: Form) -> dt.date | None:
    return f.submitted_at.astimezone(CHINA).date() if f.submitted_at else None


def keeps(f: Form, query: dict[str, str]) -> bool:
    """The plain Python meaning of each filter; no `status` in the URL means 待审核."""
    checks = {
        "status": lambda v: v == "" or f.status == v,
        "college": lambda v: f.college_id == int(v),
        "major": lambda v: f.major_id == int(v),
        "education": lambda v: f.education == v,
        "year": lambda v: f.year == int(v),
        "sent_from": lambda v: _day(f) is not None and _day(f) >= dt.date.fromisoformat(v),
        "sent_to": lambda v: _day(f) is not None and _day(f) <= dt.date.fromisoformat(v),
        "q": lambda v: all(any(w.lower() in (text or "").lower()
                               for text in (f.student_no, f.name, f.serial)) for w in v.split()),
    }
    return all(checks[k](v) for k, v in {"status": "submitted", **query}.items())


SORTS = {  # the columns whose order Python and both databases agree on (ASCII, numbers, times)
    "student_no": lambda f: f.student_no, "college": lambda f: f.college,
    "major": lambda f: f.college, "year": lambda f: f.year, "status": lambda f: f.status,
    "sent": lambda f: f.submitted_at, "serial": lambda f: f.serial,
}


def in_order(found: list[Form], sort: str) -> list[int]:
    """Ids as the list orders them: by the column, NULLs last both ways, ties by id."""
    key = SORTS[sort.lstrip("-")]
    by_id = sorted(found, key=lambda f: f.id)
    have = [f for f in by_id if key(f) is not None]
    have.sort(key=key, reverse=sort.startswith("-"))   # stable: ties keep the id order
    return [f.id for f in have + [f for f in by_id if key(f) is None]]


def filters_strategy(world: Any, mine: list[Form]) -> st.SearchStrategy[dict[str, str]]:
    sd = world.schools[0]
    serial = next(f.serial for f in mine if f.serial)
    words = ["R0", "r00", "R001", mine[7].student_no, "王", "同学01", "Zhao", "zhao 同学",
             "TJ2026", serial[-4:], "无此人"]
    choices = {
        "status": st.sampled_from(["", *STATES]),
        "college": st.sampled_from([str(c) for c in sd.college_ids]),
        "major": st.sampled_from([str(m) for m in sd.major_ids]),
        "education": st.sampled_from(EDUCATIONS),
        "year": st.sampled_from(["2025", "2026"]),
        "sent_from": st.sampled_from([d.isoformat() for d in DAYS]),
        "sent_to": st.sampled_from([d.isoformat() for d in DAYS]),
        "q": st.sampled_from(words),
    }
    return st.dictionaries(st.sampled_from(sorted(choices)), st.just(""), max_size=4).flatmap(
        lambda keys: st.fixed_dictionaries({
            **{k: choices[k] for k in keys},
            "sort": st.sampled_from([p + s for s in SORTS for p in ("", "-")])}))




def admin_of(world: Any, school: int = 0) -> Identity:
    return Identity(account_id=world.staff[f"school_admin{school}"][1], role=Role.SCHOOL_ADMIN,
                    display_name="", school_id=world.schools[school].id, college_id=None,
                    employer_id=None, session_hash="")


def wrong_fields(world: Any, f: dict[str, str]) -> set[str]:
    sd = world.schools[0]
    wrong = set()
    if f.get("sent_from") and f.get("sent_to") and f["sent_from"] > f["sent_to"]:
        wrong.add("sent_to")   # an end before the start
    if "major" in f and "college" in f and \
            sd.college_ids[sd.major_ids.index(int(f["major"]))] != int(f["college"]):
        wrong.add("major")     # a 专业 of another 学院 than the one picked
    return wrong


async def test_each_drawn_filter_and_sort_keeps_exactly_the_matching_forms(settings, world, forms):
    mine = forms[0]
    ident = admin_of(world)
    db = Database(settings.database_url)
    sizes = set()
    try:
        async with db.read() as conn:
            for f in drawn(filters_strategy(world, mine), 120):
                resolved = await listing.read(conn, ident, f)
                wrong = wrong_fields(world, f)
                # a wrong value: its message next to the field, and it is not applied
                assert set(resolved.form.errors) == wrong, f
                applied = {k: v for k, v in f.items() if k not in wrong and k != "sort"}
                got = [r[0] for r in await conn.execute(listing.ids(ident, resolved))]
                want = [g for g in mine if keeps(g, applied)]
                assert got == in_order(want, f["sort"]), f
                sizes.add(min(len(got), 2))
    finally:
        await db.dispose()
    assert sizes == {0, 1, 2}   # the examples narrowed to none, one and many




def listed(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-id="(\d+)">', page)]


async def staff(make_client, world, who: str):  # noqa: ANN001, ANN201
    c = await make_client()
    await c.login("staff", world.staff[who][0], PASSWORD)
    return c


async def test_the_screen_shows_the_filtered_forms_with_tabs_badges_and_links(make_client, world, forms):
    mine = forms[0]
    admin = await staff(make_client, world, "school_admin0")
    for f in drawn(filters_strategy(world, mine), 12):
        resp = await admin.get("/school/recommendations", params={**f, "size": "100"})
        page = await resp.text()
        wrong = wrong_fields(world, f)
        assert resp.status == (400 if wrong else 200), f
        applied = {k: v for k, v in f.items() if k not in wrong and k != "sort"}
        want = in_order([g for g in mine if keeps(g, applied)], f["sort"])
        assert total(page) == len(want) and listed(page) == want, f
    # no status in the URL: 待审核; 状态 = 全部 is kept as empty across pages
    page = await (await admin.get("/school/recommendations")).text()
    submitted = [g for g in mine if g.status == "submitted"]
    assert total(page) == len(submitted)
    page = await (await admin.get("/school/recommendations?status=&size=20")).text()
    assert total(page) == len(mine) and 'href="/school/recommendations?status=&amp;page=2"' in page
    assert f"选择全部 {len(mine)} 条符合条件的记录" in page
    # the tabs count every state of the school, each a link to it
    for state, label in RECOMMENDATION_FLOW.state_labels.items():
        n = sum(g.status == state for g in mine)
        assert f'href="/school/recommendations?status={state}">{label} <strong>{n}</strong>' in page
    # each row: a badge, the 学生档案 behind the name, a card on a phone (data-label)
    row = next(g for g in mine if g.status == "approved")
    page = await (await admin.get(f"/school/recommendations?status=approved&q={row.student_no}")).text()
    assert listed(page) == [row.id]
    assert '<span class="state-badge tone-' in page and ">已通过</span>" in page
    assert f'<a href="/school/students/{row.record_id}" title="学生档案">{row.name}</a>' in page
    assert f'href="/school/recommendations/{row.id}?status=approved&amp;q={row.student_no}">查看</a>' in page
    cells = re.search(r'<tr data-id="\d+">(.*?)</tr>', page, re.S).group(1)
    assert cells.count("<td ") == cells.count("<td data-label=") == 10
    assert (await admin.get(f"/school/students/{row.record_id}")).status == 200
    # a sorted column says so
    page = await (await admin.get("/school/recommendations?sort=-serial")).text()
    assert 'aria-sort="descending"' in page


async def test_the_todo_link_opens_exactly_the_counted_forms(make_client, world, forms):
    admin = await staff(make_client, world, "school_admin0")
    items = todo_kit.todos(await (await admin.get("/school")).text())
    count, link = items["recommendation_review"]
    assert count == sum(g.status == "submitted" for g in forms[0])
    assert link == "/school/recommendations?status=submitted"
    assert total(await (await admin.get(link)).text()) == count


async def states(database_url: str) -> dict[int, tuple[str, str | None]]:
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return {r.id: (r.status, r.serial) for r in await conn.execute(
                sa.select(recommendations.c.id, recommendations.c.status, recommendations.c.serial))}
    finally:
        await db.dispose()


async def audited(database_url: str, action: str) -> list[tuple[str, str | None]]:
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return [(r.entity_id, r.reason) for r in await conn.execute(
                sa.select(audit_log.c.entity_id, audit_log.c.reason).where(
                    audit_log.c.entity == "recommendation",
                    audit_log.c.action == f"recommendation.{action}").order_by(audit_log.c.id))]
    finally:
        await db.dispose()


async def decided_elsewhere(database_url: str, world, form_ids: list[int], now) -> None:  # noqa: ANN001
    """Another school admin's decision, in between."""
    db = Database(database_url)
    try:
        async with db.write() as conn:
            for fid in form_ids:
                await workflow.transition(conn, RECOMMENDATION_FLOW, fid, "approve", at=now,
                                          actor=workflow.Actor(world.staff["school_admin0"][1],
                                                               Role.SCHOOL_ADMIN))
    finally:
        await db.dispose()






async def test_select_all_that_match_approves_exactly_those_and_recounts_when_they_change(
        make_client, world, settings, clock, forms):
    mine = forms[0]
    college = str(world.schools[0].college_ids[0])
    chosen = [g for g in mine if keeps(g, {"college": college})]
    assert len(chosen) > 5
    admin = await staff(make_client, world, "school_admin0")
    page = await (await admin.get(f"/school/recommendations?college={college}")).text()
    assert total(page) == len(chosen) and "选择全部" not in page   # one page holds them all
    every = {"action": "approve", "every": "1", "status": "submitted", "college": college}
    page = await (await admin.post("/school/recommendations/batch",
                                   {**every, "expected": str(len(chosen))})).text()
    assert count_on(page) == len(chosen) and f"确认通过 {len(chosen)} 份" in page
    assert (await states(settings.database_url))[chosen[0].id][0] == "submitted"   # nothing yet
    await decided_elsewhere(settings.database_url, world, [g.id for g in chosen[:2]], clock.now())
    resp = await admin.post("/school/recommendations/batch",
                            {**every, "expected": str(len(chosen)), "confirmed": "1"})
    page = await resp.text()
    assert resp.status == 409 and f"符合条件的记录已变为 {len(chosen) - 2} 份" in page
    assert count_on(page) == len(chosen) - 2
    resp = await admin.post("/school/recommendations/batch",
                            {**every, "expected": str(len(chosen) - 2), "confirmed": "1"})
    page = await resp.text()
    assert done_failed(page) == (len(chosen) - 2, 0) and "已通过" in page
    after = await states(settings.database_url)
    for g in mine + forms[1]:
        if g in chosen:   # approved, each with its own serial
            assert after[g.id][0] == "approved"
            assert g in chosen[:2] or after[g.id][1] == f"TJ{g.year}{world.schools[0].code}{g.id:06d}"
        else:
            assert after[g.id] == (g.status, g.serial), g
    rows = await audited(settings.database_url, "approve")
    assert sorted(int(e) for e, _ in rows) == sorted(g.id for g in chosen)   # one per form


async def test_ticked_forms_changed_or_out_of_scope_are_reported_and_return_takes_one_reason(
        make_client, world, settings, clock, forms):
    waiting = [g for g in forms[0] if g.status == "submitted"][:5]
    approved = next(g for g in forms[0] if g.status == "approved")
    theirs = next(g for g in forms[1] if g.status == "submitted")
    admin = await staff(make_client, world, "school_admin0")
    ticked = {"action": "return", "status": "submitted",
              "id": [str(g.id) for g in (*waiting, approved, theirs)]}
    page = await (await admin.post("/school/recommendations/batch", ticked)).text()
    assert count_on(page) == 7 and "退回理由" in page and "确认退回 7 份" in page
    resp = await admin.post("/school/recommendations/batch", {**ticked, "confirmed": "1"})
    assert resp.status == 400 and field_error(await resp.text(), "reason") == "请填写退回理由"
    assert await audited(settings.database_url, "return") == []   # nothing written
    await decided_elsewhere(settings.database_url, world, [waiting[0].id], clock.now())
    resp = await admin.post("/school/recommendations/batch",
                            {**ticked, "confirmed": "1", "reason": "请补充实践经历"})
    page = await resp.text()
    assert done_failed(page) == (4, 3)
    assert page.count("当前状态为“已通过”，不能执行“退回”") == 2
    assert f"{approved.name}（{approved.student_no}）：当前状态为“已通过”" in page
    assert f"#{theirs.id}：不在您的范围内" in page
    after = await states(settings.database_url)
    assert [after[g.id][0] for g in waiting] == ["approved"] + ["returned"] * 4
    assert after[approved.id][0] == "approved" and after[theirs.id][0] == "submitted"
    rows = await audited(settings.database_url, "return")
    assert sorted(int(e) for e, _ in rows) == sorted(g.id for g in waiting[1:])
    assert {r for _, r in rows} == {"请补充实践经历"}   # one audit row per form, each with the reason
    # 作废 is one at a time, on the review page: never a batch action
    resp = await admin.post("/school/recommendations/batch",
                            {"action": "revoke", "id": [str(approved.id)], "confirmed": "1",
                             "reason": "x"})
    assert resp.status == 400 and (await states(settings.database_url))[approved.id][0] == "approved"


async def test_another_schools_admin_sees_and_decides_nothing_and_a_counselor_cannot_use_it(
        make_client, world, settings, forms):
    ours = [g for g in forms[0] if g.status == "submitted"]
    theirs = [g for g in forms[1] if g.status == "submitted"]
    before = await states(settings.database_url)
    other = await staff(make_client, world, "school_admin1")
    page = await (await other.get("/school/recommendations?status=&size=100")).text()
    assert sorted(listed(page)) == sorted(g.id for g in forms[1])
    assert not set(listed(page)) & {g.id for g in forms[0]}
    # a school of ours named in the URL is not theirs to pick
    resp = await other.get(f"/school/recommendations?college={world.schools[0].college_ids[0]}")
    assert resp.status == 400 and field_error(await resp.text(), "college") == "请选择列表中的学院"
    assert (await other.get(f"/school/recommendations/{ours[0].id}")).status == 404
    assert (await other.post(f"/school/recommendations/{ours[0].id}/approve")).status == 404
    resp = await other.post("/school/recommendations/batch",
                            {"action": "approve", "confirmed": "1", "id": [str(g.id) for g in ours]})
    page = await resp.text()
    assert done_failed(page) == (0, len(ours)) and page.count("不在您的范围内") == len(ours)
    # "all that match" is theirs only
    resp = await other.post("/school/recommendations/batch",
                            {"action": "approve", "every": "1", "status": "submitted",
                             "expected": str(len(theirs)), "confirmed": "1"})
    assert done_failed(await resp.text()) == (len(theirs), 0)
    after = await states(settings.database_url)
    assert all(after[g.id] == before[g.id] for g in forms[0])
    assert all(after[g.id][0] == "approved" for g in theirs)
    counselor = await staff(make_client, world, "counselor0")
    assert (await counselor.get("/school/recommendations")).status == 403
    assert (await counselor.get(f"/school/recommendations/{ours[0].id}")).status == 403
    resp = await counselor.post("/school/recommendations/batch",
                                {"action": "approve", "every": "1", "status": "submitted",
                                 "expected": str(len(ours)), "confirmed": "1"})
    assert resp.status == 403
    assert all(v == before[k] for k, v in (await states(settings.database_url)).items()
               if k in {g.id for g in forms[0]})


def review_links(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="(/school/recommendations/\d+\?[^"]*)"', page)]


def form_action(page: str, action: str) -> str:
    return html.unescape(re.search(
        rf'action="(/school/recommendations/\d+/{action}[^"]*)"', page).group(1))


async def test_the_review_page_walks_the_same_filtered_queue_with_next(make_client, world, forms):
    mine = forms[0]
    college = str(world.schools[0].college_ids[1])
    query = {"college": college, "sort": "-student_no"}
    queue = in_order([g for g in mine if keeps(g, {"college": college})], "-student_no")
    assert len(queue) >= 3
    by_id = {g.id: g for g in mine}
    admin = await staff(make_client, world, "school_admin0")
    page = await (await admin.get("/school/recommendations", params=query)).text()
    links = review_links(page)
    assert [int(re.search(r"/(\d+)\?", h).group(1)) for h in links] == queue
    here = links[0]
    assert parse_qs(urlsplit(here).query) == {"status": ["submitted"], "college": [college],
                                              "sort": ["-student_no"]}
    page = await (await admin.get(here)).text()
    # the document first, the decision box beside it; shortcuts on the buttons and announced
    assert page.index('class="review-document"') < page.index('class="review-box panel"')
    assert 'data-key="a"' in page and 'data-key="r"' in page and 'data-key="n"' in page
    assert 'id="review-keys">快捷键：A 选中【通过】（回车确认）· R 填写原因 · N 下一条' in page
    assert "js/review-keys.js" in page
    # a refusal keeps the queue: the form still posts back with it
    resp = await admin.post(form_action(page, "return"), {"reason": ""})
    refused = await resp.text()
    assert resp.status == 400 and field_error(refused, "reason") == "请填写退回原因"
    assert form_action(refused, "approve") == form_action(page, "approve")
    seen = []
    for step, form_id in enumerate(queue):
        g = by_id[form_id]
        assert f"推荐表：{g.name}（{g.student_no}）" in page
        decision = ("return", {"reason": "照片不清晰"}) if step == 1 else ("approve", {})
        resp = await admin.post(form_action(page, decision[0]), decision[1])
        assert resp.status == 303
        done_url = resp.headers["Location"]
        assert parse_qs(urlsplit(done_url).query)["done"] == [decision[0]]
        page = await (await admin.get(done_url)).text()
        label = "已退回" if decision[0] == "return" else "已通过"
        assert f'id="review-done">{label}：{g.name}（{g.student_no}）。' in page
        seen.append(form_id)
        nxt = re.search(r'href="([^"]+)" class="button primary" id="next-item"', page)
        if step + 1 < len(queue):
            here = html.unescape(nxt.group(1))
            assert here.startswith(f"/school/recommendations/{queue[step + 1]}?")
            assert "done" not in parse_qs(urlsplit(here).query)
            assert parse_qs(urlsplit(here).query)["college"] == [college]
            page = await (await admin.get(here)).text()
        else:
            assert nxt is None and "这一队列已处理完。" in page
    assert seen == queue
    back = re.search(r'href="([^"]+)" id="back-to-list"', page).group(1)
    page = await (await admin.get(html.unescape(back))).text()
    assert total(page) == 0 and f'<option value="{college}" selected>' in page


async def test_revoke_stays_on_the_review_page(make_client, world, settings, forms):
    approved = next(g for g in forms[0] if g.status == "approved")
    admin = await staff(make_client, world, "school_admin0")
    page = await (await admin.get(f"/school/recommendations/{approved.id}")).text()
    assert "作废原因" in page and 'data-key="a"' not in page
    assert "快捷键：R 填写原因 · N 下一条" in page
    resp = await admin.post(form_action(page, "revoke"), {"reason": "信息有误"})
    assert resp.status == 303
    page = await (await admin.get(resp.headers["Location"])).text()
    assert 'id="review-done">已作废：' in page
    assert (await states(settings.database_url))[approved.id][0] == "revoked"
    assert await audited(settings.database_url, "revoke") == [(str(approved.id), "信息有误")]
