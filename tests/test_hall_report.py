"""Hall reports (/monitor/reports): a real day in the hall — students join, are called,
answer, send call-quality figures, are finished or skipped — driven through the /hall
socket events with the manual clock, then the report page, its .xlsx export and the list,
as the platform admin and as school admins (who see only their own students). Plus unit
tests of the histogram buckets and the SVG bar chart."""

from __future__ import annotations

import io
import re
import statistics
import urllib.parse
import zipfile
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.db import Database
from app.monitor import charts, report
from app.tables import employers, interview_sessions
from tests import exports_kit
from tests.hall_kit import build_hall, with_everyone

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GOOD = {"rtt_ms": 40, "loss": 0.0, "out_kbps": 900, "in_kbps": 850, "fps": 30, "width": 640,
        "height": 480, "relay": False}
POOR = {**GOOD, "rtt_ms": 900, "loss": 0.2, "relay": True}


# ---- reading the page ---------------------------------------------------------------------

class _Page(HTMLParser):
    """The report page's figures (<dl id="report-figures">), the rows of its 面试明细 table
    (<table id="report-visits">) as cell texts, and each <svg class="chart">'s <title>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.figures: dict[str, str] = {}
        self.visits: list[list[str]] = []
        self.charts: list[str] = []
        self._where: str | None = None   # "figures" / "visits"
        self._in_tbody = False
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._dt: str | None = None
        self._svg_title: list[str] | None = None
        self._in_svg = False
        self._svg_titled = False

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        a = dict(attrs)
        if tag == "dl" and a.get("id") == "report-figures":
            self._where = "figures"
        elif tag == "table" and a.get("id") == "report-visits":
            self._where = "visits"
        elif tag == "tbody" and self._where == "visits":
            self._in_tbody = True
        elif tag == "tr" and self._in_tbody:
            self._row = []
        elif tag in ("td", "dt", "dd") and self._where:
            self._cell = []
        elif tag == "svg" and "chart" in (a.get("class") or "").split():
            self._in_svg = True
            self._svg_titled = False
        elif tag == "title" and self._in_svg and not self._svg_titled:  # the chart's, not a bar's
            self._svg_title = []
            self._svg_titled = True

    def handle_endtag(self, tag):  # noqa: ANN001
        if tag == "title" and self._svg_title is not None:
            self.charts.append("".join(self._svg_title))
            self._svg_title = None
        elif tag == "svg":
            self._in_svg = False
        elif tag in ("td", "dt", "dd") and self._cell is not None:
            text = " ".join("".join(self._cell).split())
            self._cell = None
            if tag == "dt":
                self._dt = text
            elif tag == "dd" and self._dt is not None:
                self.figures[self._dt] = text
                self._dt = None
            elif tag == "td" and self._row is not None:
                self._row.append(text)
        elif tag == "tr" and self._row is not None:
            self.visits.append(self._row)
            self._row = None
        elif tag == "tbody":
            self._in_tbody = False
        elif tag in ("dl", "table"):
            self._where = None

    def handle_data(self, data):  # noqa: ANN001
        if self._cell is not None:
            self._cell.append(data)
        if self._svg_title is not None:
            self._svg_title.append(data)


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def workbook_of(body: bytes):  # noqa: ANN201
    return load_workbook(io.BytesIO(body))


def all_cells(book) -> str:  # noqa: ANN001
    return "\n".join(str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True)
                     for c in row if c is not None)


def filename_star(disposition: str) -> str:
    m = re.search(r"filename\*=UTF-8''([^;\s]+)", disposition)
    assert m, disposition
    return m.group(1)


# ---- fixtures -------------------------------------------------------------------------------

@pytest.fixture
async def make_hall(world, settings, clock, make_client, sockets):
    """Like tests/test_monitor.py's `hall`: students 0 and 2 are of school 0, student 1 of
    school 1 (tests/hall_kit.py); `students` cuts the invitations to the first n."""
    async def make(students: int = 3) -> dict:
        data = await with_everyone(await build_hall(world, settings, clock, students=students),
                                   make_client, sockets)
        db = Database(settings.database_url)
        async with db.read() as conn:
            day = (await conn.execute(sa.select(interview_sessions.c.day).where(
                interview_sessions.c.id == data["session_id"]))).scalar_one()
        await db.dispose()
        data["day"] = day
        return data
    return make


# What the day below sends, and what the report must make of it.
S0_STUDENT = [{**GOOD, "rtt_ms": 40}, {**GOOD, "rtt_ms": 60}]
S0_EMPLOYER = [POOR, POOR, POOR, POOR, GOOD]          # 20 s apart: poor for 60 s, then good
S1_STUDENT = [{**GOOD, "rtt_ms": 300, "loss": 0.05}]  # 可用
S0_WAIT, S0_LENGTH = 5 * 60, 8 * 60      # s0: waits exactly 5 minutes, talks 8
S1_WAIT, S1_LENGTH = 13 * 60, 12 * 60    # s1: arrives with s0, called after s0's call


@pytest.fixture
async def day(make_hall, clock):
    """One booth's day through the /hall events:
    t+0   s0 and s1 join (slots t+1, t+6); t+2 s2 joins (slot t+11)
    t+5   s0 is called and answers (wait 5 min); both sides send quality figures
    t+13  s0 finished 通过 (8 min); s1 called and answers (wait 13 min), sends one sample
    t+25  s1 finished 待定 (12 min); s2 called and skipped → 未到
    """
    hall = await make_hall()
    sid = hall["session_id"]
    emp = await hall["sock"]("employer")
    assert (await emp.call("watch", {"session_id": sid}))["ok"] is True
    s0, s1, s2 = [await hall["sock"](f"s{i}") for i in range(3)]
    t0 = (await s0.call("join", {"interview_id": hall["interview_ids"][0]}))["ticket_id"]
    t1 = (await s1.call("join", {"interview_id": hall["interview_ids"][1]}))["ticket_id"]
    clock.advance(minutes=2)
    joined = await s2.call("join", {"interview_id": hall["interview_ids"][2]})
    assert joined["ok"] is True, joined
    t2 = joined["ticket_id"]

    clock.advance(minutes=3)
    assert (await emp.call("call_next", {"session_id": sid}))["ticket_id"] == t0
    assert (await s0.call("answer", {"ticket_id": t0}))["ok"] is True
    call_start = clock.now()
    for i, (mine, theirs) in enumerate(zip(S0_STUDENT + [None] * 3, S0_EMPLOYER)):
        if i:
            clock.advance(seconds=20)
        if mine is not None:
            assert (await s0.call("quality", {"ticket_id": t0, **mine}))["kept"] is True
        assert (await emp.call("quality", {"ticket_id": t0, **theirs}))["kept"] is True
    clock.advance(seconds=S0_LENGTH - (clock.now() - call_start).total_seconds())
    assert (await emp.call("finish", {"ticket_id": t0, "outcome": "通过"}))["ok"] is True

    assert (await emp.call("call_next", {"session_id": sid}))["ticket_id"] == t1
    assert (await s1.call("answer", {"ticket_id": t1}))["ok"] is True
    assert (await s1.call("quality", {"ticket_id": t1, **S1_STUDENT[0]}))["kept"] is True
    clock.advance(seconds=S1_LENGTH)
    assert (await emp.call("finish", {"ticket_id": t1, "outcome": "待定"}))["ok"] is True

    assert (await emp.call("call_next", {"session_id": sid}))["ticket_id"] == t2
    assert (await emp.call("skip", {"session_id": sid, "ticket_id": t2}))["ok"] is True
    hall["tickets"] = [t0, t1, t2]
    return hall


def names(hall) -> list[str]:  # noqa: ANN001
    return [s.name for s in hall["students"]]


# ---- the page ------------------------------------------------------------------------------

async def test_the_platform_report_page_shows_the_days_figures_charts_and_visits(day):
    resp = await day["http"]["platform"].get(f"/monitor/reports/{day['session_id']}")
    assert resp.status == 200
    html = await resp.text()
    page = parse(html)
    waits, lengths = [S0_WAIT, S1_WAIT], [S0_LENGTH, S1_LENGTH]
    expected = {
        "邀请人数": "3", "到场人数": "3", "已面试": "2", "未到": "1",
        "未到率": f"{round(100 * 1 / 3)}%",
        "等待时长中位数": f"{statistics.median(waits) / 60:.1f} 分钟",    # 9.0
        "最长等待": f"{max(waits) / 60:.1f} 分钟",                         # 13.0
        "面试时长中位数": f"{statistics.median(lengths) / 60:.1f} 分钟",  # 10.0
        "有质量数据的通话": "2", "质量较差超过1分钟的通话": "1",
    }
    assert page.figures == expected
    assert (page.figures["等待时长中位数"], page.figures["面试时长中位数"]) == ("9.0 分钟", "10.0 分钟")
    # four charts, each an inline SVG with its title
    assert html.count('<svg class="chart"') == 4
    assert page.charts == ["等待时长分布", "面试时长分布", "到场与未到", "各通话平均往返时延"]
    # the tables beside the charts: a 5-minute wait counts in 5–10, not 0–5
    assert re.search(r"<th scope=\"row\">0–5 分钟</th><td>0 人</td>", html)
    assert re.search(r"<th scope=\"row\">5–10 分钟</th><td>1 人</td>", html)
    assert re.search(r"<th scope=\"row\">10–20 分钟</th><td>1 人</td>", html)
    assert re.search(r"<th scope=\"row\">5–10 分钟</th><td>1 场</td>", html)
    assert re.search(r"<th scope=\"row\">10–15 分钟</th><td>1 场</td>", html)
    # 面试明细: one row per student, in order of arrival
    s0, s1, s2 = names(day)
    rows = page.visits
    assert [r[0] for r in rows] == [s0, s1, s2]
    assert [r[1] for r in rows] == ["第一测试大学", "第二测试学院", "第一测试大学"]
    assert [(r[4], r[5]) for r in rows] == [("5.0 分钟", "8.0 分钟"), ("13.0 分钟", "12.0 分钟"),
                                            ("—", "—")]
    assert [(r[6], r[7]) for r in rows] == [("已面试", "通过"), ("已面试", "待定"), ("未到", "—")]
    # call quality of each side: averages over the call (the verdict is the last sample's)
    s0_rtt = round(statistics.mean(x["rtt_ms"] for x in S0_STUDENT))          # 50
    emp_rtt = round(statistics.mean(x["rtt_ms"] for x in S0_EMPLOYER))        # 728
    emp_loss = round(100 * statistics.mean(x["loss"] for x in S0_EMPLOYER), 1)  # 16.0
    assert rows[0][8] == (f"良好 · 平均延迟 {s0_rtt} ms · 丢包 0.0% · 900/850 kbps · 直连 / "
                          f"良好 · 平均延迟 {emp_rtt} ms · 丢包 {emp_loss}% · 900/850 kbps · 直连")
    assert rows[1][8] == "可用 · 平均延迟 300 ms · 丢包 5.0% · 900/850 kbps · 直连 / —"
    assert rows[2][8] == "— / —"
    # the quality chart has one bar per side of each call, named after the student
    quality_svg = html[html.index("<title>各通话平均往返时延</title>"):]
    quality_svg = quality_svg[:quality_svg.index("</svg>")]
    assert f"{s0}（学生）" in quality_svg and f"{s0}（单位）" in quality_svg
    assert f"{s1}（学生）" in quality_svg and f"{emp_rtt} ms" in quality_svg
    assert quality_svg.count('<line class="mark"') == 2  # the 良好 and 可用 reference lines
    # the export button: a job for this booth's report
    assert 'name="kind" value="hall_report"' in html
    assert f'name="session" value="{day["session_id"]}"' in html


async def test_a_school_admin_sees_only_its_own_students(day):
    s0, s1, s2 = names(day)
    sid = day["session_id"]
    resp = await day["http"]["school1"].get(f"/monitor/reports/{sid}")
    assert resp.status == 200
    html = await resp.text()
    page = parse(html)
    assert [r[0] for r in page.visits] == [s1]
    assert s0 not in html and s2 not in html
    assert page.figures["邀请人数"] == "1" and page.figures["到场人数"] == "1"
    assert page.figures["已面试"] == "1" and page.figures["未到"] == "0"
    assert page.figures["未到率"] == "0%"
    assert page.figures["等待时长中位数"] == f"{S1_WAIT / 60:.1f} 分钟"
    assert page.figures["面试时长中位数"] == f"{S1_LENGTH / 60:.1f} 分钟"
    assert page.figures["有质量数据的通话"] == "1"
    assert page.figures["质量较差超过1分钟的通话"] == "0"
    # the other school's figures are not in the charts either
    assert html.count('<svg class="chart"') == 4 and "（单位）" not in html

    book = await exports_kit.exported(day["http"]["school1"], "hall_report", session=str(sid))
    cells = all_cells(book)
    assert s1 in cells and s0 not in cells and s2 not in cells
    detail = list(book["面试明细"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in detail] == [s1]
    quality = list(book["通话质量"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1]) for r in quality] == [(s1, "学生")]

    # school 0 sees its two students, not school 1's
    html0 = await (await day["http"]["school0"].get(f"/monitor/reports/{sid}")).text()
    assert [r[0] for r in parse(html0).visits] == [s0, s2]
    assert s1 not in html0
    # the list: every admin whose students were there finds the booth
    for key in ("platform", "school0", "school1"):
        resp = await day["http"][key].get("/monitor/reports")
        assert resp.status == 200
        listing = await resp.text()
        assert f'href="/monitor/reports/{sid}"' in listing, key
        assert "测试科技有限公司" in listing


async def test_a_booth_without_the_schools_students_is_not_found(make_hall):
    hall = await make_hall(students=1)   # only student 0 (school 0) is invited
    sid, http = hall["session_id"], hall["http"]
    path = f"/monitor/reports/{sid}"
    assert (await http["school1"].get(path)).status == 404, path
    assert (await http["school0"].get(path)).status == 200, path
    assert (await http["platform"].get(path)).status == 200, path
    assert (await http["platform"].get(f"/monitor/reports/{sid + 1000}")).status == 404
    # not for students, employers or counselors
    for key in ("s0", "employer", "counselor"):
        assert (await http[key].get(path)).status == 403, (key, path)
    # its export likewise: refused to the other school and to a booth that is not there
    for key, session, status in (("school1", sid, 403), ("platform", sid + 1000, 403),
                                 ("s0", sid, 403), ("counselor", sid, 403),
                                 ("school0", sid, 303), ("platform", sid, 303)):
        resp = await exports_kit.ask(http[key], "hall_report", session=str(session))
        assert resp.status in ((302, 303, 403) if key == "s0" else (status,)), (key, resp.status)
    listing = await (await http["school1"].get("/monitor/reports")).text()
    assert f"/monitor/reports/{sid}" not in listing and "还没有视频面试场次" in listing
    for key in ("school0", "platform"):
        listing = await (await http[key].get("/monitor/reports")).text()
        assert f'href="/monitor/reports/{sid}"' in listing, key
    # a booth nobody came to: the page still renders, with dashes for the medians
    page = parse(await (await http["platform"].get(f"/monitor/reports/{sid}")).text())
    assert page.figures["邀请人数"] == "1" and page.figures["到场人数"] == "0"
    assert page.figures["未到率"] == "—" and page.figures["等待时长中位数"] == "—"
    assert page.visits == [["没有学生进入该面试间。"]]


# ---- the workbook ---------------------------------------------------------------------------

async def test_the_xlsx_export(day):
    client = day["http"]["platform"]
    url = await exports_kit.job_url(client, "hall_report", session=str(day["session_id"]))
    status = await exports_kit.finished(client, url)
    resp = await client.get(status["download"])
    assert resp.status == 200
    assert resp.headers["Content-Type"] == XLSX_TYPE
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    name = f"面试大厅报告（测试科技有限公司 · {day['day'].isoformat()}）.xlsx"
    star = filename_star(disposition)
    assert urllib.parse.unquote(star, encoding="utf-8", errors="strict") == name
    assert urllib.parse.quote("面试大厅报告".encode("utf-8")) in star  # %E9%9D%A2…, not raw text
    assert disposition.isascii()

    book = workbook_of(await resp.read())
    assert book.sheetnames == ["说明", "概况", "面试明细", "通话质量"]
    for sheet in book.worksheets[1:]:  # ready for Excel, as every export (test_export_jobs.py)
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:"), sheet.title
    lines = list(book["概况"].iter_rows(values_only=True))
    assert lines[0] == ("项目", "数值", "单位")
    summary = {r[0]: r[1] for r in lines[1:]}
    assert summary["单位"] == "测试科技有限公司" and summary["日期"].date() == day["day"]
    # figures are numbers, with their unit beside them (they can be summed)
    assert (summary["邀请人数"], summary["到场人数"], summary["已面试"], summary["未到"]) == (3, 3, 2, 1)
    assert summary["未到率"] == 33 and summary["最长等待"] == 13.0
    assert summary["等待时长中位数"] == 9.0 and summary["面试时长中位数"] == 10.0
    counts = {r[0]: r[1] for r in lines[1:] if r[0].startswith("状态：")}
    assert counts == {"状态：排队中": 0, "状态：呼叫中": 0, "状态：面试中": 0, "状态：已面试": 2,
                      "状态：未到": 1, "状态：离开": 0, "状态：被移出": 0, "状态：面试间关闭": 0}

    detail = book["面试明细"]
    header = [c.value for c in detail[1]]
    assert header[0] == "学生" and header[6] == "等待(分钟)" and header[7] == "面试时长(分钟)"
    rows = list(detail.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(day["tickets"]) == 3  # one row per ticket
    s0, s1, s2 = names(day)
    col = {h: i for i, h in enumerate(header)}
    assert [r[col["学生"]] for r in rows] == [s0, s1, s2]
    assert [r[col["等待(分钟)"]] for r in rows] == [S0_WAIT / 60, S1_WAIT / 60, None]
    assert [r[col["面试时长(分钟)"]] for r in rows] == [S0_LENGTH / 60, S1_LENGTH / 60, None]
    assert [r[col["状态"]] for r in rows] == ["已面试", "已面试", "未到"]
    assert [r[col["面试结果"]] for r in rows] == ["通过", "待定", None]
    assert all(r[col["到达时间"]] for r in rows) and rows[2][col["开始面试"]] is None

    calls = book["通话质量"]
    header = [c.value for c in calls[1]]
    col = {h: i for i, h in enumerate(header)}
    rows = {(r[col["学生"]], r[col["端"]]): r for r in calls.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {(s0, "学生"), (s0, "单位"), (s1, "学生")}
    for key, sent in (((s0, "学生"), S0_STUDENT), ((s0, "单位"), S0_EMPLOYER), ((s1, "学生"), S1_STUDENT)):
        r = rows[key]
        assert r[col["采样次数"]] == len(sent), key
        assert r[col["平均往返时延(ms)"]] == round(statistics.mean(x["rtt_ms"] for x in sent)), key
        assert r[col["最大往返时延(ms)"]] == max(x["rtt_ms"] for x in sent), key
        assert r[col["平均丢包(%)"]] == round(100 * statistics.mean(x["loss"] for x in sent), 1), key
        assert r[col["平均上行(kbps)"]] == 900 and r[col["平均下行(kbps)"]] == 850
        assert r[col["平均帧率"]] == 30 and r[col["分辨率"]] == "640×480"
    assert rows[(s0, "单位")][col["平均往返时延(ms)"]] == 728
    assert rows[(s0, "单位")][col["较差时长(秒)"]] == 60 and rows[(s0, "学生")][col["较差时长(秒)"]] == 0
    assert [rows[k][col["评价"]] for k in ((s0, "学生"), (s0, "单位"), (s1, "学生"))] == ["良好", "良好", "可用"]


async def test_text_that_looks_like_a_formula_stays_text_in_the_xlsx(make_hall, settings):
    """An employer names itself, an admin writes a reason: text starting with "=" must not
    become a live formula in the office's spreadsheet."""
    hall = await make_hall(students=1)
    employer = '=HYPERLINK("https://evil.example","点此")'
    db = Database(settings.database_url)
    async with db.write() as conn:
        await conn.execute(employers.update().values(name=employer))
    await db.dispose()
    s0 = await hall["sock"]("s0")
    ticket = (await s0.call("join", {"interview_id": hall["interview_ids"][0]}))["ticket_id"]
    resp = await hall["http"]["platform"].post(f"/monitor/tickets/{ticket}/remove", {"reason": "=1+1"})
    assert resp.status == 303
    page = parse(await (await hall["http"]["platform"].get(f"/monitor/reports/{hall['session_id']}")).text())
    assert page.visits[0][6] == "被移出（=1+1）"
    client = hall["http"]["platform"]
    url = await exports_kit.job_url(client, "hall_report", session=str(hall["session_id"]))
    resp = await client.get((await exports_kit.finished(client, url))["download"])
    assert resp.status == 200
    body = await resp.read()
    book = workbook_of(body)
    assert (book["概况"]["B2"].value, book["概况"]["B2"].data_type) == (employer, "s")
    reason = book["面试明细"].cell(row=2, column=11)
    assert (reason.value, reason.data_type) == ("=1+1", "s")
    assert not [c.coordinate for ws in book.worksheets for row in ws.iter_rows() for c in row
                if c.data_type == "f"]
    with zipfile.ZipFile(io.BytesIO(body)) as z:
        assert not [n for n in z.namelist() if n.startswith("xl/worksheets/")
                    and "<f>" in z.read(n).decode()]


