"""Chinese names of the audit rows' items and actions: every review flow's own labels, and
the rows written outside a flow (logins, settings, the hall, mail)."""

from __future__ import annotations

import json
from typing import Any, Callable, Mapping

from ..applications.service import APPLICATION_FLOW
from ..employers.service import EMPLOYER_FLOW
from ..interviews.service import INTERVIEW_FLOW
from ..jobs.service import JOB_FLOW
from ..registration.flows import REGISTRATION_FLOW
from ..roles import ROLE_LABELS
from ..reviews.flows import ORIGIN_FLOW, RECOMMENDATION_FLOW
from ..signing.flows import OFFLINE_FLOW, ONLINE_FLOW
from ..termination.flows import TERMINATION_FLOW

FLOWS = (ORIGIN_FLOW, RECOMMENDATION_FLOW, ONLINE_FLOW, OFFLINE_FLOW, REGISTRATION_FLOW,
         TERMINATION_FLOW, APPLICATION_FLOW, INTERVIEW_FLOW, EMPLOYER_FLOW, JOB_FLOW)

ENTITY_LABELS: dict[str, str] = {
    **{f.name: f.label for f in FLOWS},
    "account": "账号", "student_record": "学生信息", "school_settings": "学校设置",
    "interview_session": "面试间", "hall_ticket": "面试排队", "hall_notice": "大厅通知",
    "email_outbox": "邮件",
}

ACTION_LABELS: dict[str, str] = {
    **{f"{f.name}.{a}": f"{f.label}·{label}" for f in FLOWS for a, label in f.action_labels.items()},
    "login": "登录", "login.failed": "登录失败", "create_admin": "创建管理账号",
    "activate": "学生激活", "password_reset": "重置密码", "phone_verified": "手机认证",
    "school_settings.change": "修改学校设置", "agreement.invite": "就业协议书·发起签约",
    "agreement.create": "就业协议书·录入协议书", "register": "单位注册", "create": "发布岗位",
    "hall.notice": "发布大厅通知", "hall.close_booth": "关闭面试间", "hall.remove": "移出面试间",
    "outbox.resend": "重发邮件",
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def entity_label(entity: str) -> str:
    return ENTITY_LABELS.get(entity, entity)


STATE_LABELS: dict[str, Mapping[str, str]] = {
    **{f.name: f.state_labels for f in FLOWS},
    "account": {"active": "已激活", "inactive": "未激活"},
    "email_outbox": {"pending": "待发送", "sent": "已发送", "failed": "发送失败"},
}


def state_change(entity: str, before: str | None, after: str | None) -> str:
    """"待学院审核 → 待学校审核": the item's states in its flow's own words."""
    if not before and not after:
        return ""
    labels = STATE_LABELS.get(entity, {})
    return f"{labels.get(before or '', before or '—')} → {labels.get(after or '', after or '—')}"


PORTALS = {"student": "学生", "employer": "单位", "staff": "管理人员"}
# A detail's keys in Chinese and how each value reads; None: not shown (an internal id)
DETAILS: dict[str, tuple[str, Callable[[Any], str]] | None] = {
    "role": ("身份", lambda v: ROLE_LABELS.get(v, v)),
    "termination_request": ("解约申请", lambda v: f"#{v}"),
    "forced": ("管理员强制解约", lambda v: "是" if v else "否"),
    "username": ("用户名", str), "via": ("方式", lambda v: "命令行" if v == "command line" else str(v)),
    "portal": ("登录入口", lambda v: PORTALS.get(v, v)), "address": ("地址", str),
    "sessions_ended": ("结束的登录会话", str), "last_error": ("上次错误", str),
    "phone": ("手机", str), "session_id": ("面试间", lambda v: f"#{v}"),
    "tickets": ("排队号", lambda v: "、".join(f"#{t}" for t in v) if isinstance(v, list) else str(v)),
    "proof_file_id": None, "school_id": None,
}
DETAIL_MAX = 300


def describe(detail: Any) -> str:
    """An audit row's detail as a person reads it: "身份：辅导员；解约申请：#3", never JSON
    for the keys the app writes (an unknown key still shows, as key：value)."""
    if not detail:
        return ""
    if not isinstance(detail, dict):
        return str(detail)[:DETAIL_MAX]
    parts = []
    for key, value in detail.items():
        if key in DETAILS:
            shown = DETAILS[key]
            if shown is None:
                continue
            name, fmt = shown
            parts.append(f"{name}：{fmt(value)}")
        else:
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            parts.append(f"{key}：{text}")
    text = "；".join(parts)
    return text if len(text) <= DETAIL_MAX else text[:DETAIL_MAX] + "…"
