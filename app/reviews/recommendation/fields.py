"""The 推荐表's own fields (DOMAIN.md 就业推荐表): table rows and texts. Pure: no database."""

from __future__ import annotations

from typing import Mapping

RESUME_ROWS = 4
FAMILY_ROWS = 4
RESUME_COLS = (("period", "起止年月"), ("place", "学校或单位"), ("role", "学习或任职经历"))
FAMILY_COLS = (("relation", "称谓"), ("name", "姓名"), ("work", "工作单位及职务"),
               ("phone", "联系电话"))
TEXTS = (
    ("grades", "在校成绩", False, 300),
    ("foreign_language", "外语水平", True, 200),
    ("computer", "计算机水平", True, 200),
    ("awards", "奖惩情况", False, 1000),
    ("practice", "实践及任职经历", False, 1000),
    ("self_evaluation", "自我评价", True, 1000),
)
TEXT_LABELS = {name: label for name, label, _, _ in TEXTS}


def _rows(raw: Mapping[str, str], prefix: str, count: int, cols) -> list[dict[str, str]]:  # noqa: ANN001
    rows = []
    for i in range(count):
        row = {key: (raw.get(f"{prefix}_{i}_{key}") or "").strip()[:100] for key, _ in cols}
        if any(row.values()):
            rows.append(row)
    return rows


def clean(raw: Mapping[str, str], *, complete: bool) -> tuple[dict, dict[str, str]]:
    """(the form's data, field → message); `complete` when sending for review."""
    errors: dict[str, str] = {}
    data: dict = {"resume": _rows(raw, "resume", RESUME_ROWS, RESUME_COLS),
                  "family": _rows(raw, "family", FAMILY_ROWS, FAMILY_COLS)}
    for name, label, required, limit in TEXTS:
        value = (raw.get(name) or "").strip()
        if len(value) > limit:
            errors[name] = f"{label}最多{limit}个字"
        elif complete and required and not value:
            errors[name] = f"请填写{label}"
        data[name] = value[:limit]
    if complete and not data["resume"]:
        errors["resume_0_period"] = "请至少填写一条个人简历"
    for i in range(RESUME_ROWS):
        row = [(raw.get(f"resume_{i}_{key}") or "").strip() for key, _ in RESUME_COLS]
        if any(row) and not (row[0] and row[1]):
            errors.setdefault(f"resume_{i}_period", "每条简历请填写起止年月和学校或单位")
    if complete and not data["family"]:
        errors["family_0_relation"] = "请至少填写一位家庭主要成员"
    return data, errors


def as_form(data: Mapping) -> dict[str, str]:
    """Stored data back into form fields (for the edit page)."""
    values = {name: data.get(name, "") for name, *_ in TEXTS}
    for prefix, cols in (("resume", RESUME_COLS), ("family", FAMILY_COLS)):
        for i, row in enumerate(data.get(prefix, [])):
            for key, _ in cols:
                values[f"{prefix}_{i}_{key}"] = row.get(key, "")
    return values
