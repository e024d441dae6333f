"""The 落实率 report groups (DOMAIN.md) and the classic 就业率's unemployed codes, as data.

27 科研助理、管理助理 is in no group of the source list; it is a contract post at a
university or institute (its branch asks what 11 asks), so it counts with 协议和合同就业.
"""

from __future__ import annotations

from ..destinations.codes import DESTINATIONS, UNPLACED

GROUPS: dict[str, tuple[str, ...]] = {
    "协议和合同就业": ("10", "11", "27", "46", "50", "51"),
    "升学": ("80", "85"),
    "灵活就业": ("12", "76"),
    "自主创业": ("75",),
    "待就业": ("70",),
    "暂不就业": ("71", "72"),
}
# 就业率 (classic): employed = total − (70 + 71 + 72).
NOT_EMPLOYED: tuple[str, ...] = ("70", "71", "72")

GROUP_OF: dict[str, str] = {code: group for group, codes in GROUPS.items() for code in codes}

if set(GROUP_OF) != set(DESTINATIONS) or UNPLACED not in GROUPS["待就业"]:
    raise RuntimeError("every 毕业去向 code must belong to exactly one 落实率 group")


def group_of(code: str) -> str:
    return GROUP_OF.get(code, "")


def is_employed(code: str) -> bool:
    return code not in NOT_EMPLOYED
