"""就业统计 and its exports against a generated population whose figures are known by
construction (tests/statistics_kit.py): every count and rate, each viewer's scope, the
export columns and codes, formula-looking text kept as text, and bounded export memory."""

from __future__ import annotations

import collections
import datetime as dt
import re
import tracemalloc

import openpyxl

from app.db import Database
from app.offload import CpuPool
from app.statistics import exports
from app.exports.runner import write_workbook
from app.statistics.service import Scope, build
from app.tables import student_records
from tests import exports_kit
from tests.conftest import field_error
from tests.factories import PASSWORD
from tests import statistics_kit
from tests.statistics_kit import Grad, populate, week_of

# Written out here, not imported, so the test checks the app's groups (DOMAIN.md; 27 with 协议和合同就业).
GROUPS = {"协议和合同就业": {"10", "11", "27", "46", "50", "51"}, "升学": {"80", "85"},
          "灵活就业": {"12", "76"}, "自主创业": {"75"}, "待就业": {"70"}, "暂不就业": {"71", "72"}}
PROVINCES = {"50": "重庆市", "11": "北京市", "51": "四川省", "52": "贵州省"}


def pct(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def expected(grads: list[Grad]) -> dict:
    """total, employed and group counts, overall and per key, from the list itself."""
    def figures(group: list[Grad]) -> tuple:
        codes = [g.code or "70" for g in group]
        employed = sum(1 for c in codes if c not in ("70", "71", "72"))
        return (len(codes), employed, pct(employed, len(codes)),
                [sum(1 for c in codes if c in members) for members in GROUPS.values()])

    def by(key) -> dict:  # noqa: ANN001
        parts = collections.defaultdict(list)
        for g in grads:
            parts[key(g)].append(g)
        return {k: figures(v) for k, v in parts.items()}
    weeks = collections.Counter(week_of(g.effective_at) for g in grads
                                if g.code and g.code not in ("70", "71", "72"))
    return {"overall": figures(grads), "school": by(lambda g: str(g.school_id)),
            "college": by(lambda g: str(g.college_id)),
            "major": by(lambda g: str(g.major_id)), "education": by(lambda g: g.education),
            "gender": by(lambda g: g.gender), "province": by(lambda g: (g.area or "")[:2]),
            "codes": collections.Counter(g.code or "70" for g in grads), "weeks": weeks}


population = statistics_kit.population   # the fixture


def check(stats, grads: list[Grad]) -> None:  # noqa: ANN001
    want = expected(grads)
    o = stats.overall
    assert (o.total, o.employed, o.rate, o.groups) == want["overall"]
    assert o.total == len(grads) > 0
    for part in stats.breakdowns:
        got = {ln.key: (ln.total, ln.employed, ln.rate, ln.groups) for ln in part.lines}
        assert got == want[part.name], part.name
        assert sum(ln.total for ln in part.lines) == o.total
    assert {code: n for _, code, _, n, _ in stats.destinations if n} == dict(want["codes"])
    for group, code, _, n, share in stats.destinations:
        assert code in GROUPS[group] and share == pct(n, o.total)
    running = 0
    weeks = []
    for week, n, cumulative, r in stats.trend:
        running += want["weeks"][week]
        assert n == want["weeks"][week] and cumulative == running and r == pct(running, o.total)
        weeks.append(week)
    assert weeks == sorted(want["weeks"]) and running == sum(want["weeks"].values())


async def test_every_count_and_rate_matches_the_generated_population(settings, world, population):
    db = Database(settings.database_url)
    try:
        async with db.read() as conn:
            for i in (0, 1):
                sd = world.schools[i]
                mine = [g for g in population[i] if g.year == 2026]
                check(await build(conn, 2026, Scope(sd.id), is_sqlite=db.is_sqlite), mine)
                college = sd.college_ids[1]
                stats = await build(conn, 2026, Scope(sd.id, college), is_sqlite=db.is_sqlite)
                assert "college" not in [p.name for p in stats.breakdowns]
                check(stats, [g for g in mine if g.college_id == college])
            check(await build(conn, 2025, Scope(world.schools[0].id), is_sqlite=db.is_sqlite),
                  [g for g in population[0] if g.year == 2025])
            everyone = [g for i in (0, 1) for g in population[i] if g.year == 2026]
            stats = await build(conn, 2026, Scope(None), is_sqlite=db.is_sqlite, with_schools=True)
            check(stats, everyone)
            schools = {ln.label: (ln.total, ln.employed) for ln in stats.breakdowns[0].lines}
            assert schools == {world.schools[i].name: expected(
                [g for g in population[i] if g.year == 2026])["overall"][:2] for i in (0, 1)}
    finally:
        await db.dispose()


def overall_total(html: str) -> int:
    return int(re.search(r'id="overall-total"><a [^>]*>([\d,]+)<', html).group(1).replace(",", ""))


async def test_each_viewer_sees_exactly_their_part(make_client, world, population):
    year = [g for i in (0, 1) for g in population[i] if g.year == 2026]
    s0, s1 = world.schools
    views = {}
    for key in ("counselor0", "school_admin0", "platform"):
        c = await make_client()
        await c.login("staff", world.staff[key][0], PASSWORD)
        views[key] = c
    page = await (await views["counselor0"].get("/statistics?year=2026")).text()
    assert overall_total(page) == sum(1 for g in year if g.college_id == s0.college_ids[0])
    assert 'id="table-college"' not in page
    page = await (await views["school_admin0"].get("/statistics?year=2026")).text()
    assert overall_total(page) == sum(1 for g in year if g.school_id == s0.id)
    assert 'id="table-school"' not in page and s1.name not in page
    page = await (await views["platform"].get("/statistics?year=2026")).text()
    assert overall_total(page) == len(year)
    assert 'id="table-school"' in page and s0.name in page and s1.name in page
    page = await (await views["platform"].get(f"/statistics?year=2026&school={s1.id}")).text()
    assert overall_total(page) == sum(1 for g in year if g.school_id == s1.id)
    assert 'id="table-school"' not in page
    # the filters go with every export button
    assert f'<input type="hidden" name="school" value="{s1.id}">' in page
    assert '<input type="hidden" name="year" value="2026">' in page
    # outside one's part: refused, page and export alike
    for who, path in (("counselor0", f"/statistics?college={s0.college_ids[1]}"),
                      ("school_admin0", f"/statistics?school={s1.id}")):
        assert (await views[who].get(path)).status == 403, (who, path)
    for who, kind, filters in (("counselor0", "graduates", {"college": str(s0.college_ids[1])}),
                               ("school_admin0", "graduates", {"school": str(s1.id)}),
                               ("school_admin0", "records", {"school": str(s1.id)})):
        assert (await exports_kit.ask(views[who], kind, **filters)).status == 403, (who, filters)
    student = await make_client()
    await student.login("student", world.active_student(0).student_no, PASSWORD)
    assert (await student.get("/statistics")).status in (302, 303, 403)
    assert (await exports_kit.ask(student, "graduates")).status in (302, 303, 403)


async def test_a_bad_filter_gets_a_message_next_to_its_field(client, world, population):
    await client.login("staff", world.staff["school_admin0"][0], PASSWORD)
    resp = await client.get("/statistics?year=abc&college=99999")
    html = await resp.text()
    assert resp.status == 200
    assert field_error(html, "year") == "请选择列表中的毕业年份"
    assert field_error(html, "college") == "请选择列表中的学院"
    assert overall_total(html) > 0


async def test_graduates_export_has_the_documented_columns_codes_and_text(client, settings, world,
                                                                          population):
    s0 = world.schools[0]
    grads = {g.record_id: g for g in population[0] if g.year == 2026}
    target = next(g for g in grads.values() if g.code == "50" and g.area)
    db = Database(settings.database_url)
    try:
        async with db.write() as conn:  # text a user typed that looks like a formula
            await conn.execute(student_records.update().where(student_records.c.id == target.record_id)
                               .values(name="=HYPERLINK(\"x\")", class_name="+1班"))
            other = next(g for g in grads.values() if g.code is None)
            await conn.execute(student_records.update().where(student_records.c.id == other.record_id)
                               .values(name="@SUM(A1)", class_name="-2班"))
    finally:
        await db.dispose()
    await client.login("staff", world.staff["school_admin0"][0], PASSWORD)
    book = await exports_kit.exported(client, "graduates", year="2026")
    sheet = book["毕业生去向"]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert header == exports.GRADUATE_HEADER
    assert header[:8] == ["学校代码", "学校名称", "学院代码", "学院名称", "专业代码", "专业名称", "学号", "姓名"]
    assert len(rows) - 1 == len(grads)
    col = {name: i for i, name in enumerate(header)}
    by_name = {r[col["姓名"]]: r for r in rows[1:]}
    row = by_name["=HYPERLINK(\"x\")"]
    assert row[col["学校代码"]] == s0.code and row[col["班级"]] == "+1班"
    assert row[col["毕业去向代码"]] == "50" and row[col["毕业去向"]] == "国家基层项目"
    assert row[col["落实率分组"]] == "协议和合同就业" and row[col["是否就业"]] == "是"
    assert row[col["去向细分代码"]] == target.sub_code and row[col["去向细分"]]
    assert row[col["生源所在地代码"]] == target.area and row[col["生源所在地"]].startswith(
        PROVINCES[target.area[:2]])
    assert row[col["性别代码"]] == target.gender and row[col["性别"]] == {"1": "男", "2": "女"}[target.gender]
    row = by_name["@SUM(A1)"]
    assert row[col["毕业去向代码"]] == "70" and row[col["毕业去向"]] == "待就业"
    assert row[col["落实率分组"]] == "待就业" and row[col["是否就业"]] == "否"
    assert row[col["班级"]] == "-2班"
    for r in sheet.iter_rows(min_row=2):
        for cell in r:  # text that looks like a formula is text, marked so for Excel
            assert cell.data_type != "f", cell.value
            if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
                assert cell.data_type == "s" and cell.quotePrefix, cell.value
    # every row is one of this school's graduates of the year, once
    assert len({r[col["学号"]] for r in rows[1:]}) == len(grads)
    assert {r[col["学校代码"]] for r in rows[1:]} == {s0.code}
    assert {r[col["毕业年份"]] for r in rows[1:]} == {2026}


async def test_the_other_exports_hold_the_page_records_and_review_status(client, world, population):
    s0 = world.schools[0]
    mine = [g for g in population[0] if g.year == 2026]
    await client.login("staff", world.staff["school_admin0"][0], PASSWORD)
    book = await exports_kit.exported(client, "tables", year="2026")
    overall = list(book["总体"].iter_rows(values_only=True))
    want = expected(mine)["overall"]
    assert overall[1][1:4] == want[:3]
    assert "按学院" in book.sheetnames and "按周去向落实" in book.sheetnames
    records = list((await exports_kit.exported(client, "records", year="2026"))["学生信息"]
                   .iter_rows(values_only=True))
    assert records[0] == tuple(exports.RECORD_HEADER) and len(records) - 1 == len(mine)
    assert {r[0] for r in records[1:]} == {s0.code}
    origin = list((await exports_kit.exported(client, "origin", year="2026"))["生源审核状态"]
                  .iter_rows(values_only=True))
    assert origin[0] == tuple(exports.ORIGIN_HEADER) and len(origin) - 1 == len(mine)
    states = collections.Counter(r[5] for r in origin[1:])
    # 送审时间 and 审核时间 as dates, filled for what was sent and decided
    decided = [r for r in origin[1:] if r[5] in ("已通过", "已退回")]
    assert decided and all(isinstance(r[6], dt.datetime) and isinstance(r[7], dt.datetime)
                           for r in decided)
    assert all(r[7] is None for r in origin[1:] if r[5] in ("待核对", "未导入生源"))
    assert states["未导入生源"] == sum(1 for g in mine if g.area is None)
    assert set(states) <= {"待核对", "待审核", "已退回", "已通过", "未导入生源"}


async def test_a_large_export_keeps_its_memory_bounded(settings, world, clock, tmp_path):
    """20,000 graduates: the traced peak while exporting stays far below the set's size."""
    sd = world.schools[1]
    db = Database(settings.database_url)
    cpu = CpuPool(1)
    try:
        async with db.write() as conn:
            await populate(conn, sd.id, list(zip(sd.college_ids, sd.major_ids)), 20_000, seed=5,
                           now=clock.now(), prefix="L", years=(2026,))
        async with db.read() as conn:  # a tenth of the set held at once, to scale the bound by
            tracemalloc.start()
            sample = list(await conn.execute(exports.graduates_query(2026, Scope(sd.id)).limit(2000)))
            cells = [exports._graduate_row(r) for r in sample]
            _, tenth = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            whole = 10 * tenth
            del sample, cells
        path = tmp_path / "big.xlsx"
        async with db.read() as conn:
            tracemalloc.start()
            written = await write_workbook(conn, cpu, path, [exports.export_for(
                "graduates", 2026, Scope(sd.id))], "毕业生去向", [])
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    finally:
        cpu.close()
        await db.dispose()
    assert written == 20_000 + 3
    print(f"export peak {peak / 2**20:.1f} MB, whole set about {whole / 2**20:.1f} MB")
    assert peak < 12 * 1024 * 1024, f"peak {peak / 2**20:.1f} MB (whole set {whole / 2**20:.1f} MB)"
    assert peak * 4 < whole, f"peak {peak / 2**20:.1f} MB, whole set {whole / 2**20:.1f} MB"
    book = openpyxl.load_workbook(path, read_only=True)
    assert sum(1 for _ in book["毕业生去向"].iter_rows(values_only=True)) == 20_000 + 3 + 1
    book.close()


async def test_an_employer_exports_the_applicants_of_its_own_jobs_only(client, settings, world, clock):
    from app.tables import applications, employers
    from tests.factories import credit_code
    from tests.helpers import published_job
    now = clock.now()
    employer_aid, admin_aid = world.staff["employer"][1], world.staff["platform"][1]
    mine = await published_job(settings.database_url, world.employer_id, employer_aid, admin_aid, now,
                               title="=后端开发")
    db = Database(settings.database_url)
    try:
        async with db.write() as conn:
            other = (await conn.execute(employers.insert().values(
                name="别家公司", credit_code=credit_code(2), status="approved", created_at=now)
                .returning(employers.c.id))).scalar_one()
        theirs = await published_job(settings.database_url, other, employer_aid, admin_aid, now,
                                     title="别家岗位")
        async with db.write() as conn:
            for job_id, name in ((mine, "+张三"), (theirs, "李四")):
                await conn.execute(applications.insert().values(
                    job_id=job_id, account_id=world.active_student(0).account_id, status="new",
                    snapshot={"student": {"name": name, "student_no": "S0000", "school": "第一测试大学",
                                          "college": "信息学院", "major": "软件工程", "education": "本科生",
                                          "graduation_year": 2026, "email": "s0@test.example.cn",
                                          "phone": "13900000000"}, "resume": {}, "sent_at": now.isoformat()},
                    created_at=now, updated_at=now))
    finally:
        await db.dispose()
    await client.login("employer", "employer", PASSWORD)
    book = await exports_kit.exported(client, "applicants")
    sheet = book["投递简历"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tuple(exports.APPLICANT_HEADER)
    assert [(r[0], r[2], r[3]) for r in rows[1:]] == [("=后端开发", "新投递", "+张三")]
    assert all(c.data_type != "f" for r in sheet.iter_rows(min_row=2) for c in r)
    # staff have no such export; an employer has no statistics
    assert (await client.get("/statistics")).status in (302, 303, 403)


def test_counts_are_shown_with_thousands_separators_and_one_label_per_state():
    """60000 reads as 60,000; a filter never offers two states under one name."""
    from app.signing.flows import STATE_LABELS
    from app.templating import num
    assert (num(60000), num(999), num(12.5), num(True), num("x")) == ("60,000", "999", 12.5, True, "x")
    labels = list(STATE_LABELS.values())
    assert len(labels) == len(set(labels)), [x for x in labels if labels.count(x) > 1]