# ---- pure units -----------------------------------------------------------------------------

def test_histogram_buckets_include_the_lower_edge_only():
    minutes = [0, 4.99, 5, 9.99, 10, 20, 59.99, 60, 600]
    got = report.histogram([m * 60 for m in minutes], report.WAIT_BUCKETS)
    assert got == [("0–5 分钟", 2), ("5–10 分钟", 2), ("10–20 分钟", 1), ("20–30 分钟", 1),
                   ("30–60 分钟", 1), ("60 分钟以上", 2)]
    assert report.histogram([300.0], report.WAIT_BUCKETS)[1] == ("5–10 分钟", 1)
    assert report.histogram([299.0], report.WAIT_BUCKETS)[0] == ("0–5 分钟", 1)
    assert report.histogram([], report.LENGTH_BUCKETS) == [
        ("0–5 分钟", 0), ("5–10 分钟", 0), ("10–15 分钟", 0), ("15–20 分钟", 0),
        ("20–30 分钟", 0), ("30 分钟以上", 0)]
    # every value lands in exactly one bucket
    values = [i * 37.0 for i in range(200)]
    assert sum(n for _, n in report.histogram(values, report.LENGTH_BUCKETS)) == len(values)


def test_median():
    assert report.median([]) is None and report.median([60, 180, 600]) == 180
    assert report.median([300, 780]) == 540


