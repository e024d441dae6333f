"""Demo data: one school with colleges, students, staff and an approved employer with a job,
so a newcomer can try every role at once. Numbers are generated with the check-digit
rules; none belongs to a real person or company."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .auth import service as accounts_service
from .db import Database
from .reviews import demo as review_demo
from .roles import Role
from .students.parsing import RecordIn
from .students.service import upsert
from .tables import colleges, employers, jobs, majors, schools, student_records
from .validators import USCC_ALPHABET, make_id_number, uscc_check_char

PASSWORD = "Demo12345"
SCHOOL = ("90001", "示例大学")
COLLEGES = {
    ("01", "计算机学院"): [("080901", "计算机科学与技术"), ("080902", "软件工程")],
    ("02", "经济管理学院"): [("120203K", "会计学"), ("120202", "市场营销")],
}
SURNAMES = "王李张刘陈杨赵黄周吴"
GIVEN = ["子涵", "欣怡", "浩然", "梓萱", "宇轩", "雨桐", "俊杰", "诗琪", "博文", "佳怡"]
ACTIVATED = 3  # the first students already have accounts; the rest can try 学生激活


def demo_credit_code(seed: int) -> str:
    first17 = "91500000" + "".join(USCC_ALPHABET[(seed * 7 + i * 3) % 10] for i in range(9))
    return first17 + uscc_check_char(first17)


def demo_students() -> list[dict[str, str]]:
    out = []
    for i in range(20):
        college = i % 2
        out.append({
            "student_no": f"2022{college + 1:02d}{i + 1:04d}",
            "name": SURNAMES[i % 10] + GIVEN[(i * 3) % 10],
            "id_number": make_id_number("500103", dt.date(2003, 1 + i % 12, 1 + i), 100 + i * 2 + i % 2),
            "college": college,
        })
    return out


async def is_empty(db: Database) -> bool:
    async with db.read() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(schools))).scalar_one() == 0


async def load(db: Database, now: dt.datetime) -> None:
    async with db.write() as conn:
        school_id = (await conn.execute(schools.insert().values(
            code=SCHOOL[0], name=SCHOOL[1]).returning(schools.c.id))).scalar_one()
        college_ids, major_ids = [], []
        for (code, name), major_list in COLLEGES.items():
            cid = (await conn.execute(colleges.insert().values(
                school_id=school_id, code=code, name=name).returning(colleges.c.id))).scalar_one()
            college_ids.append(cid)
            mids = [(await conn.execute(majors.insert().values(
                college_id=cid, code=m_code, name=m_name).returning(majors.c.id))).scalar_one()
                for m_code, m_name in major_list]
            major_ids.append(mids)
        await _students(conn, school_id, college_ids, major_ids, now)
        await _staff(conn, school_id, college_ids[0], now)
        await _employer(conn, now)
        await review_demo.load_origins(conn, school_id, now)


async def _students(conn: AsyncConnection, school_id: int, college_ids: list[int],
                    major_ids: list[list[int]], now: dt.datetime) -> None:
    records = []
    for i, s in enumerate(demo_students()):
        c = s["college"]
        records.append(RecordIn(
            row=i + 2, student_no=s["student_no"], name=s["name"], id_number=s["id_number"],
            gender="1" if int(s["id_number"][16]) % 2 else "2", college_id=college_ids[c],
            major_id=major_ids[c][i % 2], education="本科生", graduation_year=2026,
            class_name=f"{2022}级{i % 3 + 1}班"))
    await upsert(conn, school_id, records, now)
    for i, s in enumerate(demo_students()[:ACTIVATED]):
        record_id = (await conn.execute(sa.select(student_records.c.id).where(
            student_records.c.student_no == s["student_no"]))).scalar_one()
        await accounts_service.activate(conn, record_id=record_id,
                                        email=f"student{i + 1}@demo.example.cn",
                                        phone=f"1380000{i + 1:04d}", password=PASSWORD, now=now)


async def _staff(conn: AsyncConnection, school_id: int, college_id: int, now: dt.datetime) -> None:
    for role, username, name, college in (
            (Role.PLATFORM_ADMIN, "demo_admin", "平台管理员", None),
            (Role.SCHOOL_ADMIN, "demo_school", "示例大学就业指导中心", None),
            (Role.COUNSELOR, "demo_counselor", "计算机学院辅导员", college_id)):
        await accounts_service.create_account(
            conn, role=role, username=username, password=PASSWORD, display_name=name, now=now,
            email=f"{username}@demo.example.cn",
            school_id=None if role == Role.PLATFORM_ADMIN else school_id, college_id=college)


async def _employer(conn: AsyncConnection, now: dt.datetime) -> None:
    employer_id = (await conn.execute(employers.insert().values(
        name="示例科技有限公司", credit_code=demo_credit_code(1), status="approved",
        created_at=now).returning(employers.c.id))).scalar_one()
    await accounts_service.create_account(
        conn, role=Role.EMPLOYER, username="demo_employer", password=PASSWORD,
        display_name="示例科技有限公司", now=now, email="hr@demo-tech.example.cn",
        employer_id=employer_id)
    await conn.execute(jobs.insert().values(
        employer_id=employer_id, title="后端开发工程师", kind="全职", city="重庆",
        description="负责招聘平台后端服务的开发与维护。", status="published", created_at=now))


def logins_text() -> str:
    students = demo_students()
    fresh = students[ACTIVATED]
    return "\n".join([
        "演示账号（密码均为 %s）：" % PASSWORD,
        f"  学生      【我是学生】 学校 {SCHOOL[1]}，学号 {students[0]['student_no']}"
        f"（或邮箱 student1@demo.example.cn）",
        f"  学生激活  【学生激活】 学校 {SCHOOL[1]}，学号 {fresh['student_no']}，"
        f"姓名 {fresh['name']}，身份证号 {fresh['id_number']}",
        "  用人单位  【我是单位】 demo_employer",
        "  辅导员    管理人员登录 demo_counselor",
        "  学校管理员 管理人员登录 demo_school",
        "  平台管理员 管理人员登录 demo_admin（邮件发件箱在平台管理中心）",
    ])
