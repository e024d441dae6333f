"""Jinja filters shared by every page."""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from .uploads import type_label

CHINA = ZoneInfo("Asia/Shanghai")


def localtime(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Times are stored in UTC and shown in Beijing time."""
    if value is None:
        return ""
    return value.astimezone(CHINA).strftime(fmt)


def choices(rows: Iterable[Any], value_attr: str, text_attr: str) -> list[tuple[str, str]]:
    return [(str(getattr(r, value_attr)), str(getattr(r, text_attr))) for r in rows]


def zip_self(values: Iterable[Any]) -> list[tuple[str, str]]:
    """Options whose value is also their text."""
    return [(str(v), str(v)) for v in values]


def num(value: object) -> object:
    """A count with thousands separators (60,000), as an office reads it; other values as
    they are."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else value


_BAD = ("退回", "拒绝", "作废", "解约", "撤回", "失败", "未到", "取消")
_OK = ("已通过", "已生效", "已激活", "已就业", "已面试", "已录用", "已接受", "已邀请", "已发送")


def tone(label: str) -> str:
    """The colour of a state's badge, from the words people read (the flows' own labels, one
    source): done is green, waiting on someone amber, refused or undone red, the rest grey."""
    if any(word in label for word in _BAD):
        return "bad"
    if any(label.startswith(word) for word in _OK):
        return "ok"
    if "待" in label:
        return "wait"
    return "plain"


FILTERS = {"localtime": localtime, "choices": choices, "zip_self": zip_self,
           "file_type": type_label, "num": num, "tone": tone}
