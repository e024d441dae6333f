"""The two review flows, declared as data for app.workflow (one transition table each)."""

from __future__ import annotations

import enum
from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..roles import Role
from ..tables import accounts, student_records
from ..workflow import Flow, Notify, Recipient, RecipientLookup, Step
from .tables import origin_records, recommendations

STUDENT = frozenset({Role.STUDENT})
COUNSELOR = frozenset({Role.COUNSELOR})
SCHOOL = frozenset({Role.SCHOOL_ADMIN})
# Pages notices open (paths of routes in reviews/routes.py; notices store plain paths).
ORIGIN_PAGE, ORIGIN_QUEUE = "/student/origin", "/reviews/origins"
REC_PAGE, REC_QUEUE = "/student/recommendation", "/school/recommendations"


class OriginState(enum.StrEnum):
    DRAFT = "draft"          # imported or reopened: the student checks and edits
    SUBMITTED = "submitted"  # waiting for the counselor
    RETURNED = "returned"    # the counselor sent it back with a reason
    APPROVED = "approved"    # locked


class RecState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"
    REVOKED = "revoked"      # 作废: the verification page then says it is no longer valid


def item_people(table: sa.Table) -> dict[str, RecipientLookup]:
    """Recipients found through the item's row: its student, or staff of its school/college.

    Public: every flow whose rows carry student_record_id, school_id and college_id uses it
    (生源信息, 推荐表, 签约, 就业信息登记).
    """
    async def student(conn: AsyncConnection, item_id: int) -> Sequence[Recipient]:
        rows = await conn.execute(
            sa.select(accounts.c.id, accounts.c.email)
            .join(student_records, student_records.c.account_id == accounts.c.id)
            .join(table, table.c.student_record_id == student_records.c.id)
            .where(table.c.id == item_id))
        return [Recipient(r.id, r.email) for r in rows]

    def staff(role: Role, by_college: bool):  # noqa: ANN202
        async def lookup(conn: AsyncConnection, item_id: int) -> Sequence[Recipient]:
            where = [accounts.c.role == role.value, accounts.c.is_active.is_(True),
                     accounts.c.school_id == table.c.school_id]
            if by_college:
                where.append(accounts.c.college_id == table.c.college_id)
            rows = await conn.execute(sa.select(accounts.c.id, accounts.c.email)
                                      .select_from(table).join(accounts, sa.and_(*where))
                                      .where(table.c.id == item_id))
            return [Recipient(r.id, r.email) for r in rows]
        return lookup

    return {"student": student, "counselors": staff(Role.COUNSELOR, True),
            "school_admins": staff(Role.SCHOOL_ADMIN, False)}


ORIGIN_FLOW = Flow(
    name="origin", label="生源信息", states=OriginState,
    state_labels={"draft": "待核对", "submitted": "待审核", "returned": "已退回",
                  "approved": "已通过"},
    action_labels={"submit": "保存并送审", "withdraw": "撤回", "approve": "通过",
                   "return": "退回", "reopen": "重新开放"},
    initial=OriginState.DRAFT, table=origin_records,
    recipients=item_people(origin_records),
    steps=(
        Step(OriginState.DRAFT, "submit", OriginState.SUBMITTED, STUDENT,
             notify=(Notify("counselors", "有新的{label}待审核", link=ORIGIN_QUEUE),)),
        Step(OriginState.RETURNED, "submit", OriginState.SUBMITTED, STUDENT,
             notify=(Notify("counselors", "有新的{label}待审核", link=ORIGIN_QUEUE),)),
        Step(OriginState.SUBMITTED, "withdraw", OriginState.DRAFT, STUDENT),
        Step(OriginState.SUBMITTED, "approve", OriginState.APPROVED, COUNSELOR,
             notify=(Notify("student", "您的{label}已审核通过", email=True, link=ORIGIN_PAGE),)),
        Step(OriginState.SUBMITTED, "return", OriginState.RETURNED, COUNSELOR,
             reason_required=True,
             notify=(Notify("student", "您的{label}被退回，请修改后重新送审", email=True, link=ORIGIN_PAGE),)),
        Step(OriginState.APPROVED, "reopen", OriginState.DRAFT, SCHOOL, reason_required=True,
             notify=(Notify("student", "您的{label}已重新开放修改", email=True, link=ORIGIN_PAGE),)),
    ),
)

RECOMMENDATION_FLOW = Flow(
    name="recommendation", label="推荐表", states=RecState,
    state_labels={"draft": "未送审", "submitted": "待审核", "returned": "已退回",
                  "approved": "已通过", "revoked": "已作废"},
    action_labels={"submit": "保存并送审", "withdraw": "撤回", "approve": "通过",
                   "return": "退回", "revoke": "作废"},
    initial=RecState.DRAFT, table=recommendations,
    recipients=item_people(recommendations),
    steps=(
        Step(RecState.DRAFT, "submit", RecState.SUBMITTED, STUDENT,
             notify=(Notify("school_admins", "有新的{label}待审核", link=REC_QUEUE),)),
        Step(RecState.RETURNED, "submit", RecState.SUBMITTED, STUDENT,
             notify=(Notify("school_admins", "有新的{label}待审核", link=REC_QUEUE),)),
        Step(RecState.SUBMITTED, "withdraw", RecState.DRAFT, STUDENT),
        Step(RecState.SUBMITTED, "approve", RecState.APPROVED, SCHOOL,
             notify=(Notify("student", "您的{label}已审核通过，可以打印", email=True, link=REC_PAGE),)),
        Step(RecState.SUBMITTED, "return", RecState.RETURNED, SCHOOL, reason_required=True,
             notify=(Notify("student", "您的{label}被退回，请修改后重新送审", email=True, link=REC_PAGE),)),
        Step(RecState.APPROVED, "revoke", RecState.REVOKED, SCHOOL, reason_required=True,
             notify=(Notify("student", "您的{label}已被作废", email=True, link=REC_PAGE),)),
        Step(RecState.REVOKED, "submit", RecState.SUBMITTED, STUDENT,
             notify=(Notify("school_admins", "有新的{label}待审核", link=REC_QUEUE),)),
    ),
)
