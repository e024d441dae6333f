"""短信发件箱 as a staff list (app/lists): by state, 用途, number or text, and the day it was
queued; newest first, sortable."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..lists.spec import Choice, Column, DateRange, ListSpec, Text
from .tables import sms_outbox as s

# the states sms_outbox holds (tables.py), and 待重试: pending again after an error
STATUS_LABELS = {"pending": "待发送", "sent": "已发送", "kept": "已保存（未发出）", "failed": "发送失败"}
RETRYING = "retrying"
STATES = {"pending": "待发送（含待重试）", RETRYING: "待重试",
          **{k: v for k, v in STATUS_LABELS.items() if k != "pending"}}
# what each message is for (the `purpose` its sender gives)
PURPOSE_LABELS = {"phone_code": "手机认证验证码"}


def status_label(row: Any) -> str:
    if row.status == "pending" and row.last_error:
        return STATES[RETRYING]
    return STATUS_LABELS.get(row.status, row.status)


def purpose_label(purpose: str) -> str:
    return PURPOSE_LABELS.get(purpose, purpose)


def _state(value: str) -> Any:
    if value == RETRYING:
        return sa.and_(s.c.status == "pending", s.c.last_error.is_not(None))
    return s.c.status == value


SPEC = ListSpec(
    route="sms_outbox",
    filters=(
        Choice("status", "状态", _state, options=list(STATES.items())),
        Choice("purpose", "用途", lambda v: s.c.purpose == v, options=list(PURPOSE_LABELS.items())),
        Text("q", "手机号或内容", (s.c.to_phone, s.c.text)),
        DateRange("created", "生成日期", s.c.created_at),
    ),
    # the id is the order messages were queued in: 时间 sorts by it, on the primary key
    columns=(Column("created", "时间", s.c.id), Column("phone", "手机号", s.c.to_phone),
             Column("status", "状态", s.c.status), Column("attempts", "尝试次数", s.c.attempts),
             Column("sent", "发送时间", s.c.sent_at)),
    default_sort="-created", tiebreak=s.c.id)


def rows() -> sa.Select:
    return sa.select(s.c.id, s.c.to_phone, s.c.text, s.c.purpose, s.c.status, s.c.attempts,
                     s.c.created_at, s.c.sent_at, s.c.last_error)
