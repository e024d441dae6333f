"""Chinese names of the audit rows' items and actions: every review flow's own labels, and
the rows written outside a flow (logins, settings, the hall, mail)."""

from __future__ import annotations

from ..applications.service import APPLICATION_FLOW
from ..employers.service import EMPLOYER_FLOW
from ..interviews.service import INTERVIEW_FLOW
from ..jobs.service import JOB_FLOW
from ..registration.flows import REGISTRATION_FLOW
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
