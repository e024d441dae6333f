"""Chinese names of the audit rows' items and actions: every review flow's own labels, and
the rows written outside a flow (logins, settings, the hall, mail)."""

from __future__ import annotations

import json
from typing import Any, Callable, Mapping

from rtc.monitor import SESSION_LABELS
from rtc.queue import TICKET_LABELS

from ..applications.service import APPLICATION_FLOW
from ..employers.service import EMPLOYER_FLOW
from ..interviews.service import INTERVIEW_FLOW
from ..jobs.service import JOB_FLOW
from ..registration.flows import REGISTRATION_FLOW
from ..roles import ROLE_LABELS
from ..reviews.flows import ORIGIN_FLOW, RECOMMENDATION_FLOW
from ..school_settings.form import HALL_FIELDS
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
# A prefix that picks a group of actions in the 操作 filter ("origin": every 生源信息 step)
ACTION_GROUPS: dict[str, str] = {
    **{f.name: f"{f.label}·全部操作" for f in FLOWS}, "hall": "面试大厅·全部操作",
    "login": "登录（含登录失败）",
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def entity_label(entity: str) -> str:
    return ENTITY_LABELS.get(entity, entity)


STATE_LABELS: dict[str, Mapping[str, str]] = {
    **{f.name: f.state_labels for f in FLOWS},
    "account": {"active": "已激活", "inactive": "未激活"},
    "email_outbox": {"pending": "待发送", "sent": "已发送", "failed": "发送失败"},
    "student_record": {"active": "已激活", "inactive": "未激活"},
    "interview_session": SESSION_LABELS,
    "hall_ticket": {str(k): v for k, v in TICKET_LABELS.items()},
}


def state_label(entity: str, state: str | None) -> str:
    return STATE_LABELS.get(entity, {}).get(state or "", state or "—")


def action_options() -> list[tuple[str, str]]:
    """The 操作 filter's choices: each group ("生源信息·全部操作") first, then its actions, by
    label; then the actions of no group."""
    grouped = {g: [(a, t) for a, t in ACTION_LABELS.items() if a.startswith(g + ".")]
               for g in ACTION_GROUPS}
    out: list[tuple[str, str]] = []
    for group, label in sorted(ACTION_GROUPS.items(), key=lambda kv: kv[1]):
        out += [(group, label), *sorted((o for o in grouped[group] if o[0] != group),
                                        key=lambda kv: kv[1])]
    taken = {a for a, _ in out}
    return out + sorted(((a, t) for a, t in ACTION_LABELS.items() if a not in taken),
                        key=lambda kv: kv[1])


def state_change(entity: str, before: str | None, after: str | None) -> str:
    """"待学院审核 → 待学校审核": the item's states in its flow's own words."""
    if not before and not after:
        return ""
    labels = STATE_LABELS.get(entity, {})
    return f"{labels.get(before or '', before or '—')} → {labels.get(after or '', after or '—')}"


PORTALS = {"student": "学生", "employer": "单位", "staff": "管理人员"}
# 学校设置's fields (school_settings.change writes {field: [before, after]}); the hall's come
# with their units from the settings form
SETTING_LABELS: dict[str, tuple[str, str]] = {
    "online_signing": ("开放线上应约", ""), "termination_opens": ("解约申请开放日期", ""),
    "termination_closes": ("解约申请截止日期", ""), "registration_deadline": ("登记截止日期", ""),
    "registration_reopened": ("截止后重新开放登记", ""),
    **{f.name: (f.label, f.unit) for f in HALL_FIELDS},
}


def _setting(unit: str) -> Callable[[Any], str]:
    def one(value: Any) -> str:
        if value is None or value == "":
            return "默认" if unit else "未设置"   # a hall time left empty: the platform's
        if isinstance(value, bool):
            return "是" if value else "否"
        return f"{value}{unit}"

    def change(pair: Any) -> str:
        if isinstance(pair, list) and len(pair) == 2:
            return f"{one(pair[0])} → {one(pair[1])}"
        return one(pair)
    return change

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
    **{name: (label, _setting(unit)) for name, (label, unit) in SETTING_LABELS.items()},
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
