"""毕业去向 codes (DOMAIN.md), kept as data: the registration chooser and every label come from here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Destination:
    code: str
    label: str
    sub_codes: dict[str, str]   # e.g. 80: {801: 研究生, 802: 第二学士学位}
    blocking: bool              # an effective one excludes any other (70–72 do not)


DESTINATIONS: dict[str, Destination] = {d.code: d for d in (
    Destination("10", "签就业协议形式就业", {}, True),
    Destination("11", "签劳动合同形式就业", {}, True),
    Destination("12", "其他录用形式就业", {}, True),
    Destination("27", "科研助理、管理助理", {"271": "科研助理、管理助理"}, True),
    Destination("46", "应征义务兵", {}, True),
    Destination("50", "国家基层项目", {"501": "特岗计划", "502": "三支一扶", "503": "西部计划"}, True),
    Destination("51", "地方基层项目", {"512": "地方选调生", "519": "其他地方基层项目"}, True),
    Destination("75", "自主创业", {}, True),
    Destination("76", "自由职业", {}, True),
    Destination("80", "升学", {"801": "研究生", "802": "第二学士学位"}, True),
    Destination("85", "境外留学", {}, True),
    Destination("70", "待就业", {"701": "求职中", "702": "签约中", "703": "拟参加公招考试",
                                "704": "拟创业", "705": "拟出国出境"}, False),
    Destination("71", "不就业拟升学", {}, False),
    Destination("72", "其他暂不就业", {}, False),
)}

SIGNED = "10"        # comes only from an effective 就业协议书
UNPLACED = "70"      # what a graduate without an effective destination counts as


def label(code: str | None) -> str:
    found = DESTINATIONS.get(code or UNPLACED)
    return found.label if found else (code or "")


def blocks(code: str) -> bool:
    found = DESTINATIONS.get(code)
    return found.blocking if found else True
