"""The two signing flows, declared as data for app.workflow (one transition table each).

Both write the same `agreements` rows and audit under the entity "agreement", so an
agreement's page shows one history whichever way it was signed (and, later, terminated).
"""

from __future__ import annotations

import enum
from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..reviews.flows import item_people
from ..roles import Role
from ..tables import accounts
from ..workflow import Flow, Notify, Recipient, Step
from .tables import agreements

STUDENT = frozenset({Role.STUDENT})
EMPLOYER = frozenset({Role.EMPLOYER})
COUNSELOR = frozenset({Role.COUNSELOR})
SCHOOL = frozenset({Role.SCHOOL_ADMIN})
ADMINS = frozenset({Role.SCHOOL_ADMIN, Role.PLATFORM_ADMIN})
STUDENT_PAGE, QUEUE, EMPLOYER_PAGE = "/student/signing", "/reviews/agreements", "/employer/agreements"


class AgreementState(enum.StrEnum):
    # 线上应约
    INVITED = "invited"            # the employer's invitation waits for the student
    REFUSED = "refused"            # the student said no (with a reason)
    WITHDRAWN = "withdrawn"        # the employer took it back before an answer
    COLLEGE_REVIEW = "college"     # agreed: the counselor reviews
    SCHOOL_REVIEW = "school"       # the school's employment office reviews
    RETURNED = "returned"          # a reviewer sent it back: the employer corrects and resends
    # 线下签约
    DRAFT = "draft"                # the student enters the agreement
    AWAITING_EMPLOYER = "awaiting"  # 发给单位确认: the mailed link is open
    CONFIRMED = "confirmed"        # the employer confirmed the content
    GENERATED = "generated"        # 保存并生成协议书: numbered, to print, sign and stamp
    SCAN_REVIEW = "scan_review"    # the stamped agreement is uploaded; the school reviews
    SCAN_RETURNED = "scan_returned"  # the upload was refused: upload again
    CANCELLED = "cancelled"        # the student dropped it (作废 if it had a number)
    # both
    EFFECTIVE = "effective"        # 已生效: the graduate's 毕业去向 is 10
    TERMINATED = "terminated"      # 已解约


STATE_LABELS = {
    "invited": "待学生应约", "refused": "学生已拒绝", "withdrawn": "单位已撤回",
    "college": "待学院审核", "school": "待学校审核", "returned": "已退回单位修改",
    "draft": "录入中", "awaiting": "待单位确认", "confirmed": "单位已确认",
    "generated": "已生成协议书（待上传盖章协议书）", "scan_review": "盖章协议书待学校审核",
    "scan_returned": "盖章协议书被退回", "cancelled": "已作废", "effective": "已生效",
    "terminated": "已解约",
}
ACTION_LABELS = {
    "agree": "同意签约", "refuse": "拒绝", "withdraw": "撤回邀请", "approve": "通过",
    "return": "退回", "resend": "修改后重新发送", "send": "发给单位确认",
    "confirm": "单位确认无误", "ask_changes": "单位要求修改", "edit": "修改协议书",
    "generate": "保存并生成协议书", "upload": "上传盖章协议书", "cancel": "作废",
    "terminate": "解约", "invite": "发起签约", "create": "录入协议书",
}
# States in which an agreement holds the student: no second one may be agreed or generated.
HOLDING = frozenset({AgreementState.COLLEGE_REVIEW, AgreementState.SCHOOL_REVIEW,
                     AgreementState.RETURNED, AgreementState.GENERATED,
                     AgreementState.SCAN_REVIEW, AgreementState.SCAN_RETURNED,
                     AgreementState.EFFECTIVE})
EDITABLE_OFFLINE = frozenset({AgreementState.DRAFT, AgreementState.AWAITING_EMPLOYER,
                              AgreementState.CONFIRMED})


async def _employer_staff(conn: AsyncConnection, item_id: int) -> Sequence[Recipient]:
    rows = await conn.execute(
        sa.select(accounts.c.id, accounts.c.email).select_from(agreements)
        .join(accounts, sa.and_(accounts.c.employer_id == agreements.c.employer_id,
                                accounts.c.is_active.is_(True)))
        .where(agreements.c.id == item_id))
    return [Recipient(r.id, r.email) for r in rows]


_RECIPIENTS = {**item_people(agreements), "employer": _employer_staff}
_s = AgreementState
_to_student = "您的{label}"


def _tell(to: str, title: str, link: str, email: bool = True) -> Notify:
    return Notify(to, title, email=email, link=link)


# 解约 (app/termination): an approved 解约申请 or a 管理员强制解约 ends an effective agreement,
# whichever way it was signed. The termination service tells both parties itself (an
# offline agreement's employer may have no account, only the unit's email).
TERMINATE = Step(_s.EFFECTIVE, "terminate", _s.TERMINATED, ADMINS)


_ASK_EMPLOYER = _tell("employer", "学生发来线下签约的{label}，请在单位中心确认", EMPLOYER_PAGE)


