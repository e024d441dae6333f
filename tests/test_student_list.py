"""学生信息 (the staff list component over students) against a generated population whose
records are known (tests/statistics_kit.py): each filter narrows to exactly what a plain
Python filter of the same records keeps (hypothesis draws the filters), the sort orders
them, the export holds exactly the rows on screen, every number of 就业统计 opens a list of
exactly that many students, and nobody lists or opens a student outside their part."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

from hypothesis import strategies as st

from app.clock import CHINA
from app.db import Database
from app.roster import listing
from app.roster.filters import Scope
from tests import exports_kit, statistics_kit
from tests.conftest import field_error
from tests.factories import PASSWORD
from tests.lists_kit import drawn, total
from tests.statistics_kit import Grad

population = statistics_kit.population   # the fixture

# Written out here, not imported: the test checks the app's groups (DOMAIN.md).
GROUPS = {"协议和合同就业": {"10", "11", "27", "46", "50", "51"}, "升学": {"80", "85"},
          "灵活就业": {"12", "76"}, "自主创业": {"75"}, "待就业": {"70"}, "暂不就业": {"71", "72"}}
NOT_EMPLOYED = {"70", "71", "72"}
DAYS = [dt.date(2026, 3, 2) + dt.timedelta(days=d) for d in range(0, 70, 3)]


def _code(g: Grad) -> str:
    return g.code or "70"


def _day(g: Grad) -> dt.date | None:
    return g.effective_at.astimezone(CHINA).date() if g.effective_at else None


def keeps(g: Grad, f: dict[str, str]) -> bool:
    """The plain Python meaning of each filter."""
    checks = {
        "college": lambda v: g.college_id == int(v),
        "major": lambda v: g.major_id == int(v),
        "education": lambda v: g.education == v,
        "year": lambda v: g.year == int(v),
        "gender": lambda v: g.gender == v,
        "origin": lambda v: (g.origin_status is None) if v == "none" else g.origin_status == v,
        "group": lambda v: _code(g) in GROUPS[v],
        "employed": lambda v: (_code(g) not in NOT_EMPLOYED) == (v == "1"),
        "dest": lambda v: _code(g) == v,
        "province": lambda v: (g.area or "")[:2] == ("" if v == "-" else v),
        "placed_from": lambda v: _day(g) is not None and _day(g) >= dt.date.fromisoformat(v),
        "placed_to": lambda v: _day(g) is not None and _day(g) <= dt.date.fromisoformat(v),
    }
    return all(checks[k](v) for k, v in f.items() if k in checks)


def filters_strategy(world: Any) -> st.SearchStrategy[dict[str, str]]:
    sd = world.schools[0]
    choices = {
        "college": st.sampled_from([str(c) for c in sd.college_ids]),
        "major": st.sampled_from([str(m) for m in sd.major_ids]),
        "education": st.sampled_from(statistics_kit.EDUCATIONS),
        "year": st.sampled_from(["2025", "2026"]),
        "gender": st.sampled_from(["1", "2"]),
        "origin": st.sampled_from(["draft", "submitted", "returned", "approved", "none"]),
        "group": st.sampled_from(sorted(GROUPS)),
        "employed": st.sampled_from(["0", "1"]),
        "dest": st.sampled_from(["10", "11", "12", "70", "80", "75"]),
        "province": st.sampled_from(["50", "11", "51", "52", "-"]),
        "placed_from": st.sampled_from([d.isoformat() for d in DAYS]),
        "placed_to": st.sampled_from([d.isoformat() for d in DAYS]),
    }
    return st.dictionaries(st.sampled_from(sorted(choices)), st.just(""), max_size=4).flatmap(
        lambda keys: st.fixed_dictionaries({k: choices[k] for k in keys}))




async def test_each_filter_and_sort_keeps_exactly_the_matching_records(settings, world, population):
    mine = population[0]
    sd = world.schools[0]
    college_of = dict(zip(sd.major_ids, sd.college_ids))
    scope = Scope(sd.id)
    examples = drawn(filters_strategy(world), 80)
    db = Database(settings.database_url)
    try:
        async with db.read() as conn:
            seen_sizes = set()
            for f in examples:
                sort = "-student_no" if len(f) % 2 else "student_no"
                resolved = await listing.read(conn, scope, {**f, "sort": sort})
                wrong = set()
                from_to = (f.get("placed_from"), f.get("placed_to"))
                if all(from_to) and from_to[0] > from_to[1]:
                    wrong.add("placed_to")   # an end before the start
                if "major" in f and "college" in f and college_of[int(f["major"])] != int(f["college"]):
                    wrong.add("major")       # a 专业 of another 学院 than the one picked
                # a wrong value: its message next to the field, and it is not applied
                assert set(resolved.form.errors) == wrong, f
                f = {k: v for k, v in f.items() if k not in wrong}
                rows = list(await conn.execute(listing.filtered(scope, resolved)))
                want = sorted((g for g in mine if keeps(g, f)), key=lambda g: g.record_id)
                got_ids = [r.id for r in rows]
                assert sorted(got_ids) == [g.record_id for g in want], f
                numbers = [r.student_no for r in rows]
                assert numbers == sorted(numbers, reverse=sort.startswith("-")), f
                seen_sizes.add(min(len(rows), 2))
            assert seen_sizes == {0, 1, 2}   # the examples narrowed to none, one and many
    finally:
        await db.dispose()


def listed_numbers(page: str) -> list[str]:
    return re.findall(r'<td data-label="学号" class="nowrap">([^<]+)</td>', page)


async def test_the_screen_pages_and_the_export_hold_exactly_the_filtered_rows(make_client, world, population):
    admin = await make_client()
    await admin.login("staff", world.staff["school_admin0"][0], PASSWORD)
    query = {"year": "2026", "employed": "0", "sort": "-name", "size": "50"}
    want = [g for g in population[0] if keeps(g, query)]
    assert len(want) > 50   # more than one page
    screen: list[str] = []
    for page_no in range(1, -(-len(want) // 50) + 1):
        resp = await admin.get("/school/students", params={**query, "page": str(page_no)})
        assert resp.status == 200
        page = await resp.text()
        assert total(page) == len(want)
        screen += listed_numbers(page)
    names = {g.record_id: g for g in want}
    assert len(screen) == len(set(screen)) == len(names)
    book = await exports_kit.exported(admin, "student_list", **query)
    rows = list(book["学生信息"].iter_rows(values_only=True))
    assert rows[0][:2] == ("学号", "姓名")
    assert [r[0] for r in rows[1:]] == screen   # the same rows in the same order
    about = {r[0]: r[1] for r in book["说明"].iter_rows(values_only=True)}
    assert "是否就业：未就业" in about["筛选条件"]


async def test_every_number_on_statistics_opens_exactly_that_many_students(make_client, world, population):
    s1 = world.schools[1]
    checked = 0
    for who, path in (("counselor0", "/statistics?year=2026"),
                      ("school_admin0", "/statistics?year=2026"),
                      ("school_admin0", f"/statistics?year=2026&college={world.schools[0].college_ids[1]}"),
                      ("platform", "/statistics?year=2026"),
                      ("platform", f"/statistics?year=2026&school={s1.id}")):
        c = await make_client()
        await c.login("staff", world.staff[who][0], PASSWORD)
        page = await (await c.get(path)).text()
        links = re.findall(r'<a href="([^"]+)" class="drill">([\d,]+)</a>', page)
        assert len(links) > 40, (who, path)
        for href, shown in links:
            resp = await c.get(html.unescape(href))
            assert resp.status == 200, (who, href)
            assert total(await resp.text()) == int(shown.replace(",", "")), (who, path, href)
            checked += 1
    assert checked > 300


async def test_a_student_outside_ones_part_is_neither_listed_nor_opened(make_client, world, population):
    s0, s1 = world.schools
    counselor = await make_client()
    await counselor.login("staff", world.staff["counselor0"][0], PASSWORD)
    page = await (await counselor.get("/school/students?size=200")).text()
    own = [g for g in population[0] if g.college_id == s0.college_ids[0]]
    assert total(page) == len(own)
    # another college named in the URL: a message next to the field, and still only their own
    resp = await counselor.get(f"/school/students?college={s0.college_ids[1]}")
    assert resp.status == 400
    page = await resp.text()
    assert field_error(page, "college") == "请选择列表中的学院"
    assert total(page) == len(own)
    other_college = next(g for g in population[0] if g.college_id != s0.college_ids[0])
    other_school = population[1][-1]
    assert (await counselor.get(f"/school/students/{other_college.record_id}")).status == 404
    assert (await counselor.get(f"/school/students/{own[-1].record_id}")).status == 200
    admin = await make_client()
    await admin.login("staff", world.staff["school_admin0"][0], PASSWORD)
    assert (await admin.get(f"/school/students/{other_school.record_id}")).status == 404
    page = await (await admin.get(f"/school/students/{other_college.record_id}")).text()
    assert "学生档案" in page and "档案记录" in page
    resp = await admin.get(f"/school/students?school={s1.id}")
    assert total(await resp.text()) == len(population[0])   # no school filter is theirs to set
    assert (await exports_kit.ask(counselor, "student_list",
                                  college=str(s0.college_ids[1]))).status == 403
    platform = await make_client()
    await platform.login("staff", world.staff["platform"][0], PASSWORD)
    page = await (await platform.get(f"/school/students?school={s1.id}")).text()
    assert total(page) == len(population[1])
    assert (await platform.get(f"/school/students/{other_school.record_id}")).status == 200
    for kind, login in (("student", world.active_student(0).student_no), ("employer", "employer")):
        c = await make_client()
        await c.login(kind, login, PASSWORD)
        for path in ("/school/students", f"/school/students/{own[0].record_id}"):
            assert (await c.get(path, allow_redirects=False)).status in (303, 403), (kind, path)
