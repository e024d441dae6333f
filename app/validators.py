"""Checks of Chinese identifiers and contact data (DOMAIN.md, "Validation")."""

from __future__ import annotations

import datetime as dt
import re

from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_PHONE_STRIP = re.compile(r"[\s\-]")
_PHONE = re.compile(r"^1[3-9]\d{9}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Invalid(ValueError):
    """A value failed a check; the message is Chinese text for the user."""


def id_check_char(first17: str) -> str:
    return ric.calc_check_digit(first17 + "0")  # it reads the first 17 of an 18-digit number


def id_region_known(id_number: str) -> bool:
    """The first six digits are a county in GB/T 2260 as stdnum knows it, in any period.

    Not ric.validate's stricter test that the county existed in the birth year: numbers are
    given when the card is first issued, so a student born in 1995 with a card from 2011
    rightly carries a Chongqing code (500…) created in 1997."""
    return any("county" in props for _, props in numdb.get("cn/loc").info(id_number[:6]))


def normalize_id_number(raw: str) -> str:
    """Return the 18-character 身份证号 upper-cased, or raise Invalid."""
    value = ric.compact(raw)
    if not re.fullmatch(r"\d{17}[\dX]", value):
        raise Invalid("身份证号应为18位，最后一位可以是数字或X")
    try:
        ric.get_birth_date(value)
    except ValidationError:
        raise Invalid("身份证号中的出生日期不正确") from None
    if id_check_char(value[:17]) != value[17]:
        raise Invalid("身份证号校验位不正确，请核对")
    if not id_region_known(value):
        raise Invalid("身份证号前6位不是有效的地区代码，请核对")
    return value


def gender_from_id(id_number: str) -> str:
    """'1' 男 for an odd sequence digit, '2' 女 for even (GB 11643, DOMAIN.md 性别 codes)."""
    return "1" if int(id_number[16]) % 2 else "2"


def make_id_number(area: str, birth: dt.date, seq: int) -> str:
    """Build a valid test ID number; tests and demo data never use real people's numbers."""
    first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def normalize_credit_code(raw: str) -> str:
    """统一社会信用代码 (GB 32100). Unlike stdnum.cn.uscc, a letter may lead (N…, Y…)."""
    value = raw.strip().upper()
    if len(value) != 18 or any(c not in USCC_ALPHABET for c in value):
        raise Invalid("统一社会信用代码应为18位数字或大写字母（不含I、O、S、V、Z）")
    if uscc_check_char(value[:17]) != value[17]:
        raise Invalid("统一社会信用代码校验位不正确，请核对")
    return value


def normalize_phone(raw: str) -> str:
    value = _PHONE_STRIP.sub("", raw.strip())
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    if not _PHONE.fullmatch(value):
        raise Invalid("请输入11位手机号码")
    return value


_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")


def normalize_contact_phone(raw: str) -> str:
    """A mobile number, or a landline with its area code (023-12345678, ext. allowed)."""
    try:
        return normalize_phone(raw)
    except Invalid:
        value = re.sub(r"[\s()（）]", "", raw.strip())
        if _LANDLINE.fullmatch(value):
            return value
        raise Invalid("请输入手机号或带区号的固定电话，如 023-12345678") from None


def normalize_email(raw: str) -> str:
    value = raw.strip()
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        raise Invalid("请输入正确的邮箱地址")
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def check_password(raw: str) -> str:
    if len(raw) < 8:
        raise Invalid("密码至少8位")
    if len(raw) > 128:
        raise Invalid("密码不能超过128位")
    if not (re.search(r"[A-Za-z]", raw) and re.search(r"\d", raw)):
        raise Invalid("密码需同时包含字母和数字")
    return raw
