"""Test data built through the app's own services, with valid generated ID numbers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from app.auth import service as accounts
from app.db import Database
from app.roles import Role
from app.students.parsing import RecordIn
from app.students.service import upsert
from app.tables import colleges, employers, majors, schools, student_records
from app.validators import make_id_number, uscc_check_char

from app.security import hash_password

PASSWORD = "Passw0rd!x"
# argon2 is slow on purpose; hash the shared test password once per run.
PASSWORD_HASH = hash_password(PASSWORD)


def credit_code(n: int) -> str:
    first17 = f"91500000{n:09d}"
    return first17 + uscc_check_char(first17)


@dataclass
class SchoolData:
    id: int
    code: str
    name: str
    college_ids: list[int] = field(default_factory=list)
    major_ids: list[int] = field(default_factory=list)


@dataclass
class StudentData:
    record_id: int
    school_id: int
    student_no: str
    name: str
    id_number: str
    email: str | None = None
    phone: str | None = None
    account_id: int | None = None


@dataclass
class World:
    schools: list[SchoolData]
    students: list[StudentData]          # [0] of each school is active, the rest are not
    staff: dict[str, tuple[str, int]]    # key → (username, account id)
    employer_id: int = 0

    def active_student(self, school: int = 0) -> StudentData:
        return next(s for s in self.students
                    if s.school_id == self.schools[school].id and s.account_id)

    def inactive_student(self, school: int = 0) -> StudentData:
        return next(s for s in self.students
                    if s.school_id == self.schools[school].id and not s.account_id)


async def build_world(database_url: str, now: dt.datetime) -> World:
    db = Database(database_url)
    try:
        async with db.write() as conn:
            world = World(schools=[], students=[], staff={})
            for si, (code, name) in enumerate((("10001", "第一测试大学"), ("10002", "第二测试学院"))):
                sid = (await conn.execute(schools.insert().values(code=code, name=name)
                                          .returning(schools.c.id))).scalar_one()
                sd = SchoolData(id=sid, code=code, name=name)
                for ci, cname in enumerate(("信息学院", "商学院")):
                    cid = (await conn.execute(colleges.insert().values(
                        school_id=sid, code=f"0{ci + 1}", name=cname).returning(colleges.c.id))).scalar_one()
                    mid = (await conn.execute(majors.insert().values(
                        college_id=cid, code=f"M{ci + 1}", name=("软件工程", "会计学")[ci])
                        .returning(majors.c.id))).scalar_one()
                    sd.college_ids.append(cid)
                    sd.major_ids.append(mid)
                world.schools.append(sd)
                records = []
                for i in range(3):
                    records.append(RecordIn(
                        row=i + 2, student_no=f"S{si}{i:03d}", name=f"学生{si}{i}",
                        id_number=make_id_number("110101", dt.date(2002, 3, 1 + i + si * 5), 11 + i * 2),
                        gender="1", college_id=sd.college_ids[0], major_id=sd.major_ids[0],
                        education="本科生", graduation_year=2026, class_name="1班"))
                await upsert(conn, sid, records, now)
                for i, r in enumerate(records):
                    rid = (await conn.execute(student_records.select().where(
                        student_records.c.school_id == sid,
                        student_records.c.student_no == r.student_no))).one().id
                    st = StudentData(record_id=rid, school_id=sid, student_no=r.student_no,
                                     name=r.name, id_number=r.id_number)
                    if i == 0:
                        st.email, st.phone = f"s{si}@test.example.cn", f"1390000{si:04d}"
                        st.account_id = await accounts.create_account(
                            conn, role=Role.STUDENT, username=None, password=None,
                            password_hash=PASSWORD_HASH, display_name=r.name, now=now,
                            email=st.email, phone=st.phone, school_id=sid,
                            college_id=sd.college_ids[0])
                        await conn.execute(student_records.update().where(
                            student_records.c.id == rid).values(account_id=st.account_id))
                    world.students.append(st)
                for role, key, college in ((Role.SCHOOL_ADMIN, "school_admin", None),
                                           (Role.COUNSELOR, "counselor", sd.college_ids[0])):
                    username = f"{key}{si}"
                    aid = await accounts.create_account(
                        conn, role=role, username=username, password=None, password_hash=PASSWORD_HASH,
                        display_name=username, now=now, email=f"{username}@test.example.cn",
                        school_id=sid, college_id=college)
                    world.staff[f"{key}{si}"] = (username, aid)
            aid = await accounts.create_account(
                conn, role=Role.PLATFORM_ADMIN, username="platform", password_hash=PASSWORD_HASH,
                password=None,
                display_name="平台", now=now, email="platform@test.example.cn")
            world.staff["platform"] = ("platform", aid)
            world.employer_id = (await conn.execute(employers.insert().values(
                name="测试科技有限公司", credit_code=credit_code(1), status="approved",
                created_at=now).returning(employers.c.id))).scalar_one()
            aid = await accounts.create_account(
                conn, role=Role.EMPLOYER, username="employer", password=None,
                password_hash=PASSWORD_HASH,
                display_name="测试科技有限公司", now=now, email="hr@test.example.cn",
                employer_id=world.employer_id)
            world.staff["employer"] = ("employer", aid)
            return world
    finally:
        await db.dispose()
