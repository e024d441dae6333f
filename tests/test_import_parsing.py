import datetime as dt
import io

import openpyxl
import pytest

from app.students.parsing import Catalogue, FileProblem, check_rows, read_rows
from app.students.sheets import ReadCancelled, ReadLimits
from app.validators import make_id_number
from tests.sheet_bombs import declared_size_bomb, dimension_bomb, formulas_only

CATALOGUE = Catalogue(colleges={"01": 1, "信息学院": 1, "02": 2, "商学院": 2},
                      majors={(1, "M1"): 10, (1, "软件工程"): 10, (2, "会计学"): 20})
HEADER = ["学号", "姓名", "身份证号", "性别", "学院", "专业", "学历", "毕业年份", "班级"]
GOOD_ID = make_id_number("110101", dt.date(2003, 5, 1), 13)  # odd → 男


def csv_bytes(rows, encoding="utf-8-sig"):
    return "\n".join(",".join(r) for r in [HEADER, *rows]).encode(encoding)


def xlsx_bytes(rows):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_good_rows_from_csv_and_xlsx_are_the_same():
    rows = [["2022001", "张三", GOOD_ID.lower(), "男", "信息学院", "软件工程", "本科", "2026", "1班"]]
    for data, name in ((csv_bytes(rows), "a.csv"), (xlsx_bytes(rows), "a.xlsx")):
        good, problems = check_rows(read_rows(name, data), CATALOGUE)
        assert problems == []
        assert len(good) == 1
        r = good[0]
        assert (r.row, r.student_no, r.id_number, r.gender, r.college_id, r.major_id,
                r.education, r.graduation_year) == (2, "2022001", GOOD_ID, "1", 1, 10, "本科生", 2026)


def test_numbers_typed_in_excel_become_text():
    data = xlsx_bytes([[2022001, "张三", GOOD_ID, "", "01", "M1", "本科生", 2026, ""]])
    good, problems = check_rows(read_rows("a.xlsx", data), CATALOGUE)
    assert not problems and good[0].student_no == "2022001" and good[0].graduation_year == 2026


def test_each_bad_row_reports_row_field_and_reason():
    bad_check = GOOD_ID[:17] + ("0" if GOOD_ID[17] != "0" else "1")
    rows = [
        ["2022001", "张三", GOOD_ID, "男", "信息学院", "软件工程", "本科生", "2026", ""],  # good
        ["2022002", "李四", bad_check, "", "信息学院", "软件工程", "本科生", "2026", ""],
        ["2022003", "", GOOD_ID, "女", "信息学院", "软件工程", "本科生", "2026", ""],
        ["2022004", "赵六", GOOD_ID, "", "文学院", "汉语言", "本科生", "2026", ""],
        ["2022005", "钱七", GOOD_ID, "", "商学院", "软件工程", "研究生", "26", ""],
        ["2022001", "张三", GOOD_ID, "", "信息学院", "软件工程", "本科生", "2026", ""],
    ]
    good, problems = check_rows(read_rows("a.csv", csv_bytes(rows)), CATALOGUE)
    assert [g.student_no for g in good] == ["2022001"]
    found = {(p.row, p.field) for p in problems}
    assert found == {(3, "身份证号"), (4, "姓名"), (4, "性别"), (5, "学院"), (6, "专业"),
                     (6, "学历"), (6, "毕业年份"), (7, "学号")}
    reasons = {(p.row, p.field): p.reason for p in problems}
    assert "校验位" in reasons[(3, "身份证号")]
    assert reasons[(4, "性别")] == "与身份证号显示的性别不一致"
    assert "文学院" in reasons[(5, "学院")]
    assert reasons[(7, "学号")] == "与第2行学号重复"


def test_gb18030_csv_is_read():
    rows = [["2022001", "张三", GOOD_ID, "男", "信息学院", "软件工程", "本科生", "2026", ""]]
    good, _ = check_rows(read_rows("a.csv", csv_bytes(rows, "gb18030")), CATALOGUE)
    assert good[0].name == "张三"


def test_blank_lines_are_skipped_and_row_numbers_kept():
    data = csv_bytes([[""] * 9, ["2022001", "张三", GOOD_ID, "", "01", "M1", "本科生", "2026", ""]])
    good, _ = check_rows(read_rows("a.csv", data), CATALOGUE)
    assert good[0].row == 3


