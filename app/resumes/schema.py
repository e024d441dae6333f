"""The structure of a resume, shared by 中文简历 and 英文简历, and parsing of its form.

A resume is JSON: {"basic": {...}, "education": [{...}, ...], ..., "self_evaluation": "..."}.
Repeatable sections are edited without JavaScript: the form's buttons carry an operation
(add / remove / move up / move down) and the page comes back with the change applied and
every typed value kept, until 保存 writes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from ..validators import Invalid, normalize_email, normalize_phone

MONTH_PATTERN = r"\d{4}-(0[1-9]|1[0-2])"  # also the form's pattern="…"
MONTH = re.compile(f"^{MONTH_PATTERN}$")


@dataclass(frozen=True)
class Field:
    name: str
    zh: str
    en: str
    kind: str = "text"  # text, month, textarea, email, tel, choice
    required: bool = False
    # kind "choice": (stored value, English label); the stored value is the Chinese one,
    # so 中文简历 and 英文简历 keep the same data and only the display differs
    choices: tuple[tuple[str, str], ...] = ()

    def shown(self, value: str, en: bool) -> str:
        return dict(self.choices).get(value, value) if en else value


@dataclass(frozen=True)
class Section:
    name: str
    zh: str
    en: str
    fields: tuple[Field, ...]
    repeat: bool = True
    limit: int = 20


SECTIONS: tuple[Section, ...] = (
    Section("basic", "基本信息", "Basic information", (
        Field("name", "姓名", "Name", required=True),
        Field("gender", "性别", "Gender", "choice", choices=(("男", "Male"), ("女", "Female"))),
        Field("birth", "出生年月", "Date of birth", "month"),
        Field("phone", "手机", "Mobile", "tel"),
        Field("email", "邮箱", "Email", "email"),
        Field("objective", "求职意向", "Career objective"),
        Field("city", "期望城市", "Preferred city"),
    ), repeat=False),
    Section("education", "教育经历", "Education", (
        Field("school", "学校", "School", required=True),
        Field("major", "专业", "Major"),
        Field("degree", "学历", "Degree"),
        Field("start", "开始时间", "From", "month"),
        Field("end", "结束时间", "To", "month"),
    )),
    Section("experience", "实习/工作经历", "Experience", (
        Field("org", "单位", "Organisation", required=True),
        Field("role", "职位", "Position"),
        Field("start", "开始时间", "From", "month"),
        Field("end", "结束时间", "To", "month"),
        Field("detail", "工作内容", "Description", "textarea"),
    )),
    Section("projects", "项目经历", "Projects", (
        Field("title", "项目名称", "Project", required=True),
        Field("role", "担任角色", "Role"),
        Field("start", "开始时间", "From", "month"),
        Field("end", "结束时间", "To", "month"),
        Field("detail", "项目描述", "Description", "textarea"),
    )),
    Section("skills", "专业技能", "Skills", (
        Field("skill", "技能", "Skill", required=True),
        Field("level", "掌握程度", "Level"),
    )),
    Section("certificates", "证书", "Certificates", (
        Field("title", "证书名称", "Certificate", required=True),
        Field("date", "获得时间", "Date", "month"),
    )),
    Section("awards", "获奖情况", "Awards", (
        Field("title", "奖项名称", "Award", required=True),
        Field("date", "获得时间", "Date", "month"),
    )),
    Section("self_evaluation", "自我评价", "About me", (
        Field("text", "自我评价", "About me", "textarea"),
    ), repeat=False),
)
SECTION_BY_NAME = {s.name: s for s in SECTIONS}
KIND_TITLES = {"zh": "中文简历", "en": "英文简历", "file": "附件简历"}


def empty() -> dict[str, Any]:
    return {s.name: ({} if not s.repeat else []) for s in SECTIONS}


def from_form(form: Mapping[str, str]) -> dict[str, Any]:
    """Rebuild the resume from posted fields named `section.field` or `section.N.field`."""
    data = empty()
    for section in SECTIONS:
        if not section.repeat:
            data[section.name] = {f.name: form.get(f"{section.name}.{f.name}", "").strip()
                                  for f in section.fields}
            continue
        indexes = sorted({int(m.group(1)) for key in form
                          if (m := re.fullmatch(rf"{section.name}\.(\d+)\.\w+", key))})
        rows = []
        for i in indexes[:section.limit]:
            row = {f.name: form.get(f"{section.name}.{i}.{f.name}", "").strip()
                   for f in section.fields}
            rows.append(row)
        data[section.name] = rows
    return data


def apply_op(data: dict[str, Any], op: str) -> dict[str, Any]:
    """add:SECTION, remove:SECTION:I, up:SECTION:I, down:SECTION:I."""
    parts = op.split(":")
    section = SECTION_BY_NAME.get(parts[1]) if len(parts) > 1 else None
    if section is None or not section.repeat:
        return data
    rows = data[section.name]
    if parts[0] == "add" and len(rows) < section.limit:
        rows.append({f.name: "" for f in section.fields})
    elif len(parts) == 3 and parts[2].isdigit() and int(parts[2]) < len(rows):
        i = int(parts[2])
        if parts[0] == "remove":
            rows.pop(i)
        elif parts[0] == "up" and i > 0:
            rows[i - 1], rows[i] = rows[i], rows[i - 1]
        elif parts[0] == "down" and i + 1 < len(rows):
            rows[i + 1], rows[i] = rows[i], rows[i + 1]
    return data


def drop_blank_rows(data: dict[str, Any]) -> dict[str, Any]:
    for section in SECTIONS:
        if section.repeat:
            data[section.name] = [r for r in data[section.name] if any(r.values())]
    return data


def validate(data: dict[str, Any]) -> dict[str, str]:
    """Field key (as in the form) → Chinese message."""
    errors: dict[str, str] = {}
    for section in SECTIONS:
        rows = [(f"{section.name}", data[section.name])] if not section.repeat else [
            (f"{section.name}.{i}", row) for i, row in enumerate(data[section.name])]
        for prefix, row in rows:
            for f in section.fields:
                key, value = f"{prefix}.{f.name}", row.get(f.name, "")
                if f.required and not value and (section.repeat or section.name == "basic"):
                    errors[key] = f"请填写{f.zh}"
                elif value and f.kind == "choice" and value not in dict(f.choices):
                    errors[key] = f"请从列表中选择{f.zh}"
                elif value and f.kind == "month" and not MONTH.fullmatch(value):
                    errors[key] = "请按“年-月”填写，如 2024-09"
                elif value and f.kind == "email":
                    _check(errors, key, normalize_email, value)
                elif value and f.kind == "tel":
                    _check(errors, key, normalize_phone, value)
                elif len(value) > (2000 if f.kind == "textarea" else 100):
                    errors[key] = "内容过长"
    return errors


def _check(errors: dict[str, str], key: str, check, value: str) -> None:  # noqa: ANN001
    try:
        check(value)
    except Invalid as exc:
        errors[key] = str(exc)
