"""签约中心: what every signing rule shares — reading agreements in the caller's scope,
the one-agreement-at-a-time checks, numbers, and making an agreement effective.

Every read is scoped by the caller: a student sees only their own agreements, an employer
those it is party to, a counselor their college's, a school admin their school's.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import workflow
from ..db import dialect_insert
from ..auth.sessions import Identity
from ..destinations import service as destinations
from ..destinations.codes import SIGNED
from ..reviews.tables import origin_records
from ..roles import Role
from ..tables import colleges, employers, majors, schools, student_records
from .flows import HOLDING, AgreementState, flow_of
from .tables import agreement_numbers, agreements

ag, sr = agreements, student_records

# 学历 → the digit the agreement number carries (DOMAIN.md: 毕业年份 + 学校代码 + 学历 + 流水号).
EDUCATION_DIGITS = {"博士生": "1", "硕士生": "2", "本科生": "3", "专科生": "4", "二学位": "5"}


def select() -> sa.Select:
    return (sa.select(ag, sr.c.student_no, sr.c.name.label("student_name"), sr.c.id_number,
                      sr.c.gender, sr.c.education, sr.c.graduation_year, sr.c.account_id,
                      schools.c.name.label("school_name"), schools.c.code.label("school_code"),
                      colleges.c.name.label("college_name"), majors.c.name.label("major_name"),
                      employers.c.name.label("employer_name"),
                      # 培养方式 on the paper, wherever it is shown (the unit's pages too)
                      origin_records.c.roll["training_mode"].as_string().label("training_mode"))
            .join(sr, sr.c.id == ag.c.student_record_id)
            .join(schools, schools.c.id == ag.c.school_id)
            .join(colleges, colleges.c.id == ag.c.college_id)
            .join(majors, majors.c.id == sr.c.major_id)
            .outerjoin(employers, employers.c.id == ag.c.employer_id)
            .outerjoin(origin_records, origin_records.c.student_record_id == sr.c.id))


def scope(ident: Identity) -> sa.ColumnElement[bool]:
    """The agreements this identity may see."""
    if ident.role == Role.STUDENT:
        return sr.c.account_id == ident.account_id
    if ident.role == Role.EMPLOYER:  # not a student's offline draft before it is sent
        return sa.and_(ag.c.employer_id == ident.employer_id,
                       ag.c.status != AgreementState.DRAFT.value)
    if ident.role == Role.COUNSELOR:
        return sa.and_(ag.c.school_id == ident.school_id, ag.c.college_id == ident.college_id)
    if ident.role == Role.SCHOOL_ADMIN:
        return ag.c.school_id == ident.school_id
    if ident.role == Role.PLATFORM_ADMIN:
        return sa.true()
    return sa.false()


def actor(ident: Identity) -> workflow.Actor:
    return workflow.Actor(ident.account_id, ident.role)


async def item(conn: AsyncConnection, ident: Identity, agreement_id: int) -> sa.Row | None:
    return (await conn.execute(select().where(ag.c.id == agreement_id, scope(ident)))).first()


async def history(conn: AsyncConnection, row: sa.Row) -> list[workflow.HistoryEntry]:
    """The agreement's whole history: signing, reviews, and its 解约申请 with their decisions,
    and a forced termination, from the audit rows, in time order."""
    from ..termination.history import with_terminations  # termination builds on signing
    return await with_terminations(conn, row.id, await workflow.history(conn, flow_of(row.channel), row.id))


def employer_label(row: sa.Row) -> str:
    return row.employer_name or (row.data or {}).get("unit_name", "")


async def lock_student(conn: AsyncConnection, student_record_id: int) -> None:
    """Serialise a student's signing steps: on PostgreSQL lock the record row (SQLite's
    BEGIN IMMEDIATE already serialises writers), so two tabs agreeing at once cannot both
    pass the one-at-a-time check below."""
    if conn.dialect.name != "sqlite":
        await conn.execute(sa.select(sr.c.id).where(sr.c.id == student_record_id).with_for_update())


async def holding(conn: AsyncConnection, student_record_id: int, *, besides: int | None = None,
                  ) -> sa.Row | None:
    """Another agreement that holds the student (in review, generated or effective)."""
    where = [ag.c.student_record_id == student_record_id, ag.c.status.in_([s.value for s in HOLDING])]
    if besides is not None:
        where.append(ag.c.id != besides)
    return (await conn.execute(sa.select(ag.c.id, ag.c.status, ag.c.number).where(*where)
                               .order_by(ag.c.id).limit(1))).first()


async def why_busy(conn: AsyncConnection, student_record_id: int, *, besides: int | None = None,
                   ) -> str | None:
    """Why the student cannot take on another agreement now, or None."""
    current = await destinations.current(conn, student_record_id)
    if current.placed and not (current.source == "agreement" and current.source_id == besides):
        # 解约 ends an agreement; a destination from 就业信息登记 is changed by the school
        change = ("如需变更请先办理解约或联系学校" if current.source == "agreement"
                  else "如需变更请联系学校就业指导中心")
        return f"您已有生效的毕业去向（{current.label}），同一时间只能有一个；{change}"
    other = await holding(conn, student_record_id, besides=besides)
    if other is not None:
        from .flows import STATE_LABELS
        return (f"您已有一份{STATE_LABELS.get(other.status, other.status)}的就业协议书"
                f"{'（编号 ' + other.number + '）' if other.number else ''}，同一时间只能办理一份")
    return None


async def allocate_number(conn: AsyncConnection, *, graduation_year: int, school_code: str,
                          education: str) -> str:
    """The next number for this prefix, taken atomically: unique, never handed out twice."""
    prefix = f"{graduation_year}{school_code}{EDUCATION_DIGITS.get(education, '9')}"
    taken = await conn.execute(
        dialect_insert(conn, agreement_numbers).values(prefix=prefix, last=1)
        .on_conflict_do_update(index_elements=[agreement_numbers.c.prefix],
                               set_={"last": agreement_numbers.c.last + 1})
        .returning(agreement_numbers.c.last))
    return f"{prefix}{taken.scalar_one():05d}"


async def number_values(conn: AsyncConnection, row: sa.Row) -> dict[str, Any]:
    """A number and a verification token for an agreement being generated."""
    return {"number": await allocate_number(conn, graduation_year=row.graduation_year,
                                            school_code=row.school_code, education=row.education),
            "verify_token": secrets.token_urlsafe(24)}


async def make_effective(conn: AsyncConnection, row: sa.Row, action: str, *, actor: workflow.Actor,
                         at: dt.datetime, reason: str | None = None) -> str:
    """The approval that makes an agreement effective: the graduate's 毕业去向 becomes 10 in
    the same transaction (refused if another destination is effective)."""
    await destinations.claim(conn, student_record_id=row.student_record_id, school_id=row.school_id,
                             college_id=row.college_id, code=SIGNED, source="agreement",
                             source_id=row.id, at=at)
    return await workflow.transition(conn, flow_of(row.channel), row.id, action, actor=actor,
                                     at=at, reason=reason,
                                     values={"effective_at": at, "updated_at": at})


def is_effective_step(row: sa.Row, action: str) -> bool:
    step = flow_of(row.channel).step(row.status, action)
    return step is not None and step.target == AgreementState.EFFECTIVE
