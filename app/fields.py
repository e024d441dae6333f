"""A form field described as data: its label, code table or check, and whether it is
required. One description serves imports, forms, review diffs and printed documents."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping

from . import codes
from .validators import Invalid


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


def qq(raw: str) -> str:
    if not re.fullmatch(r"[1-9]\d{4,11}", raw):
        raise Invalid("QQ号应为5到12位数字")
    return raw


def postcode(raw: str) -> str:
    if not re.fullmatch(r"\d{6}", raw):
        raise Invalid("邮编应为6位数字")
    return raw


def landline(raw: str) -> str:
    cleaned = raw.replace(" ", "")
    if not re.fullmatch(r"[0-9\-+()]{7,20}", cleaned):
        raise Invalid("家庭电话格式不正确，如 023-12345678")
    return cleaned


def text_limit(limit: int) -> Callable[[str], str]:
    def check(raw: str) -> str:
        if len(raw) > limit:
            raise Invalid(f"最多{limit}个字")
        return raw
    return check


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