@pytest.mark.parametrize("name,data,message", [
    ("a.xlsx", b"MZ\x90\x00 this is an exe", "xlsx"),
    ("a.csv", b"PK\x03\x04zipped", "csv"),
    ("a.exe", b"whatever", "只支持"),
    ("a.csv", "姓名,学号\n张三,1\n".encode(), "缺少列"),
    ("a.csv", b"", "空"),
])
def test_unreadable_files(name, data, message):
    with pytest.raises(FileProblem, match=message):
        read_rows(name, data)


# Caps (app/students/sheets.py): each refusal says which cap and that nothing was imported.

def small(**caps):
    return ReadLimits(**{"max_rows": 3, "max_columns": 12, **caps})


@pytest.mark.parametrize("name,make", [("a.csv", csv_bytes), ("a.xlsx", xlsx_bytes)])
def test_rows_over_the_cap_refuse_the_file(name, make):
    row = ["2022001", "张三", GOOD_ID, "", "01", "M1", "本科生", "2026", ""]
    assert len(read_rows(name, make([row] * 3), limits=small())) == 3
    with pytest.raises(FileProblem, match="^文件超过 3 行数据（不含表头）.*本次未导入任何数据$"):
        read_rows(name, make([row] * 4), limits=small())


def test_text_past_the_column_cap_refuses_a_csv_and_empty_cells_there_do_not():
    row = ["2022001", "张三", GOOD_ID, "", "01", "M1", "本科生", "2026", ""]
    assert len(read_rows("a.csv", csv_bytes([row + [""] * 20]), limits=small())) == 1
    with pytest.raises(FileProblem, match="^文件超过 12 列（第 2 行用到了第 T 列）"):
        read_rows("a.csv", csv_bytes([row + [""] * 10 + ["x"]]), limits=small())


def test_an_xlsx_row_reaching_past_the_column_cap_is_refused_at_that_row():
    data = dimension_bomb(HEADER, {"A2": "2022001"}, {"XFD1048576": "x"})
    with pytest.raises(FileProblem, match="第 1048576 行用到了第 XFD 列"):
        read_rows("a.xlsx", data)


def test_a_declared_range_without_cells_costs_nothing_and_reads_what_is_there():
    row = ["2022001", "张三", GOOD_ID, "男", "01", "M1", "本科", "2026", "1班"]
    data = dimension_bomb(HEADER, dict(zip([f"{chr(65 + i)}2" for i in range(9)], row)))
    [(number, raw)] = read_rows("a.xlsx", data)
    assert number == 2 and raw["student_no"] == "2022001"


def test_a_zip_declaring_more_than_the_unzipped_cap_is_refused_before_inflating():
    data = xlsx_bytes([["2022001"]])
    with pytest.raises(FileProblem, match="^xlsx 文件解压后超过 64 MB"):
        read_rows("a.xlsx", declared_size_bomb(data))
    with pytest.raises(FileProblem, match="^xlsx 文件解压后超过 1 KB"):
        read_rows("a.xlsx", data, limits=ReadLimits(max_unzipped_bytes=1000))


def test_a_cancel_or_the_time_limit_stops_reading():
    data = csv_bytes([["2022001"]])
    limits = ReadLimits()
    limits.cancelled.set()
    with pytest.raises(ReadCancelled):
        read_rows("a.csv", data, limits=limits)
    with pytest.raises(FileProblem, match="^读取文件超过 0 秒仍未完成，已停止；本次未导入任何数据$"):
        read_rows("a.csv", data, limits=ReadLimits(max_seconds=0, started=0.0))


@pytest.mark.parametrize("header_too", [False, True])
def test_formulas_without_saved_values_are_explained(header_too):
    with pytest.raises(FileProblem, match="^表格中没有可读取的数据行：公式单元格不会被计算"):
        read_rows("a.xlsx", formulas_only(HEADER, 3, header_too=header_too))


def test_an_overlong_csv_cell_is_a_clear_problem():
    with pytest.raises(FileProblem, match="^csv 文件格式有误"):
        read_rows("a.csv", csv_bytes([["x" * 200_000]]))
