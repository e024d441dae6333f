"""The fields of a 生源信息 record: which are 学籍 (read-only), which the student edits,
their labels (DOMAIN.md), code tables and checks. Pure: no database.

One description serves the import (a cell may hold a code or its label), the student's
form (selects over the code tables) and the counselor's diff.
"""

from __future__ import annotations

from typing import Mapping

from ... import codes
from ...fields import FieldSpec, clean_values, landline, postcode, qq, text_limit  # noqa: F401 (clean_values: re-exported)
from ...validators import normalize_email, normalize_phone


EDITABLE: tuple[FieldSpec, ...] = (
    FieldSpec("political", "政治面貌", table=codes.POLITICAL),
    FieldSpec("origin_area", "生源所在地", area=True),
    FieldSpec("urban_rural", "城乡生源", table=codes.URBAN_RURAL),
    FieldSpec("hardship", "困难生类别", table=codes.HARDSHIP),
    FieldSpec("normal_student", "师范生类别", table=codes.NORMAL_STUDENT),
    FieldSpec("mobile", "手机", check=normalize_phone),
    FieldSpec("email", "邮箱", check=normalize_email),
    FieldSpec("qq", "QQ", check=qq, required=False),
    FieldSpec("home_address", "家庭地址", check=text_limit(100)),
    FieldSpec("home_phone", "家庭电话", check=landline, required=False),
    FieldSpec("postcode", "邮编", check=postcode, required=False),
    FieldSpec("hukou_in", "户口是否转入学校", table=codes.YES_NO),
    FieldSpec("archive_in", "档案是否转入学校", table=codes.YES_NO),
)
EDITABLE_BY_NAME = {f.name: f for f in EDITABLE}

# 学籍 fields the student-record table does not hold; imported with the 生源 file.
ROLL: tuple[FieldSpec, ...] = (
    FieldSpec("exam_no", "考生号", check=text_limit(20), required=False),
    FieldSpec("ethnicity", "民族", table=codes.ETHNICITY, required=False),
    FieldSpec("major_direction", "专业方向", check=text_limit(50), required=False),
    FieldSpec("study_years", "学制", check=text_limit(10), required=False),
    FieldSpec("enroll_month", "入学年月", check=text_limit(10), required=False),
    FieldSpec("graduation_date", "毕业日期", check=text_limit(10), required=False),
    FieldSpec("training_mode", "培养方式", table=codes.TRAINING_MODE, required=False),
    FieldSpec("sponsor", "定向/委培单位", check=text_limit(100), required=False),
)
ROLL_BY_NAME = {f.name: f for f in ROLL}


def changes(imported: Mapping[str, str], current: Mapping[str, str]) -> list[dict[str, str]]:
    """Every editable field with its imported and current text, and whether it changed."""
    return [{"name": f.name, "label": f.label, "before": f.display(imported.get(f.name)),
             "after": f.display(current.get(f.name)),
             "changed": (imported.get(f.name) or "") != (current.get(f.name) or "")}
            for f in EDITABLE]
