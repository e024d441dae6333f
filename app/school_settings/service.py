"""Reading and changing a school's settings; every change leaves an audit row.

The hall's three times are global settings (HALL_OPEN_MINUTES, HALL_ANSWER_GRACE_SECONDS,
HALL_WAITER_GRACE_SECONDS) that act as defaults: a school's own value (not None) wins for
that school's students. A booth is an employer's and takes students of many schools, so the
times follow the student, not the booth: each ticket carries its student's school's graces
(rtc/tickets.py joins them in), and the hall opens for a student by their school's minutes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import audit
from ..auth.sessions import Identity
from ..config import Settings
from ..roles import Role
from ..tables import accounts
from .tables import school_settings as ss


@dataclasses.dataclass(frozen=True)
class HallTimes:
    open_minutes: int
    answer_grace_seconds: int
    waiter_grace_seconds: int

    @property
    def answer_grace(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.answer_grace_seconds)

    @property
    def waiter_grace(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.waiter_grace_seconds)


def default_hall_times(defaults: Settings) -> HallTimes:
    return HallTimes(defaults.hall_open_minutes, defaults.hall_answer_grace_seconds,
                     defaults.hall_waiter_grace_seconds)


@dataclasses.dataclass(frozen=True)
class SchoolSettings:
    school_id: int
    online_signing: bool = True
    registration_deadline: dt.date | None = None
    registration_reopened: bool = False
    termination_opens: dt.date | None = None
    termination_closes: dt.date | None = None
    hall_open_minutes: int | None = None          # None: the global default
    hall_answer_grace_seconds: int | None = None
    hall_waiter_grace_seconds: int | None = None

    def registration_deadline_for(self, graduation_year: int) -> dt.date:
        return self.registration_deadline or dt.date(graduation_year, 8, 31)

    def registration_open(self, graduation_year: int, today: dt.date) -> bool:
        return self.registration_reopened or today <= self.registration_deadline_for(graduation_year)

    def termination_open(self, today: dt.date) -> bool:
        return ((self.termination_opens is None or today >= self.termination_opens)
                and (self.termination_closes is None or today <= self.termination_closes))

    def hall_times(self, defaults: Settings) -> HallTimes:
        base = default_hall_times(defaults)
        return HallTimes(
            _or(self.hall_open_minutes, base.open_minutes),
            _or(self.hall_answer_grace_seconds, base.answer_grace_seconds),
            _or(self.hall_waiter_grace_seconds, base.waiter_grace_seconds))


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


FIELDS = tuple(f.name for f in dataclasses.fields(SchoolSettings) if f.name != "school_id")
HALL_COLUMNS = ("hall_open_minutes", "hall_answer_grace_seconds", "hall_waiter_grace_seconds")


async def load(conn: AsyncConnection, school_id: int) -> SchoolSettings:
    row = (await conn.execute(sa.select(ss).where(ss.c.school_id == school_id))).first()
    if row is None:
        return SchoolSettings(school_id)
    return SchoolSettings(school_id, **{name: getattr(row, name) for name in FIELDS})


async def hall_times(conn: AsyncConnection, school_id: int | None, defaults: Settings) -> HallTimes:
    """The hall's times for a student of this school (None: the global defaults)."""
    if school_id is None:
        return default_hall_times(defaults)
    return (await load(conn, school_id)).hall_times(defaults)


async def hall_times_of_account(conn: AsyncConnection, account_id: int,
                                defaults: Settings) -> HallTimes:
    """The hall's times for this student (their school's), in one query: the hall asks on
    every join and every call."""
    row = (await conn.execute(
        sa.select(*(ss.c[name] for name in HALL_COLUMNS))
        .select_from(accounts).outerjoin(ss, ss.c.school_id == accounts.c.school_id)
        .where(accounts.c.id == account_id))).first()
    if row is None:
        return default_hall_times(defaults)
    return SchoolSettings(0, **dict(zip(HALL_COLUMNS, row))).hall_times(defaults)


def may_manage(ident: Identity, school_id: int) -> bool:
    """A school admin manages their own school's settings; a platform admin any school's
    (the platform answers for schools whose admin is away, and every change is audited
    under the platform admin's name in that school's 操作日志)."""
    return (ident.role == Role.PLATFORM_ADMIN
            or (ident.role == Role.SCHOOL_ADMIN and ident.school_id == school_id))


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
                       entity="school_settings", entity_id=school_id, detail=changed,
                       school_id=school_id)
    return after


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value
