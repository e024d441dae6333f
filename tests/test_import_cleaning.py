"""The cleaning every imported cell gets (app/students/cleaning.py), the synonym tables
(app/codes.py) and the grouped report (app/students/report.py), as pure functions."""

from __future__ import annotations

import pytest

from app import codes, paging
from app.reviews.origin.fields import EDITABLE, ROLL
from app.reviews.origin.imports import ORIGINS
from app.students import report
from app.students.cleaning import SPACES_FIXED, WIDTH_FIXED, county_synonyms, tidy
from app.students.parsing import STUDENTS, Problem


@pytest.mark.parametrize("raw,compact,expected", [
    ("１１０１０５１９４９１２３１００２Ｘ", False, ("11010519491231002X", [WIDTH_FIXED])),
    ("ａ＠ｂ．ｃｎ", False, ("a@b.cn", [WIDTH_FIXED])),
    ("软件（１）班：Ａ组", False, ("软件（1）班：A组", [WIDTH_FIXED])),  # Chinese punctuation stays
    ("  王 小明 ", False, ("王小明", [SPACES_FIXED])),
    ("Mary  Jane", False, ("Mary Jane", [SPACES_FIXED])),
    ("138 0000\u30001111", True, ("13800001111", [SPACES_FIXED])),
    ("２０２６ ", False, ("2026", [WIDTH_FIXED, SPACES_FIXED])),
    ("信息学院", False, ("信息学院", [])),
])
def test_tidy(raw, compact, expected):
    assert tidy(raw, compact=compact) == expected


def test_counties_by_their_drop_down_text_or_full_name():
    assert county_synonyms("500103 重庆市渝中区") == ("500103", "“代码 名称”只保留代码")
    assert county_synonyms("500103渝中区") == ("500103", "“代码 名称”只保留代码")
    assert county_synonyms("重庆市渝中区") == ("500103", "区县名称改为代码")
    assert county_synonyms("500103 北京市东城区") is None  # code and name disagree: not guessed
    assert county_synonyms("重庆市渝中区解放碑") is None   # an address is not a county
    assert county_synonyms("500103") is None


def test_every_coded_column_has_synonyms_that_name_its_labels():
    for spec, tables in ((STUDENTS, {"gender": codes.GENDER.values(),
                                     "education": codes.EDUCATION}),
                         (ORIGINS, {f.name: f.table.values() for f in ROLL + EDITABLE if f.table})):
        for field, labels in tables.items():
            correct = spec.synonyms[field]
            assert field in spec.compact
            for label in labels:
                assert correct(label) is None  # a label is left as it is
        assert {f for f in spec.synonyms} >= set(tables)
    for table, synonyms in ((codes.GENDER, codes.GENDER_SYNONYMS),
                            (dict(enumerate(codes.EDUCATION)), codes.EDUCATION_SYNONYMS),
                            (codes.POLITICAL, codes.POLITICAL_SYNONYMS),
                            (codes.ETHNICITY, codes.ETHNICITY_SYNONYMS),
                            (codes.TRAINING_MODE, codes.TRAINING_MODE_SYNONYMS),
                            (codes.URBAN_RURAL, codes.URBAN_RURAL_SYNONYMS),
                            (codes.HARDSHIP, codes.HARDSHIP_SYNONYMS),
                            (codes.NORMAL_STUDENT, codes.NORMAL_STUDENT_SYNONYMS),
                            (codes.YES_NO, codes.YES_NO_SYNONYMS)):
        assert set(synonyms.values()) <= set(table.values())
        assert not set(synonyms) & set(table.values())
    assert codes.ETHNICITY_SYNONYMS["汉"] == "汉族"


def test_a_cleaner_counts_each_correction_once_a_row():
    cleaner = STUDENTS.cleaner()
    rows = [cleaner.row({"education": "硕士研究生", "gender": "男性", "name": "王 小明"}),
            cleaner.row({"education": "硕士 研究生", "gender": "男", "name": "李四"})]
    assert [r["education"] for r in rows] == ["硕士生", "硕士生"]
    assert cleaner.changes() == [
        {"field": "学历", "change": "硕士研究生 → 硕士生", "rows": 2},
        {"field": "性别", "change": "男性 → 男", "rows": 1},
        {"field": "姓名", "change": SPACES_FIXED, "rows": 1},
        {"field": "学历", "change": SPACES_FIXED, "rows": 1}]


def test_problems_group_by_field_and_message_and_page():
    problems = [Problem(n, "学历", "应为本科生之一") for n in range(2, 1004)]
    problems += [Problem(n, "学院", f"学校没有名为“X{n}”的学院", "学校没有这个学院")
                 for n in range(1004, 1043)]
    problems += [Problem(n, f"字段{k}", "不能为空") for k in range(43) for n in (2,)]
    found = report.build(problems, [], error_file=True)
    assert found["failed_rows"] == 1041
    assert [(g["field"], g["message"], g["rows"]) for g in found["groups"][:2]] == [
        ("学历", "应为本科生之一", 1002), ("学院", "学校没有这个学院", 39)]
    assert found["groups"][0]["first"] == [[n, ""] for n in range(2, 7)]
    assert found["groups"][1]["first"][0] == [1004, "学校没有名为“X1004”的学院"]
    pages = [report.groups_page(found, paging.Params(page=p)) for p in (1, 2, 3, 99)]
    assert [len(p.rows) for p in pages] == [20, 20, 5, 5]
    assert (pages[0].total, pages[0].pages, pages[3].page) == (45, 3, 3)
