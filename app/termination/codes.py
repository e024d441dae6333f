"""解约原因 (DOMAIN.md "Review chains"): 个人违约 with its sub-reasons, and 单位违约. Stored as
the code; shown as its label."""

from __future__ import annotations

# code → label; a 个人违约 code names its sub-reason.
REASONS = {
    "personal_study": "个人违约 · 继续深造",
    "personal_family": "个人违约 · 家庭原因",
    "personal_health": "个人违约 · 身体原因",
    "personal_promise": "个人违约 · 单位承诺无法兑现",
    "personal_business": "个人违约 · 单位经营问题",
    "personal_other": "个人违约 · 其他",
    "employer": "单位违约",
}

# For the form's select: (group label, [(code, sub-reason label)]).
GROUPS = (
    ("个人违约", [(code, label.split(" · ", 1)[1]) for code, label in REASONS.items()
                 if code.startswith("personal_")]),
    ("单位违约", [("employer", "单位违约")]),
)


def label(code: str) -> str:
    return REASONS.get(code, code)
