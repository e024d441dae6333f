"""The 就业协议书's fields (DOMAIN.md), grouped as the printed agreement shows them. Pure.

The employer fills the 单位 and 岗位 parts of an online invitation; a student fills every
part of an offline one. The 学生 part always comes from the approved 生源信息 and the
student record, never from a form.
"""

from __future__ import annotations

import re
from typing import Mapping

from .. import codes
from ..employers import codes as employer_codes
from ..fields import FieldSpec, clean_values, landline, postcode, text_limit
from ..validators import Invalid, normalize_contact_phone, normalize_credit_code, normalize_email, normalize_phone

YES_NO = {"1": "是", "0": "否"}


def _money(raw: str) -> str:
    value = raw.replace(",", "").replace("，", "").strip()
    if not re.fullmatch(r"\d{1,8}(\.\d{1,2})?", value):
        raise Invalid("请填写金额（元），如 8000")
    return value


def _months(raw: str) -> str:
    if not re.fullmatch(r"\d{1,3}", raw.strip()) or int(raw) > 120:
        raise Invalid("请填写月数（0到120）")
    return str(int(raw))


def _years(raw: str) -> str:
    if not re.fullmatch(r"\d{1,2}", raw.strip()) or int(raw) > 20:
        raise Invalid("请填写年数（0到20）")
    return str(int(raw))


EMPLOYER_PART: tuple[FieldSpec, ...] = (
    FieldSpec("unit_name", "单位名称", check=text_limit(100)),
    FieldSpec("credit_code", "统一社会信用代码", check=normalize_credit_code),
    FieldSpec("nature", "单位性质", table=employer_codes.NATURE),
    FieldSpec("industry", "单位行业", table=employer_codes.INDUSTRY),
    FieldSpec("department", "隶属部门", check=text_limit(100), required=False),
    FieldSpec("area", "单位所在地", area=True),
    FieldSpec("address", "单位地址", check=text_limit(100)),
    FieldSpec("postcode", "邮编", check=postcode, required=False),
    FieldSpec("contact", "联系人", check=text_limit(30)),
    FieldSpec("phone", "联系电话", check=normalize_contact_phone),
    FieldSpec("mobile", "手机", check=normalize_phone, required=False),
    FieldSpec("email", "单位邮箱", check=normalize_email),
)

JOB_PART: tuple[FieldSpec, ...] = (
    FieldSpec("position_title", "岗位名称", check=text_limit(50)),
    FieldSpec("position_category", "工作职位类别", table=employer_codes.POSITION),
    FieldSpec("monthly_salary", "月薪（元）", check=_money),
    FieldSpec("probation_months", "试用期（月）", check=_months, required=False),
    FieldSpec("service_years", "服务期（年）", check=_years, required=False),
    FieldSpec("penalty", "违约金（元）", check=_money, required=False),
)

ARCHIVE_PART: tuple[FieldSpec, ...] = (
    FieldSpec("archive_accept", "是否接收档案", table=YES_NO),
    FieldSpec("archive_unit", "档案转寄单位", check=text_limit(100), required=False),
    FieldSpec("archive_address", "档案转寄地址", check=text_limit(100), required=False),
    FieldSpec("archive_postcode", "档案转寄邮编", check=postcode, required=False),
    FieldSpec("archive_dept", "档案接收部门", check=text_limit(50), required=False),
    FieldSpec("archive_contact", "档案联系人", check=text_limit(30), required=False),
    FieldSpec("archive_phone", "档案联系电话", check=landline, required=False),
    FieldSpec("hukou_accept", "是否接收户口", table=YES_NO),
    FieldSpec("hukou_address", "户口迁移地址", check=text_limit(100), required=False),
    FieldSpec("remarks", "备注（其他约定条款）", check=text_limit(500), required=False),
)

STUDENT_OPINION = FieldSpec("opinion", "应聘意见", check=text_limit(200))

# What the employer fills in an online invitation, and what a student fills offline.
ONLINE_PARTS = (("用人单位信息", EMPLOYER_PART), ("岗位信息", JOB_PART), ("档案及户口", ARCHIVE_PART))
OFFLINE_PARTS = ONLINE_PARTS
ALL = EMPLOYER_PART + JOB_PART + ARCHIVE_PART
BY_NAME = {f.name: f for f in ALL + (STUDENT_OPINION,)}

# Filled in when 接收档案 / 接收户口 is 是: the forwarding address must then be complete.
_IF_ARCHIVE = ("archive_unit", "archive_address", "archive_postcode", "archive_dept")
_IF_HUKOU = ("hukou_address",)


def clean(raw: Mapping[str, str], *, complete: bool) -> tuple[dict[str, str], dict[str, str]]:
    """(values, errors) of the agreement parts a form fills (not the student part)."""
    values, errors = clean_values(raw, ALL, complete=complete)
    if complete:
        for flag, names in (("archive_accept", _IF_ARCHIVE), ("hukou_accept", _IF_HUKOU)):
            if values.get(flag) == "1":
                for name in names:
                    if not values.get(name) and name not in errors:
                        errors[name] = f"接收{'档案' if flag == 'archive_accept' else '户口'}时请填写{BY_NAME[name].label}"
    return values, errors


def display_rows(data: Mapping[str, str], specs: tuple[FieldSpec, ...]) -> list[tuple[str, str, str]]:
    """(name, label, shown text) for a part, in order."""
    return [(f.name, f.label, f.display(data.get(f.name))) for f in specs]


def changed(before: Mapping[str, str] | None, after: Mapping[str, str]) -> set[str]:
    """Names of fields whose value differs from the version a reviewer saw before."""
    if not before:
        return set()
    return {f.name for f in ALL if (before.get(f.name) or "") != (after.get(f.name) or "")}


def from_employer(row) -> dict[str, str]:  # noqa: ANN001 (an employers row)
    """An online invitation starts from the employer's registered data: its written 所在地
    gives 单位所在地 (the county it names) and 单位地址 (the text itself)."""
    location = (row.location or "").strip()
    address = "" if location.isdigit() else location
    return {"unit_name": row.name, "credit_code": row.credit_code, "nature": row.nature,
            "industry": row.industry, "area": codes.county_of(location) or "",
            "address": address, "contact": row.contact_name,
            "phone": row.contact_phone, "email": row.contact_email}