ONLINE_FLOW = Flow(
    name="agreement", label="就业协议书", states=AgreementState, state_labels=STATE_LABELS,
    action_labels=ACTION_LABELS, initial=_s.INVITED, table=agreements, recipients=_RECIPIENTS,
    steps=(
        Step(_s.INVITED, "agree", _s.COLLEGE_REVIEW, STUDENT,
             notify=(_tell("employer", "学生已同意签约，{label}已提交学院审核", EMPLOYER_PAGE),
                     _tell("counselors", "有新的{label}待审核", QUEUE, email=False))),
        Step(_s.INVITED, "refuse", _s.REFUSED, STUDENT, reason_required=True,
             notify=(_tell("employer", "学生拒绝了签约邀请", EMPLOYER_PAGE),)),
        Step(_s.INVITED, "withdraw", _s.WITHDRAWN, EMPLOYER,
             notify=(_tell("student", "用人单位撤回了签约邀请", STUDENT_PAGE),)),
        Step(_s.COLLEGE_REVIEW, "approve", _s.SCHOOL_REVIEW, COUNSELOR,
             notify=(_tell("school_admins", "有新的{label}待审核", QUEUE, email=False),)),
        Step(_s.COLLEGE_REVIEW, "return", _s.RETURNED, COUNSELOR, reason_required=True,
             notify=(_tell("employer", "{label}被学院退回，请修改后重新发送", EMPLOYER_PAGE),
                     _tell("student", "您的{label}被学院退回单位修改", STUDENT_PAGE))),
        Step(_s.SCHOOL_REVIEW, "approve", _s.EFFECTIVE, SCHOOL,
             notify=(_tell("student", "您的{label}已审核通过，已生效", STUDENT_PAGE),
                     _tell("employer", "{label}已审核通过，已生效", EMPLOYER_PAGE))),
        Step(_s.SCHOOL_REVIEW, "return", _s.RETURNED, SCHOOL, reason_required=True,
             notify=(_tell("employer", "{label}被学校退回，请修改后重新发送", EMPLOYER_PAGE),
                     _tell("student", "您的{label}被学校退回单位修改", STUDENT_PAGE))),
        Step(_s.RETURNED, "resend", _s.INVITED, EMPLOYER,
             notify=(_tell("student", "用人单位修改了签约邀请，请重新查看并应约", STUDENT_PAGE),)),
        Step(_s.RETURNED, "withdraw", _s.WITHDRAWN, EMPLOYER,
             notify=(_tell("student", "用人单位撤回了签约邀请", STUDENT_PAGE),)),
        TERMINATE,
    ),
)

OFFLINE_FLOW = Flow(
    name="agreement", label="就业协议书", states=AgreementState, state_labels=STATE_LABELS,
    action_labels=ACTION_LABELS, initial=_s.DRAFT, table=agreements, recipients=_RECIPIENTS,
    steps=(
        # a registered unit's accounts are told; an unregistered one has none (it is mailed a link)
        Step(_s.DRAFT, "send", _s.AWAITING_EMPLOYER, STUDENT, notify=(_ASK_EMPLOYER,)),
        Step(_s.AWAITING_EMPLOYER, "send", _s.AWAITING_EMPLOYER, STUDENT,  # sent again
             notify=(_ASK_EMPLOYER,)),
        Step(_s.AWAITING_EMPLOYER, "confirm", _s.CONFIRMED, EMPLOYER,
             notify=(_tell("student", "用人单位已确认协议书内容，可以保存并生成协议书", STUDENT_PAGE),)),
        Step(_s.AWAITING_EMPLOYER, "ask_changes", _s.DRAFT, EMPLOYER, reason_required=True,
             notify=(_tell("student", "用人单位要求修改协议书内容", STUDENT_PAGE),)),
        # Editing after a confirmation needs a new one: the employer confirmed other text.
        Step(_s.AWAITING_EMPLOYER, "edit", _s.DRAFT, STUDENT),
        Step(_s.CONFIRMED, "edit", _s.DRAFT, STUDENT),
        Step(_s.CONFIRMED, "generate", _s.GENERATED, STUDENT),
        Step(_s.GENERATED, "upload", _s.SCAN_REVIEW, STUDENT,
             notify=(_tell("school_admins", "有新的盖章{label}待审核", QUEUE, email=False),)),
        Step(_s.SCAN_RETURNED, "upload", _s.SCAN_REVIEW, STUDENT,
             notify=(_tell("school_admins", "有新的盖章{label}待审核", QUEUE, email=False),)),
        Step(_s.SCAN_REVIEW, "approve", _s.EFFECTIVE, SCHOOL,
             notify=(_tell("student", "您的{label}已审核通过，已生效", STUDENT_PAGE),)),
        Step(_s.SCAN_REVIEW, "return", _s.SCAN_RETURNED, SCHOOL, reason_required=True,
             notify=(_tell("student", "您上传的盖章{label}被退回，请重新上传", STUDENT_PAGE),)),
        Step(_s.DRAFT, "cancel", _s.CANCELLED, STUDENT),
        Step(_s.AWAITING_EMPLOYER, "cancel", _s.CANCELLED, STUDENT),
        Step(_s.CONFIRMED, "cancel", _s.CANCELLED, STUDENT),
        Step(_s.GENERATED, "cancel", _s.CANCELLED, STUDENT),
        Step(_s.SCAN_RETURNED, "cancel", _s.CANCELLED, STUDENT),
        TERMINATE,
    ),
)

FLOWS = {"online": ONLINE_FLOW, "offline": OFFLINE_FLOW}


def flow_of(channel: str) -> Flow:
    return FLOWS[channel]
