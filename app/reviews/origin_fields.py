"""The fields of a 生源信息 record: which are 学籍 (read-only), which the student edits,
their labels (DOMAIN.md), code tables and checks. Pure: no database.

One description serves the import (a cell may hold a code or its label), the student's
form (selects over the code tables) and the counselor's diff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping

from .. import codes
from ..validators import Invalid, normalize_email, normalize_phone


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    table: Mapping[str, str] | None = None     # a code table: the value is its code
    check: Callable[[str], str] | None = None  # normalises free text or raises Invalid
    required: bool = True                      # needed before 保存并送审
    area: bool = False                         # a county-level area code

    def display(self, value: str | None) -> str:
        if not value:
            return ""
        if self.area:
            return f"{codes.area_name(value)}（{value}）"
        if self.table is not None:
            return self.table.get(value, value)
        return value

    def clean(self, raw: str) -> str:
        """The stored form of a non-empty value, or Invalid with the user's message."""
        raw = raw.strip()
        if self.area:
            if not codes.is_county(raw):
                raise Invalid(f"请选择到区县一级的{self.label}")
            return raw
        if self.table is not None:
            code = codes.lookup(dict(self.table), raw)
            if code is None:
                raise Invalid(f"{self.label}不在代码表中")
            return code
        return self.check(raw) if self.check else raw[:200]


def _qq(raw: str) -> str:
    if not re.fullmatch(r"[1-9]\d{4,11}", raw):
        raise Invalid("QQ号应为5到12位数字")
    return raw


def _postcode(raw: str) -> str:
    if not re.fullmatch(r"\d{6}", raw):
        raise Invalid("邮编应为6位数字")
    return raw


def _landline(raw: str) -> str:
    cleaned = raw.replace(" ", "")
    if not re.fullmatch(r"[0-9\-+()]{7,20}", cleaned):
        raise Invalid("家庭电话格式不正确，如 023-12345678")
    return cleaned


def _text(limit: int) -> Callable[[str], str]:
    def check(raw: str) -> str:
        if len(raw) > limit:
            raise Invalid(f"最多{limit}个字")
        return raw
    return check


EDITABLE: tuple[FieldSpec, ...] = (
    FieldSpec("political", "政治面貌", table=codes.POLITICAL),
    FieldSpec("origin_area", "生源所在地", area=True),
    FieldSpec("urban_rural", "城乡生源", table=codes.URBAN_RURAL),
    FieldSpec("hardship", "困难生类别", table=codes.HARDSHIP),
    FieldSpec("normal_student", "师范生类别", table=codes.NORMAL_STUDENT),
    FieldSpec("mobile", "手机", check=normalize_phone),
    FieldSpec("email", "邮箱", check=normalize_email),
    FieldSpec("qq", "QQ", check=_qq, required=False),
    FieldSpec("home_address", "家庭地址", check=_text(100)),
    FieldSpec("home_phone", "家庭电话", check=_landline, required=False),
    FieldSpec("postcode", "邮编", check=_postcode, required=False),
    FieldSpec("hukou_in", "户口是否转入学校", table=codes.YES_NO),
    FieldSpec("archive_in", "档案是否转入学校", table=codes.YES_NO),
)
EDITABLE_BY_NAME = {f.name: f for f in EDITABLE}

# 学籍 fields the student-record table does not hold; imported with the 生源 file.
ROLL: tuple[FieldSpec, ...] = (
    FieldSpec("exam_no", "考生号", check=_text(20), required=False),
    FieldSpec("ethnicity", "民族", table=codes.ETHNICITY, required=False),
    FieldSpec("major_direction", "专业方向", check=_text(50), required=False),
    FieldSpec("study_years", "学制", check=_text(10), required=False),
    FieldSpec("enroll_month", "入学年月", check=_text(10), required=False),
    FieldSpec("graduation_date", "毕业日期", check=_text(10), required=False),
    FieldSpec("training_mode", "培养方式", table=codes.TRAINING_MODE, required=False),
    FieldSpec("sponsor", "定向/委培单位", check=_text(100), required=False),
)
ROLL_BY_NAME = {f.name: f for f in ROLL}


def clean_values(raw: Mapping[str, str], specs: tuple[FieldSpec, ...], *, complete: bool,
                 ) -> tuple[dict[str, str], dict[str, str]]:
    """(clean values, field → message). `complete`: required fields must be filled."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for spec in specs:
        text = (raw.get(spec.name) or "").strip()
        if not text:
            values[spec.name] = ""
            if complete and spec.required:
                errors[spec.name] = f"请{'选择' if spec.table or spec.area else '填写'}{spec.label}"
            continue
        try:
            values[spec.name] = spec.clean(text)
        except Invalid as exc:
            errors[spec.name] = str(exc)
    return values, errors


def changes(imported: Mapping[str, str], current: Mapping[str, str]) -> list[dict[str, str]]:
    """Every editable field with its imported and current text, and whether it changed."""
    return [{"name": f.name, "label": f.label, "before": f.display(imported.get(f.name)),
             "after": f.display(current.get(f.name)),
             "changed": (imported.get(f.name) or "") != (current.get(f.name) or "")}
            for f in EDITABLE]
