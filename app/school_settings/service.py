"""Reading and changing a school's settings; every change leaves an audit row."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import audit
from .tables import school_settings as ss


@dataclasses.dataclass(frozen=True)
class SchoolSettings:
    school_id: int
    online_signing: bool = True
    registration_deadline: dt.date | None = None
    registration_reopened: bool = False
    termination_opens: dt.date | None = None
    termination_closes: dt.date | None = None

    def registration_deadline_for(self, graduation_year: int) -> dt.date:
        return self.registration_deadline or dt.date(graduation_year, 8, 31)

    def registration_open(self, graduation_year: int, today: dt.date) -> bool:
        return self.registration_reopened or today <= self.registration_deadline_for(graduation_year)

    def termination_open(self, today: dt.date) -> bool:
        return ((self.termination_opens is None or today >= self.termination_opens)
                and (self.termination_closes is None or today <= self.termination_closes))


FIELDS = tuple(f.name for f in dataclasses.fields(SchoolSettings) if f.name != "school_id")


async def load(conn: AsyncConnection, school_id: int) -> SchoolSettings:
    row = (await conn.execute(sa.select(ss).where(ss.c.school_id == school_id))).first()
    if row is None:
        return SchoolSettings(school_id)
    return SchoolSettings(school_id, **{name: getattr(row, name) for name in FIELDS})


async def change(conn: AsyncConnection, school_id: int, *, actor_id: int | None,
                 at: dt.datetime, **values: Any) -> SchoolSettings:
    """Write the given settings (names of FIELDS) and audit what changed."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown school settings: {sorted(unknown)}")
    before = await load(conn, school_id)
    after = dataclasses.replace(before, **values)
    changed = {k: [_plain(getattr(before, k)), _plain(getattr(after, k))]
               for k in FIELDS if getattr(before, k) != getattr(after, k)}
    if not changed:
        return before
    row = {name: getattr(after, name) for name in FIELDS}
    updated = await conn.execute(ss.update().where(ss.c.school_id == school_id)
                                 .values(**row, updated_at=at, updated_by=actor_id))
    if updated.rowcount == 0:
        await conn.execute(ss.insert().values(school_id=school_id, **row, updated_at=at,
                                              updated_by=actor_id))
    await audit.record(conn, at=at, actor_id=actor_id, action="school_settings.change",
                       entity="school_settings", entity_id=school_id, detail=changed)
    return after


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value
