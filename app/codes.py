"""Code tables (DOMAIN.md) kept as data: {code: label}, plus the area codes from
app/data/areas.csv (province → city → county, by the 6-digit GB/T 2260 code)."""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

GENDER = {"1": "男", "2": "女"}
POLITICAL = {
    "01": "中共党员", "02": "中共预备党员", "03": "共青团员", "04": "民革党员", "05": "民盟盟员",
    "06": "民建会员", "07": "民进会员", "08": "农工党党员", "09": "致公党党员", "10": "九三学社社员",
    "11": "台盟盟员", "12": "无党派人士", "13": "群众",
}
TRAINING_MODE = {"1": "非定向", "2": "定向", "3": "在职", "4": "委培", "5": "自筹"}
HARDSHIP = {
    "0": "非困难生", "1": "就业困难", "2": "家庭困难", "3": "就业和家庭困难", "4": "残疾",
    "5": "就业困难和残疾", "6": "家庭困难和残疾", "7": "就业和家庭困难及残疾",
}
NORMAL_STUDENT = {"1": "普通师范生", "12": "公费师范生", "2": "非师范生"}
URBAN_RURAL = {"1": "城镇", "2": "农村"}
YES_NO = {"1": "是", "0": "否"}
# GB 3304 民族: the list is long; the few most common here, the rest by code (two digits).
ETHNICITY = {
    "01": "汉族", "02": "蒙古族", "03": "回族", "04": "藏族", "05": "维吾尔族", "06": "苗族",
    "07": "彝族", "08": "壮族", "09": "布依族", "10": "朝鲜族", "11": "满族", "12": "侗族",
    "13": "瑶族", "14": "白族", "15": "土家族", "16": "哈尼族", "17": "哈萨克族", "18": "傣族",
    "19": "黎族", "20": "傈僳族", "97": "其他", "98": "外国血统中国籍人士",
}
ETHNICITY.update({f"{n:02d}": ETHNICITY.get(f"{n:02d}", f"民族{n:02d}") for n in range(21, 57)})

# 学历 as the student records hold it (DOMAIN.md: the codes vary by province (?)).
EDUCATION = ("博士生", "硕士生", "本科生", "专科生", "二学位")

# What people type instead of a coded value's label, one table per coded field:
# {typed: label}. Imports accept these, replace them and say so in the job's report
# (app/students/cleaning.py). A typed word maps to one label only: leave out the ambiguous
# ones (研究生 is 硕士生 or 博士生).
GENDER_SYNONYMS = {"男性": "男", "男生": "男", "女性": "女", "女生": "女"}
EDUCATION_SYNONYMS = {
    "博士": "博士生", "博士研究生": "博士生", "硕士": "硕士生", "硕士研究生": "硕士生",
    "本科": "本科生", "大学本科": "本科生", "专科": "专科生", "大专": "专科生", "高职": "专科生",
    "第二学士学位": "二学位", "第二学位": "二学位",
}
POLITICAL_SYNONYMS = {
    "党员": "中共党员", "共产党员": "中共党员", "中国共产党党员": "中共党员",
    "预备党员": "中共预备党员", "中国共产党预备党员": "中共预备党员",
    "团员": "共青团员", "共青团": "共青团员", "中国共产主义青年团团员": "共青团员",
    "无党派": "无党派人士", "普通群众": "群众",
}
ETHNICITY_SYNONYMS = {label[:-1]: label for label in ETHNICITY.values()
                      if label.endswith("族")}  # 汉 → 汉族
TRAINING_MODE_SYNONYMS = {"非定向培养": "非定向", "定向培养": "定向", "委托培养": "委培",
                          "自费": "自筹"}
URBAN_RURAL_SYNONYMS = {"城市": "城镇", "城镇生源": "城镇", "乡村": "农村", "农村生源": "农村"}
HARDSHIP_SYNONYMS = {"否": "非困难生", "无": "非困难生", "非困难": "非困难生"}
NORMAL_STUDENT_SYNONYMS = {"师范生": "普通师范生", "普通师范": "普通师范生",
                           "免费师范生": "公费师范生", "公费师范": "公费师范生",
                           "非师范": "非师范生", "否": "非师范生"}
YES_NO_SYNONYMS = {"Y": "是", "N": "否", "转入": "是", "已转入": "是", "未转入": "否",
                   "不转入": "否"}

AREAS_FILE = Path(__file__).resolve().parent / "data" / "areas.csv"


def lookup(table: dict[str, str], raw: str) -> str | None:
    """A code from its code or its label (imports carry either); None if unknown."""
    raw = (raw or "").strip()
    if raw in table:
        return raw
    if raw.isdigit() and raw.zfill(2) in table:  # Excel drops the leading zero of 01
        return raw.zfill(2)
    for code, label in table.items():
        if label == raw:
            return code
    return None


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    full_name: str   # 重庆市渝中区 (the parent names, without 市辖区/县 placeholders)


@functools.cache
def areas() -> dict[str, str]:
    with AREAS_FILE.open(encoding="utf-8") as f:
        return {row["code"]: row["name"] for row in csv.DictReader(f)}


def _is_province(code: str) -> bool:
    return code.endswith("0000")


def _is_city(code: str) -> bool:
    return code.endswith("00") and not _is_province(code)


def provinces() -> list[tuple[str, str]]:
    return [(c, n) for c, n in areas().items() if _is_province(c)]


def cities(province: str) -> list[tuple[str, str]]:
    return [(c, n) for c, n in areas().items() if _is_city(c) and c[:2] == province[:2]]


def counties(city: str) -> list[tuple[str, str]]:
    return [(c, n) for c, n in areas().items()
            if not c.endswith("00") and c[:4] == city[:4]]


@functools.cache
def county_choices() -> list[tuple[str, str]]:
    """Every county-level code with its full name: the no-JavaScript select."""
    return [(c, area_name(c)) for c in areas() if not c.endswith("00")]


def area_name(code: str) -> str:
    table = areas()
    if code not in table:
        return code
    parts = [table.get(code[:2] + "0000", "")]
    city = table.get(code[:4] + "00", "")
    if city not in ("市辖区", "县") and code[:4] + "00" != code[:2] + "0000":
        parts.append(city)
    if not code.endswith("00"):
        parts.append(table[code])
    return "".join(p for p in parts if p)


@functools.cache
def _counties_by_name() -> dict[str, str]:
    return {name: code for code, name in county_choices()}


def county_of(text: str) -> str | None:
    """The county a written place starts with ("重庆市渝北区龙溪街道…" → 500112), or None: an
    employer's 所在地 is free text, an agreement's 单位所在地 a code."""
    text = text.strip()
    if is_county(text):
        return text
    names = _counties_by_name()
    for end in range(min(len(text), 40), 1, -1):  # the longest full name that starts it
        if text[:end] in names:
            return names[text[:end]]
    return None


def is_county(code: str) -> bool:
    return code in areas() and not code.endswith("00")


def area_tree() -> list[dict]:
    """Provinces → cities → counties for the cascading select (static/js/area-select.js)."""
    return [{"code": p, "name": pn, "cities": [
        {"code": c, "name": cn, "counties": [{"code": k, "name": kn} for k, kn in counties(c)]}
        for c, cn in cities(p)]} for p, pn in provinces()]
