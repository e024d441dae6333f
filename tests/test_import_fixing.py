"""Imports people can fix (issue 26, part 4), through the app as a school admin uses it: the
.xlsx template with its example row, notes and drop-downs from the school's own lists; the
report grouped by message and paged; 【下载错误行】 fixed and imported as it is; synonyms,
full-width characters and stray spaces corrected and listed. Both imports (学生信息, 生源)."""

from __future__ import annotations

import datetime as dt
import io
import re

import aiohttp
import openpyxl
import pytest
import sqlalchemy as sa

from app.db import Database
from app.ops import housekeeping
from app.reviews.origin.import_views import ORIGIN_IMPORTS
from app.reviews.tables import origin_records
from app.state import IMPORTS
from app.students import report
from app.tables import colleges, import_jobs, student_records
from app.validators import make_id_number
from app.xlsx import FORMULA_STARTS
from tests.conftest import count
from tests.factories import PASSWORD

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["学号", "姓名", "身份证号", "性别", "学院", "专业", "学历", "毕业年份", "班级"]
EDUCATION_MESSAGE = "学历：应为博士生、硕士生、本科生、专科生、二学位之一"
YEAR_MESSAGE = "毕业年份：应为四位年份，如2026"
COLLEGE_MESSAGE = "学院：学校没有这个学院"


def person(i: int) -> list[str]:
    """A good row: 学号 F0000…, an ID number of its own (odd sequence: 男)."""
    born = dt.date(2003, 1, 1) + dt.timedelta(days=i)
    return [f"F{i:04d}", f"学生{i}", make_id_number("500103", born, 11), "男", "信息学院",
            "软件工程", "本科生", "2026", "1班"]


def book_bytes(rows, header=HEADER) -> bytes:
    book = openpyxl.Workbook()
    book.active.append(header)
    for r in rows:
        book.active.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows, header=HEADER) -> bytes:
    return ("\n".join(",".join(r) for r in [header, *rows]) + "\n").encode("utf-8-sig")


async def upload(client, path: str, name: str, data: bytes):
    form = aiohttp.FormData()
    form.add_field("_csrf", client.csrf())
    form.add_field("file", data, filename=name,
                   content_type=XLSX if name.endswith(".xlsx") else "text/csv")
    resp = await client.client.post(path, data=form, allow_redirects=False)
    assert resp.status == 303, await resp.text()
    runner = client.app[ORIGIN_IMPORTS if "origins" in path else IMPORTS]
    await runner.drain()
    job_url = resp.headers["Location"]
    status = await (await client.get(job_url + "/status")).json()
    return job_url, status


def groups_of(page: str) -> list[tuple[str, int]]:
    return [(m, int(n.replace(",", ""))) for m, n in re.findall(
        r"<li><strong>([^<]+)</strong> — ([\d,]+) 行", page)]


def changes_of(page: str) -> list[str]:
    box = re.search(r'<ul id="import-changes">(.*?)</ul>', page, re.S)
    return re.findall(r"<li>([^<]+)</li>", box[1]) if box else []