def _widths(svg: str) -> list[float]:
    """The bars' widths, in % of the chart's width."""
    return [float(w) for w in re.findall(r'<rect [^>]*width="([\d.]+)%"', svg)]


def test_bar_chart_escapes_labels_and_titles():
    svg = str(charts.bar_chart('<b>"t"</b>', [("<script>alert(1)</script>", 3, "poor"),
                                             ("a & b", 1, "normal")], unit=" <u>"))
    assert "<script>" not in svg and "<b>" not in svg and "<u>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg and "a &amp; b" in svg
    assert "<title>&lt;b&gt;&#34;t&#34;&lt;/b&gt;</title>" in svg
    assert "3 &lt;u&gt;" in svg
    assert svg.startswith('<svg class="chart" role="img"') and svg.endswith("</svg>")
    assert 'fill="#dc2626"' in svg and 'fill="#2563eb"' in svg
    # counts on an axis from 0 to a round number (5 here), not to the largest bar
    assert _widths(svg) == [round(3 / 5 * charts.PLOT, 2), round(1 / 5 * charts.PLOT, 2)]


def test_a_rate_is_drawn_on_a_fixed_0_to_100_axis_with_its_value():
    svg = str(charts.bar_chart("就业率", [("甲学院", 20, "normal"), ("乙学院", 50, "normal")], "%"))
    # 20 % is a fifth of the axis, whatever the largest bar
    assert _widths(svg) == [round(0.2 * charts.PLOT, 2), round(0.5 * charts.PLOT, 2)]
    ticks = re.findall(r'<text class="tick"[^>]*>([^<]+)</text>', svg)
    assert ticks == ["0%", "25%", "50%", "75%", "100%"]
    assert svg.count('class="grid"') == 5 and ">20%<" in svg and ">50%<" in svg
    # text keeps its size at any width: no viewBox scaling, pixels for text
    assert "viewBox" not in svg and 'font-size="13"' in svg and 'width="100%"' in svg


