"""Claiming and releasing a graduate's one effective destination.

Signing (an effective 就业协议书 → 10) and 就业信息登记 (an approved registration → its code)
both go through `claim`, inside the transaction that makes their item effective; a
termination or a reopened registration goes through `release`. The unique row per
graduate (tables.py) makes the database refuse a second destination even when two
approvals race; `claim` turns that into a message instead of an error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..db import dialect_insert
from ..workflow import TransitionError
from .codes import UNPLACED, blocks, label
from .tables import graduate_destinations as gd

SOURCE_LABELS = {"agreement": "就业协议书", "registration": "就业信息登记"}


class DestinationTaken(TransitionError):
    """The graduate already has an effective destination from another item."""


@dataclass(frozen=True)
class Current:
    code: str
    sub_code: str | None
    source: str | None
    source_id: int | None
    effective_at: dt.datetime | None

    @property
    def label(self) -> str:
        return label(self.code)

    @property
    def placed(self) -> bool:
        return self.source is not None and blocks(self.code)


async def current(conn: AsyncConnection, student_record_id: int) -> Current:
    row = (await conn.execute(sa.select(gd).where(gd.c.student_record_id == student_record_id))).first()
    if row is None:
        return Current(UNPLACED, None, None, None, None)
    return Current(row.code, row.sub_code, row.source, row.source_id, row.effective_at)


async def is_placed(conn: AsyncConnection, student_record_id: int) -> bool:
    """True while an agreement or a registered destination (other than 70–72) is effective:
    then new invitations are view-only and a new registration or agreement is refused."""
    return (await current(conn, student_record_id)).placed


async def claim(conn: AsyncConnection, *, student_record_id: int, school_id: int, college_id: int,
                code: str, source: str, source_id: int, at: dt.datetime,
                sub_code: str | None = None) -> None:
    """Make this item the graduate's destination, in the caller's transaction. A 70–72 row
    (not employed) gives way; any other refuses with DestinationTaken."""
    values = dict(student_record_id=student_record_id, school_id=school_id,
                  college_id=college_id, code=code, sub_code=sub_code, source=source,
                  source_id=source_id, effective_at=at)
    # ON CONFLICT DO NOTHING: a race with another claim never aborts the transaction
    # (a bare IntegrityError would, on PostgreSQL); we read what won instead.
    done = await conn.execute(dialect_insert(conn, gd).values(**values)
                              .on_conflict_do_nothing(index_elements=[gd.c.student_record_id])
                              .returning(gd.c.id))
    if done.first() is not None:
        return
    existing = (await conn.execute(sa.select(gd).where(gd.c.student_record_id == student_record_id))).first()
    if existing is not None and existing.source == source and existing.source_id == source_id:
        return
    if existing is not None and not blocks(existing.code):
        replaced = await conn.execute(gd.update().where(
            gd.c.id == existing.id, gd.c.code == existing.code,
            gd.c.source == existing.source, gd.c.source_id == existing.source_id).values(**values))
        if replaced.rowcount == 1:
            return
    raise DestinationTaken(_taken_message(existing))


def _taken_message(existing: sa.Row | None) -> str:
    if existing is None:
        return "毕业去向刚被他人更新，请刷新后再试"
    source = SOURCE_LABELS.get(existing.source, existing.source)
    return f"已有生效的毕业去向（{label(existing.code)}，来自{source}），同一时间只能有一个"


async def release(conn: AsyncConnection, *, source: str, source_id: int) -> bool:
    """Remove this item's destination (termination, reopening); True if it was the current one."""
    gone = await conn.execute(gd.delete().where(gd.c.source == source, gd.c.source_id == source_id))
    return gone.rowcount == 1
