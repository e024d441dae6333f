"""Several booths on one day with the same students invited at each: a 双选会 where a
student holds places at two or three employers. Built through the app's own services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa

from app.applications import service as applications
from app.auth import service as accounts
from app.db import Database
from app.interviews import service as interviews
from app.roles import Role
from app.tables import employers
from app.uploads import FileStore
from tests.factories import PASSWORD_HASH, StudentData, credit_code
from tests.helpers import published_job, saved_resume

EMPLOYER_NAMES = ("示例科技有限公司", "山城会计师事务所", "巴渝建设集团")


@dataclass
class BoothData:
    employer_id: int
    name: str
    username: str            # the employer's login
    account_id: int
    job_id: int
    session_id: int = 0
    interview_ids: list[int] = field(default_factory=list)  # one per student, in order


@dataclass
class Booths:
    students: list[StudentData]
    booths: list[BoothData]

    def interview(self, booth: int, student: int) -> int:
        return self.booths[booth].interview_ids[student]


async def students_for(world, database_url: str, now: dt.datetime, count: int) -> list[StudentData]:  # noqa: ANN001
    """`count` activated students: the world's active ones first, then activate others."""
    active = [s for s in world.students if s.account_id]
    spare = [s for s in world.students if not s.account_id]
    db = Database(database_url)
    try:
        async with db.write() as conn:
            while len(active) < count:
                s = spare.pop(0)
                s.email, s.phone = f"{s.student_no.lower()}@test.example.cn", f"1390001{len(active):04d}"
                s.account_id = await accounts.activate(conn, record_id=s.record_id, email=s.email,
                                                       phone=s.phone, password_hash=PASSWORD_HASH,
                                                       now=now)
                active.append(s)
    finally:
        await db.dispose()
    return active[:count]


async def _employer(database_url: str, now: dt.datetime, i: int) -> tuple[int, str, int]:
    db = Database(database_url)
    try:
        async with db.write() as conn:
            eid = (await conn.execute(employers.insert().values(
                name=EMPLOYER_NAMES[i], credit_code=credit_code(10 + i), status="approved",
                created_at=now).returning(employers.c.id))).scalar_one()
            username = f"booth{i}"
            aid = await accounts.create_account(
                conn, role=Role.EMPLOYER, username=username, password=None,
                password_hash=PASSWORD_HASH, display_name=EMPLOYER_NAMES[i], now=now,
                email=f"{username}@test.example.cn", employer_id=eid)
            return eid, username, aid
    finally:
        await db.dispose()


async def build_booths(world, settings, clock, booths: int = 2, students: int = 2,  # noqa: ANN001
                       first_in: dt.timedelta = dt.timedelta(minutes=1),
                       minutes: int = 5) -> Booths:
    """`booths` employers (new ones, named EMPLOYER_NAMES), each with a job every student
    applied to and an invitation for each student in consecutive `minutes` slots from
    `first_in` from now, in the students' order (student 0 first at every booth)."""
    now = clock.now()
    url = settings.database_url
    people = await students_for(world, url, now, students)
    for s in people:
        await saved_resume(url, s.account_id, now, name=s.name)
    made = []
    for i in range(booths):
        eid, username, aid = await _employer(url, now, i)
        job_id = await published_job(url, eid, aid, world.staff["platform"][1], now,
                                     title=f"岗位{i + 1}")
        made.append(BoothData(eid, EMPLOYER_NAMES[i], username, aid, job_id))
    db = Database(url)
    try:
        for b in made:
            app_ids = []
            async with db.write() as conn:
                for s in people:
                    app_ids.append(await applications.apply(
                        conn, FileStore(settings.data_dir), job_id=b.job_id,
                        account_id=s.account_id, now=now))
                b.interview_ids = await interviews.invite(
                    conn, employer_id=b.employer_id, application_ids=app_ids, first=now + first_in,
                    minutes=minutes, note="", actor_id=b.account_id, now=now,
                    base_url=settings.public_base_url)
                b.session_id = (await conn.execute(
                    sa.select(interviews.interviews.c.session_id)
                    .where(interviews.interviews.c.id == b.interview_ids[0]))).scalar_one()
    finally:
        await db.dispose()
    return Booths(people, made)
