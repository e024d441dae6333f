"""The 就业信息登记 review flow, declared as data for app.workflow: the student submits,
the counselor of their college approves (or returns), then the school admin approves (or
returns). Approval by the school makes the registration's 毕业去向 effective (service.py
claims it in the same transaction)."""

from __future__ import annotations

import enum

from ..reviews.flows import item_people  # the recipient lookups every review flow shares
from ..roles import Role
from ..workflow import Flow, Notify, Step
from .tables import registrations

STUDENT = frozenset({Role.STUDENT})
COUNSELOR = frozenset({Role.COUNSELOR})
SCHOOL = frozenset({Role.SCHOOL_ADMIN})
# Pages notices open (paths of routes in registration/routes.py; notices store plain paths).
STUDENT_PAGE, QUEUE = "/student/registration", "/reviews/registrations"


class RegState(enum.StrEnum):
    DRAFT = "draft"              # being filled (or withdrawn): the student edits
    SUBMITTED = "submitted"      # waiting for the counselor
    COLLEGE_OK = "college_ok"    # the counselor approved: waiting for the school admin
    RETURNED = "returned"        # sent back with a reason: the student edits and resubmits
    APPROVED = "approved"        # the destination is effective


EDITABLE = frozenset({RegState.DRAFT, RegState.RETURNED})

_to_student_ok = Notify("student", "您的{label}已通过学院审核，等待学校审核", email=True, link=STUDENT_PAGE)
_to_student_back = Notify("student", "您的{label}被退回，请修改后重新提交", email=True,
                          link=STUDENT_PAGE)
_to_counselors = Notify("counselors", "有新的{label}待审核", link=QUEUE)
_to_school = Notify("school_admins", "有新的{label}待学校审核", link=QUEUE)

REGISTRATION_FLOW = Flow(
    name="registration", label="就业信息登记", states=RegState,
    state_labels={"draft": "未提交", "submitted": "待学院审核", "college_ok": "待学校审核",
                  "returned": "已退回", "approved": "已通过"},
    action_labels={"submit": "保存并审核", "withdraw": "撤回", "approve": "通过",
                   "return": "退回", "revise": "修改毕业去向"},
    initial=RegState.DRAFT, table=registrations,
    recipients=item_people(registrations),
    steps=(
        Step(RegState.DRAFT, "submit", RegState.SUBMITTED, STUDENT, notify=(_to_counselors,)),
        Step(RegState.RETURNED, "submit", RegState.SUBMITTED, STUDENT, notify=(_to_counselors,)),
        Step(RegState.SUBMITTED, "withdraw", RegState.DRAFT, STUDENT),
        Step(RegState.SUBMITTED, "approve", RegState.COLLEGE_OK, COUNSELOR,
             notify=(_to_student_ok, _to_school)),
        Step(RegState.SUBMITTED, "return", RegState.RETURNED, COUNSELOR, reason_required=True,
             notify=(_to_student_back,)),
        Step(RegState.COLLEGE_OK, "approve", RegState.APPROVED, SCHOOL,
             notify=(Notify("student", "您的{label}已审核通过，毕业去向已生效", email=True,
                            link=STUDENT_PAGE),)),
        Step(RegState.COLLEGE_OK, "return", RegState.RETURNED, SCHOOL, reason_required=True,
             notify=(_to_student_back,)),
        # Only for 待就业 / 暂不就业 (70–72), checked in service.revise: a graduate who was
        # waiting reports the job they found. An effective employment is changed by the
        # school (解约), not by the student.
        Step(RegState.APPROVED, "revise", RegState.DRAFT, STUDENT),
    ),
)
