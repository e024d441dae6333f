"""Pure parts of the review flows: code tables, 生源 row checks, flow declarations."""

import io

import openpyxl
import pytest

from app import codes
from app.reviews.flows import ORIGIN_FLOW, RECOMMENDATION_FLOW
from app.reviews.origin.fields import EDITABLE, changes, clean_values
from app.reviews.origin.imports import COLUMNS, REQUIRED, Student, check_rows
from app.roles import Role
from app.students.parsing import read_rows
from app.workflow import Flow, Notify, Step


def test_area_codes_cover_chongqing_and_sichuan():
    assert codes.area_name("500103") == "重庆市渝中区"
    assert codes.area_name("500229") == "重庆市城口县"
    assert codes.area_name("510107") == "四川省成都市武侯区"
    assert {"500000", "510000"} <= {c for c, _ in codes.provinces()}
    assert ("500106", "沙坪坝区") in codes.counties("500100")
    assert codes.is_county("500103") and not codes.is_county("500100")
    assert not codes.is_county("999999")


def test_codes_accept_code_label_or_excel_number():
    assert codes.lookup(codes.POLITICAL, "共青团员") == "03"
    assert codes.lookup(codes.POLITICAL, "3") == "03"
    assert codes.lookup(codes.NORMAL_STUDENT, "12") == "12"
    assert codes.lookup(codes.HARDSHIP, "富裕") is None


def test_student_values_checked_with_messages():
    values, errors = clean_values({"mobile": "+86 138-0000-1111", "postcode": "4000",
                                   "origin_area": "500100"}, EDITABLE, complete=True)
    assert values["mobile"] == "13800001111"
    assert errors["postcode"] == "邮编应为6位数字"
    assert errors["origin_area"] == "请选择到区县一级的生源所在地"
    assert errors["political"] == "请选择政治面貌"
    assert "qq" not in errors  # optional
    _, errors = clean_values({}, EDITABLE, complete=False)
    assert errors == {}         # a draft may be incomplete


def test_changes_mark_only_what_the_student_changed():
    diff = {d["name"]: d for d in changes({"political": "03", "mobile": "13800001111"},
                                          {"political": "01", "mobile": "13800001111"})}
    assert diff["political"]["changed"] and diff["political"]["after"] == "中共党员"
    assert not diff["mobile"]["changed"]


def test_origin_rows_from_xlsx_with_report():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["学号", "姓名", "政治面貌", "生源所在地", "手机号"])
    sheet.append(["A1", "张三", "共青团员", 500103, 13800001111])
    sheet.append(["A1", "张三", "群众", 500103, 13800001111])
    sheet.append(["A2", "李四", "群众", 500103, 13800001111])
    sheet.append(["A9", "王五", "群众", 500103, 13800001111])
    out = io.BytesIO()
    book.save(out)
    rows = read_rows("生源.xlsx", out.getvalue(), COLUMNS, REQUIRED)
    students = {"A1": Student(1, "张三", 10), "A2": Student(2, "李四改", 10)}
    good, problems = check_rows(rows, students)
    assert [(g.row, g.imported["political"], g.imported["origin_area"], g.imported["mobile"])
            for g in good] == [(2, "03", "500103", "13800001111")]
    assert [(p.row, p.field, p.reason) for p in problems] == [
        (3, "学号", "与第2行学号重复"),
        (4, "姓名", "与学生信息中的姓名不一致"),
        (5, "学号", "学校没有学号为“A9”的学生，请先导入学生信息"),
    ]


def test_flows_are_consistent_and_notices_open_real_pages(app):
    paths = {r.resource.canonical for r in app.router.routes() if r.method == "GET"}
    for flow in (ORIGIN_FLOW, RECOMMENDATION_FLOW):
        states = {s.value for s in flow.states}
        assert set(flow.state_labels) == states
        for step in flow.steps:
            assert step.action in flow.action_labels
            for note in step.notify:
                assert note.link in paths, (flow.name, note.link)
    # only the student submits; only reviewers decide
    assert all(s.roles == {Role.STUDENT} for s in ORIGIN_FLOW.steps if s.action == "submit")
    assert ORIGIN_FLOW.actions_for("submitted", Role.COUNSELOR) == ["approve", "return"]


def test_a_flow_with_a_duplicate_step_or_unknown_recipient_is_refused():
    step = Step(ORIGIN_FLOW.initial, "submit", ORIGIN_FLOW.initial, frozenset({Role.STUDENT}))
    with pytest.raises(ValueError):
        Flow(name="x", label="x", states=type(ORIGIN_FLOW.initial), state_labels={},
             action_labels={}, initial=ORIGIN_FLOW.initial, steps=(step, step),
             table=ORIGIN_FLOW.table)
    with pytest.raises(ValueError):
        Flow(name="x", label="x", states=type(ORIGIN_FLOW.initial), state_labels={},
             action_labels={}, initial=ORIGIN_FLOW.initial, table=ORIGIN_FLOW.table,
             steps=(Step(ORIGIN_FLOW.initial, "a", ORIGIN_FLOW.initial, frozenset(),
                         notify=(Notify("nobody", "t"),)),))
