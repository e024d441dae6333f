"""The settings form: what a school admin types → the values school_settings.change takes.

Every field is checked before anything is written; a wrong one gets its Chinese message next
to it (FormError) and the page keeps what was typed. Number fields left empty fall back to
the platform's defaults.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..config import Settings
from ..forms import Form, FormError

DATE_MESSAGE = "请按 年-月-日 填写日期，例如 2026-07-01"
WINDOW_MESSAGE = "截止日期不能早于开放日期"
MAX_CHARS = 20  # every field here is a date, a number or a check box


@dataclass(frozen=True)
class HallField:
    name: str
    label: str
    unit: str
    low: int
    high: int               # the name is also the Settings attribute an empty field means


HALL_FIELDS = (
    HallField("hall_open_minutes", "面试大厅提前开放", "分钟", 0, 120),
    HallField("hall_answer_grace_seconds", "呼叫后应答时限", "秒", 10, 600),
    HallField("hall_waiter_grace_seconds", "排队断线保留位置", "秒", 10, 1800),
)
CHECKBOXES = ("online_signing", "registration_reopened")
DATES = ("registration_deadline", "termination_opens", "termination_closes")


def day_or_none(raw: str) -> dt.date | None:
    """A China date typed as YYYY-MM-DD, or None when empty; ValueError when not a date."""
    raw = raw.strip()
    return dt.date.fromisoformat(raw) if raw else None


def window(opens: str, closes: str, opens_field: str, closes_field: str) -> tuple[dt.date | None,
                                                                              dt.date | None]:
    """The 解约申请 window: two dates, either empty. FormError names the fields."""
    errors, days = {}, {}
    for name, raw in ((opens_field, opens), (closes_field, closes)):
        try:
            days[name] = day_or_none(raw)
        except ValueError:
            errors[name] = DATE_MESSAGE
    if not errors and days[opens_field] and days[closes_field] \
            and days[opens_field] > days[closes_field]:
        errors[closes_field] = WINDOW_MESSAGE
    if errors:
        raise FormError(errors)
    return days[opens_field], days[closes_field]


def parse(form: Form) -> dict[str, Any]:
    """All the settings from the posted form, or FormError with a message per field."""
    errors: dict[str, str] = {}
    for name, raw in form.values.items():
        if len(raw) > MAX_CHARS and name != "_csrf":
            errors[name] = "内容过长"
    values: dict[str, Any] = {name: form.get(name) == "1" for name in CHECKBOXES}
    try:
        values["termination_opens"], values["termination_closes"] = window(
            form.get("termination_opens"), form.get("termination_closes"),
            "termination_opens", "termination_closes")
    except FormError as exc:
        for name, message in exc.errors.items():
            errors.setdefault(name, message)
    try:
        values["registration_deadline"] = day_or_none(form.get("registration_deadline"))
    except ValueError:
        errors.setdefault("registration_deadline", DATE_MESSAGE)
    for f in HALL_FIELDS:
        raw = form.get(f.name).strip()
        if not raw:
            values[f.name] = None
        elif not raw.isdigit() or not f.low <= int(raw) <= f.high:
            errors.setdefault(f.name, f"请填写 {f.low}–{f.high} 之间的整数（{f.unit}），留空使用平台默认值")
        else:
            values[f.name] = int(raw)
    if errors:
        raise FormError(errors)
    return values


def form_of(current: Any) -> Form:
    """A Form showing the stored settings (a SchoolSettings)."""
    data: dict[str, str] = {name: "1" if getattr(current, name) else "" for name in CHECKBOXES}
    for name in DATES:
        day = getattr(current, name)
        data[name] = day.isoformat() if day else ""
    for f in HALL_FIELDS:
        value = getattr(current, f.name)
        data[f.name] = "" if value is None else str(value)
    return Form(data)


def hall_defaults(defaults: Settings) -> dict[str, int]:
    return {f.name: getattr(defaults, f.name) for f in HALL_FIELDS}