def load(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def validations(sheet) -> dict[str, object]:  # noqa: ANN001
    """Header label → its data validation."""
    header = {c.column_letter: c.value for c in sheet[1]}
    out = {}
    for dv in sheet.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            out[header[rng.split(":")[0].rstrip("0123456789")]] = dv
    return out


def list_values(book: openpyxl.Workbook, dv) -> list[str]:  # noqa: ANN001
    sheet_name, cells = dv.formula1.split("!")
    sheet = book[sheet_name.strip("'")]
    return [c.value for row in sheet[cells.replace("$", "")] for c in row]


def no_formulas(book: openpyxl.Workbook) -> None:
    """Every text cell that could be read as a formula is stored as text."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                    assert cell.data_type == "s", (sheet.title, cell.coordinate)


@pytest.fixture
async def admin(client, world):
    await client.login("staff", "school_admin0", PASSWORD)
    return client


async def test_a_thousand_bad_rows_of_three_kinds_are_three_groups_and_fixed_rows_import(
        admin, world, settings, monkeypatch):
    good = [person(i) for i in range(20)]
    bad = []
    for i in range(20, 1020):
        row = person(i)
        if i < 520:
            row[6] = "中学生"
        elif i < 820:
            row[7] = "26"
        else:
            row[4] = f"火星学院{i % 7}"  # the particulars differ, the message does not
        bad.append(row)
    bad[0][1] = "=1+2"  # a name like a formula stays text in the error rows
    monkeypatch.setattr(report, "GROUPS_PER_PAGE", 2)
    job_url, status = await upload(admin, "/school/imports", "名单.csv", csv_bytes(good + bad))
    assert status == {"status": "done", "total": 1020, "processed": 1020, "created": 20,
                      "updated": 0, "failed_rows": 1000, "message": None}

    page = await (await admin.get(job_url)).text()
    assert "未导入的行：1,000 行" in page
    assert groups_of(page) == [(EDUCATION_MESSAGE, 500), (YEAR_MESSAGE, 300)]
    assert "第 1 / 2 页，共 3 条" in page
    # a group shows its first rows only: the page stays short however many rows fail
    assert len(re.findall(r"第 \d+ 行", page)) == 2 * report.FIRST_ROWS
    second = await (await admin.get(job_url + "?page=2")).text()
    assert groups_of(second) == [(COLLEGE_MESSAGE, 200)]
    assert "第 822 行（学校没有名为“火星学院1”的学院）" in second

    resp = await admin.get(job_url + "/errors.xlsx")
    assert resp.status == 200 and resp.headers["Content-Type"] == XLSX
    assert "attachment" in resp.headers["Content-Disposition"]
    book = load(await resp.read())
    sheet = book.worksheets[0]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[0] == HEADER + ["错误"]
    assert len(rows) == 1001
    assert rows[1][1] == "=1+2" and sheet["B2"].data_type == "s"
    no_formulas(book)
    assert {r[9] for r in rows[1:]} >= {"学历：应为博士生、硕士生、本科生、专科生、二学位之一",
                                        "毕业年份：应为四位年份，如2026",
                                        "学院：学校没有名为“火星学院0”的学院"}
    assert set(validations(sheet)) == {"性别", "学院", "专业", "学历", "毕业年份"}

    # the test fixes every row in the downloaded workbook and sends that file back
    for cells in sheet.iter_rows(min_row=2):
        error = cells[9].value
        if error.startswith("学历"):
            cells[6].value = "本科生"
        elif error.startswith("毕业年份"):
            cells[7].value = "2026"
        else:
            cells[4].value = "信息学院"
    out = io.BytesIO()
    book.save(out)
    _, status = await upload(admin, "/school/imports", "名单-错误行.xlsx", out.getvalue())
    assert status == {"status": "done", "total": 1000, "processed": 1000, "created": 1000,
                      "updated": 0, "failed_rows": 0, "message": None}
    assert await count(settings.database_url, student_records,
                       student_records.c.student_no.like("F%")) == 1020
    assert await count(settings.database_url, student_records,
                       student_records.c.name == "=1+2") == 1


async def test_synonyms_full_width_and_spaces_are_corrected_and_listed(admin, world, settings):
    rows = [
        ["２０２６００１", "王 小明", make_id_number("500103", dt.date(2003, 2, 2), 21)
         .translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")), "男性",
         " 信息学院 ", "软件工程", "硕士研究生", "２０２６", "软件（１）班"],
        ["2026002", "李红", make_id_number("500103", dt.date(2003, 2, 3), 22), "女性",
         "信息学院", "软件工程", "硕士研究生", "2026", "1班"],
        ["2026003", "赵强", make_id_number("500103", dt.date(2003, 2, 4), 23), "男",
         "信息学院", "软件工程", "大专", "2026", "1班"],
    ]
    job_url, status = await upload(admin, "/school/imports", "名单.csv", csv_bytes(rows))
    assert (status["created"], status["failed_rows"]) == (3, 0)
    page = await (await admin.get(job_url)).text()
    assert sorted(changes_of(page)) == sorted([
        "学历：硕士研究生 → 硕士生 — 2 行", "学历：大专 → 专科生 — 1 行",
        "性别：男性 → 男 — 1 行", "性别：女性 → 女 — 1 行",
        "学号：全角字符改为半角 — 1 行", "身份证号：全角字符改为半角 — 1 行",
        "毕业年份：全角字符改为半角 — 1 行", "班级：全角字符改为半角 — 1 行",
        "姓名：去掉多余的空格 — 1 行", "学院：去掉多余的空格 — 1 行"])
    db = Database(settings.database_url)
    try:
        async with db.read() as conn:
            got = {r.student_no: r for r in await conn.execute(sa.select(student_records).where(
                student_records.c.student_no.like("2026%")))}
    finally:
        await db.dispose()
    first = got["2026001"]
    assert (first.name, first.gender, first.education, first.graduation_year, first.class_name) \
        == ("王小明", "1", "硕士生", 2026, "软件（1）班")  # full-width brackets stay in Chinese text
    assert first.id_number == make_id_number("500103", dt.date(2003, 2, 2), 21)
    assert (got["2026002"].gender, got["2026003"].education) == ("2", "专科生")


async def test_the_template_has_an_example_notes_and_the_schools_own_drop_downs(
        admin, world, settings, clock):
    db = Database(settings.database_url)
    try:
        async with db.write() as conn:  # another school's 学院 is not offered; ours is, as text
            await conn.execute(colleges.insert().values(
                school_id=world.schools[1].id, code="09", name="外校学院"))
            await conn.execute(colleges.insert().values(
                school_id=world.schools[0].id, code="08", name='=HYPERLINK("http://x","点我")'))
    finally:
        await db.dispose()
    resp = await admin.get("/school/imports/template.xlsx")
    assert resp.status == 200 and resp.headers["Content-Type"] == XLSX
    data = await resp.read()
    book = load(data)
    assert book.sheetnames == ["导入数据", "填写说明", "下拉选项"]
    assert book["下拉选项"].sheet_state == "hidden"
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == HEADER
    assert [c.value for c in sheet[2]] == ["示例", "张三", "11010519491231002X", "女", "信息学院",
                                           "软件工程", "本科生", str(clock.now().year), "软件工程1班"]
    assert sheet.freeze_panes == "A2"
    rules = validations(sheet)
    assert set(rules) == {"性别", "学院", "专业", "学历", "毕业年份"}
    assert list_values(book, rules["学院"]) == ["信息学院", "商学院", '=HYPERLINK("http://x","点我")']
    assert list_values(book, rules["专业"]) == ["软件工程", "会计学"]
    assert list_values(book, rules["学历"]) == ["博士生", "硕士生", "本科生", "专科生", "二学位"]
    assert list_values(book, rules["性别"]) == ["男", "女"]
    assert (rules["毕业年份"].type, rules["毕业年份"].formula1) == ("whole", "2000")
    assert str(rules["学院"].sqref) == f"E2:E{settings.import_max_rows + 2}"
    no_formulas(book)
    notes = [[c.value for c in r] for r in book["填写说明"].iter_rows()]
    assert {r[0] for r in notes} >= set(HEADER)
    assert any("示例" in (r[0] or "") and "跳过" in r[0] for r in notes)

    # sent back unchanged: the example row is skipped, so there is nothing to import
    job_url, status = await upload(admin, "/school/imports", "模板.xlsx", data)
    assert status["status"] == "failed"
    assert "表格中除表头外没有数据行" in await (await admin.get(job_url)).text()
    # filled below its example: the rows import
    sheet.append(person(1))
    sheet.append(person(2))
    out = io.BytesIO()
    book.save(out)
    _, status = await upload(admin, "/school/imports", "模板.xlsx", out.getvalue())
    assert (status["status"], status["created"], status["failed_rows"]) == ("done", 2, 0)


async def test_error_rows_are_the_schools_own_and_kept_a_day(make_client, world, settings, clock):
    admin = await make_client()
    await admin.login("staff", "school_admin0", PASSWORD)
    bad = person(1)
    bad[6] = "中学生"
    job_url, status = await upload(admin, "/school/imports", "名单.csv", csv_bytes([bad]))
    assert status["failed_rows"] == 1
    other = await make_client()
    await other.login("staff", "school_admin1", PASSWORD)
    assert (await other.get(job_url + "/errors.xlsx")).status == 404
    assert (await admin.get(job_url + "/errors.xlsx")).status == 200

    db = Database(settings.database_url)
    try:
        async with db.read() as conn:
            stored = (await conn.execute(sa.select(import_jobs.c.stored_path))).scalar_one()
        kept = stored.rsplit(".", 1)[0] + ".errors.xlsx"
        swept = await housekeeping.sweep(db, settings, clock.now())
        assert (swept.import_files, swept.error_rows_files) == ([stored], [])
        clock.advance(days=1, seconds=1)
        assert (await admin.get(job_url + "/errors.xlsx")).status == 404
        page = await (await admin.get(job_url)).text()
        assert "错误行文件已超过保留期限" in page and 'id="import-error-rows"' not in page
        swept = await housekeeping.sweep(db, settings, clock.now())
        assert swept.error_rows_files == [kept]
    finally:
        await db.dispose()


async def test_origin_import_corrects_synonyms_and_its_error_rows_import_fixed(
        admin, world, settings):
    s0, s1 = world.students[0], world.students[1]
    header = ["学号", "姓名", "民族", "政治面貌", "生源所在地", "城乡生源", "困难生类别",
              "师范生类别", "手机", "邮箱", "家庭地址", "户口是否转入学校", "档案是否转入学校"]
    rows = [[s0.student_no, s0.name, "汉", "团员", "500103 重庆市渝中区", "城镇", "否", "非师范",
             "138 0000 1111", "a@b.cn", "渝中区1号", "未转入", "是"],
            [s1.student_no, s1.name, "汉族", "火星党", "重庆市渝中区", "农村", "非困难生",
             "非师范生", "13800002222", "c@d.cn", "渝中区2号", "否", "是"]]
    job_url, status = await upload(admin, "/school/origins/import", "生源.xlsx",
                                   book_bytes(rows, header))
    page = await (await admin.get(job_url)).text()
    assert (status["created"], status["failed_rows"]) == (1, 1), page
    changes = changes_of(page)
    assert {"民族：汉 → 汉族 — 1 行", "政治面貌：团员 → 共青团员 — 1 行",
            "生源所在地：“代码 名称”只保留代码 — 1 行", "生源所在地：区县名称改为代码 — 1 行",
            "困难生类别：否 → 非困难生 — 1 行", "师范生类别：非师范 → 非师范生 — 1 行",
            "户口是否转入学校：未转入 → 否 — 1 行", "手机：去掉多余的空格 — 1 行"} <= set(changes)
    assert groups_of(page) == [("政治面貌：政治面貌不在代码表中", 1)]

    resp = await admin.get(job_url + "/errors.xlsx")
    book = load(await resp.read())
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == header + ["错误"]
    assert [c.value for c in sheet[2]][3:5] == ["火星党", "500103"]  # as corrected
    assert set(validations(sheet)) == {"民族", "政治面貌", "生源所在地", "城乡生源", "困难生类别",
                                       "师范生类别", "户口是否转入学校", "档案是否转入学校"}
    sheet["D2"] = "群众"
    out = io.BytesIO()
    book.save(out)
    _, status = await upload(admin, "/school/origins/import", "生源-错误行.xlsx", out.getvalue())
    assert (status["status"], status["created"], status["failed_rows"]) == ("done", 1, 0)
    db = Database(settings.database_url)
    try:
        async with db.read() as conn:
            data = {r.student_record_id: r.data for r in await conn.execute(sa.select(origin_records))}
    finally:
        await db.dispose()
    assert (data[s0.record_id]["political"], data[s0.record_id]["origin_area"],
            data[s0.record_id]["mobile"], data[s0.record_id]["hukou_in"]) == ("03", "500103",
                                                                             "13800001111", "0")
    assert (data[s1.record_id]["political"], data[s1.record_id]["origin_area"]) == ("13", "500103")


async def test_origin_template_offers_every_code_table(admin, world, clock):
    from app.reviews.origin.fields import EDITABLE, ROLL
    book = load(await (await admin.get("/school/origins/import/template.xlsx")).read())
    sheet = book.worksheets[0]
    coded = {f.label for f in ROLL + EDITABLE if f.table or f.area}
    rules = validations(sheet)
    assert set(rules) == coded
    assert list_values(book, rules["政治面貌"])[:3] == ["中共党员", "中共预备党员", "共青团员"]
    assert "500103 重庆市渝中区" in list_values(book, rules["生源所在地"])
    example = dict(zip([c.value for c in sheet[1]], [c.value for c in sheet[2]]))
    assert example["学号"] == "示例" and example["生源所在地"] == "500103 重庆市渝中区"
    no_formulas(book)
