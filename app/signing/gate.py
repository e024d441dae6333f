"""Who may enter 签约中心 (and 就业信息登记): a student whose 生源信息 is approved and whose
mobile number (the one in that approved record) has been confirmed by an SMS code.

A verification is kept with the account for the number it confirmed: when the approved
record carries another number, the student is asked again.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..auth.sessions import Identity
from ..reviews.flows import ORIGIN_FLOW, OriginState
from ..reviews.tables import origin_records
from ..tables import colleges, majors, schools, student_records
from .tables import phone_verifications

sr = student_records


@dataclass(frozen=True)
class Gate:
    student: sa.Row | None     # the record with school, college and major names
    origin: sa.Row | None      # the 生源信息 row
    verified_phone: str | None  # the number this account confirmed, if any

    @property
    def origin_approved(self) -> bool:
        return self.origin is not None and self.origin.status == OriginState.APPROVED

    @property
    def mobile(self) -> str:
        """The mobile number of the approved 生源信息 (the one to confirm)."""
        return str((self.origin.data or {}).get("mobile", "")) if self.origin is not None else ""

    @property
    def phone_verified(self) -> bool:
        return self.origin_approved and bool(self.mobile) and self.verified_phone == self.mobile

    @property
    def open(self) -> bool:
        return self.phone_verified

    @property
    def why_not(self) -> str:
        if self.student is None or self.origin is None:
            return "学校尚未导入您的生源信息，生源信息审核通过后才能使用签约中心。"
        if not self.origin_approved:
            return (f"您的生源信息当前状态为“{ORIGIN_FLOW.state_label(self.origin.status)}”，"
                    "生源信息审核通过后才能使用签约中心。请先完成【生源信息核对】。")
        if not self.mobile:
            return "您的生源信息中没有手机号，请联系学院重新开放生源信息后补充。"
        return "首次使用签约中心，需要进行手机认证。"


def student_select() -> sa.Select:
    return (sa.select(sr, schools.c.name.label("school_name"), schools.c.code.label("school_code"),
                      colleges.c.name.label("college_name"), majors.c.name.label("major_name"),
                      majors.c.code.label("major_code"))
            .join(schools, schools.c.id == sr.c.school_id)
            .join(colleges, colleges.c.id == sr.c.college_id)
            .join(majors, majors.c.id == sr.c.major_id))


async def load(conn: AsyncConnection, ident: Identity) -> Gate:
    student = (await conn.execute(student_select().where(sr.c.account_id == ident.account_id))).first()
    origin = None
    if student is not None:
        origin = (await conn.execute(sa.select(origin_records).where(
            origin_records.c.student_record_id == student.id))).first()
    verified = (await conn.execute(sa.select(phone_verifications.c.phone).where(
        phone_verifications.c.account_id == ident.account_id))).scalar()
    return Gate(student, origin, verified)
