"""邮件发件箱 as a staff list (app/lists): by state, 邮件类型 (the template), recipient or
subject, and the day it was queued; newest first, sortable."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..lists.spec import Choice, Column, DateRange, ListSpec, Text
from ..notify.emails import TEMPLATES
from ..notify.outbox import PENDING, STATUS_LABELS
from ..tables import email_outbox as o

RETRYING = "retrying"   # pending again after an error: not a stored state, a reading of one
STATES = {PENDING: "待发送（含待重试）", RETRYING: "待重试", **{k: v for k, v in STATUS_LABELS.items()
                                                     if k != PENDING}}
# templates/email/<name>: what each mail is, as the admin reads it
TEMPLATE_LABELS = {
    "agreement_confirm": "协议书确认（单位）", "employer_reviewed": "单位注册审核结果",
    "hall_employer_absent": "面试间无人提醒", "interview_cancelled": "面试取消",
    "interview_invited": "视频面试邀请", "interview_rescheduled": "面试改期",
    "origin_check": "生源信息核对", "reset_code": "找回密码验证码",
    "signing_invited": "线上签约邀请", "workflow_notice": "审核进度通知",
}


def template_label(name: str) -> str:
    return TEMPLATE_LABELS.get(name, name)


def template_names() -> list[str]:
    return sorted(p.name for p in (TEMPLATES / "email").iterdir() if p.is_dir())


def status_label(row: Any) -> str:
    if row.status == PENDING and row.last_error:
        return STATES[RETRYING]
    return STATUS_LABELS.get(row.status, row.status)


def _state(value: str) -> Any:
    if value == RETRYING:
        return sa.and_(o.c.status == PENDING, o.c.last_error.is_not(None))
    return o.c.status == value


SPEC = ListSpec(
    route="outbox",
    filters=(
        Choice("status", "状态", _state, options=list(STATES.items())),
        Choice("template", "邮件类型", lambda v: o.c.template == v,
               options=[(n, template_label(n)) for n in template_names()]),
        Text("q", "收件人或主题", (o.c.to_addr, o.c.subject)),
        DateRange("created", "生成日期", o.c.created_at),
    ),
    # the id is the order mail was queued in: 时间 sorts by it, on the primary key
    columns=(Column("created", "时间", o.c.id), Column("to", "收件人", o.c.to_addr),
             Column("subject", "主题", o.c.subject), Column("status", "状态", o.c.status),
             Column("attempts", "尝试次数", o.c.attempts), Column("sent", "发送时间", o.c.sent_at)),
    default_sort="-created", tiebreak=o.c.id)

KEPT = frozenset({"sort", "size", "page", *(f.name for f in SPEC.filters if isinstance(f, Choice | Text)),
                  *(n for f in SPEC.filters if isinstance(f, DateRange) for n in f.names)})


def rows() -> sa.Select:
    # the bodies and attachments stay out: a page reads 20 rows, not 20 mails
    return sa.select(o.c.id, o.c.to_addr, o.c.subject, o.c.template, o.c.status, o.c.attempts,
                     o.c.created_at, o.c.sent_at, o.c.last_error)
