import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.validators import (Invalid, check_password, gender_from_id, make_id_number,
                            normalize_credit_code, normalize_email, normalize_id_number,
                            normalize_phone)


def test_valid_id_number_is_accepted_and_upper_cased():
    number = make_id_number("110101", dt.date(1990, 3, 7), 123)
    assert normalize_id_number(number) == number
    x_number = next(n for seq in range(1000)
                    if (n := make_id_number("110101", dt.date(2001, 1, 1), seq)).endswith("X"))
    assert normalize_id_number(x_number.lower()) == x_number


def test_wrong_check_digit_is_refused():
    number = make_id_number("110101", dt.date(1990, 3, 7), 123)
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(Invalid, match="校验位"):
        normalize_id_number(wrong)


@pytest.mark.parametrize("raw,message", [
    ("12345", "18位"), ("11010119901307123X", "出生日期"), ("1101011990030712AB", "18位")])
def test_malformed_id_numbers(raw, message):
    with pytest.raises(Invalid, match=message):
        normalize_id_number(raw)


def test_the_region_code_must_be_a_county():
    for area in ("999999", "000000", "500199"):  # no such county in GB/T 2260
        with pytest.raises(Invalid, match="前6位不是有效的地区代码"):
            normalize_id_number(make_id_number(area, dt.date(2003, 5, 1), 13))
    # a county of any period: numbers are given at first issue, so a 渝中区 code (500103,
    # from 1997) is right for a student born in 1995, and Sichuan's older 510202 still counts
    for area, birth in (("500103", dt.date(1995, 2, 2)), ("510202", dt.date(2001, 2, 2))):
        number = make_id_number(area, birth, 13)
        assert normalize_id_number(number) == number


@given(st.dates(dt.date(1950, 1, 1), dt.date(2010, 12, 31)), st.integers(0, 999))
def test_generated_numbers_always_validate_and_carry_gender(birth, seq):
    number = make_id_number("500103", birth, seq)
    assert normalize_id_number(number) == number
    assert gender_from_id(number) == ("1" if seq % 2 else "2")


def test_credit_code_example_and_letter_first():
    assert normalize_credit_code("91110000600037341L") == "91110000600037341L"
    assert normalize_credit_code(" 91110000600037341l ") == "91110000600037341L"
    from app.validators import uscc_check_char
    first17 = "N1500000MA5U1234X"[:17]
    code = first17 + uscc_check_char(first17)
    assert normalize_credit_code(code) == code  # stdnum would refuse the leading letter


@pytest.mark.parametrize("raw", ["91110000600037341A", "9111000060003734", "91110000600037341I"])
def test_bad_credit_codes(raw):
    with pytest.raises(Invalid):
        normalize_credit_code(raw)


@pytest.mark.parametrize("raw", ["138 0013 8000", "+86 138-0013-8000", "13800138000", "008613800138000"])
def test_phone_normalised(raw):
    assert normalize_phone(raw) == "13800138000"


@pytest.mark.parametrize("raw", ["12800138000", "1380013800", "abc"])
def test_bad_phone(raw):
    with pytest.raises(Invalid, match="手机号"):
        normalize_phone(raw)


def test_email_and_password_rules():
    assert normalize_email(" Zhang.San@Example.COM ") == "Zhang.San@example.com"
    with pytest.raises(Invalid):
        normalize_email("no-at-sign")
    assert check_password("abcd1234") == "abcd1234"
    for weak in ("short1", "allletters", "12345678"):
        with pytest.raises(Invalid):
            check_password(weak)


@pytest.mark.parametrize("raw,expected", [("023-1234 5678", "023-12345678"), ("13800138000", "13800138000"),
                                          ("(010)87654321", "01087654321"), ("023-12345678-801", "023-12345678-801")])
def test_contact_phone_accepts_landlines(raw, expected):
    from app.validators import normalize_contact_phone
    assert normalize_contact_phone(raw) == expected


def test_contact_phone_refuses_junk():
    from app.validators import normalize_contact_phone
    with pytest.raises(Invalid, match="区号"):
        normalize_contact_phone("12345")