def test_a_long_label_is_cut_with_its_whole_name_in_the_title():
    name = "计算机科学与技术（人工智能与大数据方向）中外合作办学"
    svg = str(charts.bar_chart("专业", [(name, 10, "normal")], " 人"))
    assert f"<title>{name}：10 人</title>" in svg
    shown = re.findall(r'<text x="0"[^>]*>([^<]+)</text>', svg)
    assert shown == [name[:charts.MAX_LABEL - 1] + "…"]


def test_bar_chart_with_zero_values_and_no_bars():
    svg = str(charts.bar_chart("空", [("a", 0, "normal"), ("b", 0, "good")], " 人"))
    assert "暂无数据" in svg and "<rect" not in svg
    assert "nan" not in svg.lower() and "inf" not in svg.lower()
    empty = str(charts.bar_chart("无", []))
    assert empty.count("<rect") == 0 and "<title>无</title>" in empty and "暂无数据" in empty
    negative = str(charts.bar_chart("负", [("a", -5, "normal"), ("b", 10, "normal")]))
    assert _widths(negative)[0] == 0.0


def test_bar_chart_marks_draw_reference_lines_on_the_same_scale():
    svg = str(charts.bar_chart("延迟", [("x", 800, "poor"), ("y", 100, "good")], " ms",
                               marks=[(150, "良好 150ms"), (400, "可用 <400ms>")]))
    lines = re.findall(r'<line class="mark" x1="([\d.]+)%" x2="([\d.]+)%"', svg)
    assert len(lines) == 2
    top = charts.nice_top(800)
    assert top == 1000
    expected = [f"{v / top * charts.PLOT:.2f}" for v in (150, 400)]
    assert [x1 for x1, _ in lines] == expected and all(x1 == x2 for x1, x2 in lines)
    assert _widths(svg) == [round(800 / top * charts.PLOT, 2), round(100 / top * charts.PLOT, 2)]
    assert "可用 &lt;400ms&gt;" in svg


def test_nice_axis_ends():
    assert [charts.nice_top(v) for v in (0, 1, 3, 7, 12, 60000, 250)] == [1, 1, 5, 10, 20, 100000, 250]
