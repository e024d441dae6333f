"""The 解约申请 review flow, declared as data for app.workflow: a party of the agreement (the
student or the employer) submits, the counselor of the student's college approves (or
returns), then the school admin approves (or returns). The applicant may withdraw until
the first review, and edit and resubmit (or withdraw) a returned one. The school's approval
terminates the agreement in the same transaction (service.py); a 管理员强制解约 of the same
agreement closes an open application as superseded."""

from __future__ import annotations

import enum
from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..reviews.flows import _people  # the recipient lookups every review flow shares
from ..roles import Role
from ..tables import accounts
from ..workflow import Flow, Notify, Recipient, Step
from .tables import termination_requests as tr

PARTIES = frozenset({Role.STUDENT, Role.EMPLOYER})
COUNSELOR = frozenset({Role.COUNSELOR})
SCHOOL = frozenset({Role.SCHOOL_ADMIN})
ADMINS = frozenset({Role.SCHOOL_ADMIN, Role.PLATFORM_ADMIN})
QUEUE = "/reviews/terminations"


class TermState(enum.StrEnum):
    DRAFT = "draft"                        # only inside the transaction that submits it
    SUBMITTED = "submitted"                # waiting for the counselor
    COLLEGE_APPROVED = "college_approved"  # waiting for the school admin
    RETURNED = "returned"                  # sent back with a reason: edit and resubmit, or withdraw
    WITHDRAWN = "withdrawn"                # the applicant took it back
    APPROVED = "approved"                  # the agreement is terminated
    SUPERSEDED = "superseded"              # an administrator terminated the agreement meanwhile


STATE_LABELS = {"draft": "未提交", "submitted": "待学院审核", "college_approved": "待学校审核",
                "returned": "已退回", "withdrawn": "已撤回", "approved": "已解约",
                "superseded": "已由管理员强制解约"}
ACTION_LABELS = {"submit": "提交解约申请", "withdraw": "撤回", "approve": "通过", "return": "退回",
                 "supersede": "管理员强制解约"}


async def _applicant(conn: AsyncConnection, item_id: int) -> Sequence[Recipient]:
    rows = await conn.execute(sa.select(accounts.c.id, accounts.c.email)
                              .join(tr, tr.c.applicant_id == accounts.c.id).where(tr.c.id == item_id))
    return [Recipient(r.id, r.email) for r in rows]


_back = Notify("applicant", "您的{label}被退回，请修改后重新提交或撤回", email=True)
_to_counselors = Notify("counselors", "有新的{label}待审核", link=QUEUE)
_to_school = Notify("school_admins", "有新的{label}待学校审核", link=QUEUE)
_s = TermState

TERMINATION_FLOW = Flow(
    name="termination", label="解约申请", states=TermState, state_labels=STATE_LABELS,
    action_labels=ACTION_LABELS, initial=_s.DRAFT, table=tr,
    recipients={**_people(tr), "applicant": _applicant},
    steps=(
        Step(_s.DRAFT, "submit", _s.SUBMITTED, PARTIES, notify=(_to_counselors,)),
        Step(_s.RETURNED, "submit", _s.SUBMITTED, PARTIES, notify=(_to_counselors,)),
        Step(_s.SUBMITTED, "withdraw", _s.WITHDRAWN, PARTIES),
        Step(_s.RETURNED, "withdraw", _s.WITHDRAWN, PARTIES),
        Step(_s.SUBMITTED, "approve", _s.COLLEGE_APPROVED, COUNSELOR,
             notify=(Notify("applicant", "您的{label}已通过学院审核，等待学校审核"), _to_school)),
        Step(_s.SUBMITTED, "return", _s.RETURNED, COUNSELOR, reason_required=True, notify=(_back,)),
        Step(_s.COLLEGE_APPROVED, "approve", _s.APPROVED, SCHOOL),  # both parties: service.py
        Step(_s.COLLEGE_APPROVED, "return", _s.RETURNED, SCHOOL, reason_required=True,
             notify=(_back,)),
        Step(_s.SUBMITTED, "supersede", _s.SUPERSEDED, ADMINS),
        Step(_s.COLLEGE_APPROVED, "supersede", _s.SUPERSEDED, ADMINS),
        Step(_s.RETURNED, "supersede", _s.SUPERSEDED, ADMINS),
    ),
)

OPEN = frozenset({_s.DRAFT, _s.SUBMITTED, _s.COLLEGE_APPROVED, _s.RETURNED})
