"""解约原因 (DOMAIN.md "Review chains"): 个人违约 with its sub-reasons, and 单位违约. Stored as
the code; shown as its label.

DOMAIN.md lists 单位承诺无法兑现 and 单位经营问题 under 个人违约 (the student leaves because of
them). An employer that ends the agreement for its own business problems breaks it itself:
单位违约 has those sub-reasons too, so the group recorded is the one chosen in the select."""

from __future__ import annotations

# code → label; a 个人违约 code names its sub-reason.
REASONS = {
    "personal_study": "个人违约 · 继续深造",
    "personal_family": "个人违约 · 家庭原因",
    "personal_health": "个人违约 · 身体原因",
    "personal_promise": "个人违约 · 单位承诺无法兑现",
    "personal_business": "个人违约 · 单位经营问题",
    "personal_other": "个人违约 · 其他",
    "employer_business": "单位违约 · 单位经营问题",
    "employer_promise": "单位违约 · 单位承诺无法兑现",
    "employer": "单位违约 · 其他",  # the first code, kept: rows made before the sub-reasons
}

# For the form's select: (group label, [(code, sub-reason label)]).
GROUPS = tuple(
    (group, [(code, label.split(" · ", 1)[1]) for code, label in REASONS.items()
             if label.startswith(group + " · ")])
    for group in ("个人违约", "单位违约"))


def label(code: str) -> str:
    return REASONS.get(code, code)
