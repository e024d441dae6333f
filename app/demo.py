"""Demo data: one school with colleges, students, staff and an approved employer with a job,
so a newcomer can try every role at once. Numbers are generated with the check-digit
rules; none belongs to a real person or company."""

from __future__ import annotations

import datetime as dt
import io

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from . import files
from .applications import service as applications
from .clock import china_date
from .interviews import service as interviews
from .interviews.rules import MIN_MINUTES, china_datetime
from .auth import service as accounts_service
from .db import Database
from .resumes import service as resumes
from .registration import demo as registration_demo
from .reviews.origin import demo as review_demo
from .signing import demo as signing_demo
from .roles import Role
from .security import hash_password
from .students.parsing import RecordIn
from .students.service import upsert
from .tables import accounts, colleges, employers, jobs, majors, schools, student_records
from .tables import applications as applications_table
from .uploads import FileStore
from .validators import USCC_ALPHABET, make_id_number, uscc_check_char

PASSWORD = "Demo12345"
SCHOOL = ("90001", "示例大学")
COLLEGES = {
    ("01", "计算机学院"): [("080901", "计算机科学与技术"), ("080902", "软件工程")],
    ("02", "经济管理学院"): [("120203K", "会计学"), ("120202", "市场营销")],
}
SURNAMES = "王李张刘陈杨赵黄周吴"
GIVEN = ["子涵", "欣怡", "浩然", "梓萱", "宇轩", "雨桐", "俊杰", "诗琪", "博文", "佳怡"]
ACTIVATED = 5  # the first students already have accounts; the rest can try 学生激活


def demo_credit_code(seed: int) -> str:
    first17 = "91500000" + "".join(USCC_ALPHABET[(seed * 7 + i * 3) % 10] for i in range(9))
    return first17 + uscc_check_char(first17)


def graduating_year(now: dt.datetime) -> int:
    """The class that graduates in the academic year around `now` (September to August), so
    the demo's deadlines (就业信息登记 until 31 August) are open whenever it is loaded."""
    return now.year + 1 if now.month >= 9 else now.year


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


async def load(db: Database, store: FileStore, now: dt.datetime,
               base_url: str = "http://127.0.0.1:8080") -> None:
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
        job_ids = await _employers(conn, store, now)
        await _resumes_and_applications(conn, store, job_ids, now)
        await _interviews(conn, job_ids[0], now, base_url)
        await review_demo.load_origins(conn, school_id, now)
        student_nos = [s["student_no"] for s in demo_students()]
        await signing_demo.load(conn, school_id, student_nos, now)
        await registration_demo.load_demo(conn, now, student_nos[4])


async def _students(conn: AsyncConnection, school_id: int, college_ids: list[int],
                    major_ids: list[list[int]], now: dt.datetime) -> None:
    records = []
    for i, s in enumerate(demo_students()):
        c = s["college"]
        records.append(RecordIn(
            row=i + 2, student_no=s["student_no"], name=s["name"], id_number=s["id_number"],
            gender="1" if int(s["id_number"][16]) % 2 else "2", college_id=college_ids[c],
            major_id=major_ids[c][i % 2], education="本科生", graduation_year=graduating_year(now),
            class_name=f"{graduating_year(now) - 4}级{i % 3 + 1}班"))
    await upsert(conn, school_id, records, now)
    password_hash = hash_password(PASSWORD)  # one hash for every demo student
    for i, s in enumerate(demo_students()[:ACTIVATED]):
        record_id = (await conn.execute(sa.select(student_records.c.id).where(
            student_records.c.student_no == s["student_no"]))).scalar_one()
        await accounts_service.activate(conn, record_id=record_id,
                                        email=f"student{i + 1}@demo.example.cn",
                                        phone=f"1380000{i + 1:04d}", password_hash=password_hash,
                                        now=now)


async def _staff(conn: AsyncConnection, school_id: int, college_id: int, now: dt.datetime) -> None:
    for role, username, name, college in (
            (Role.PLATFORM_ADMIN, "demo_admin", "平台管理员", None),
            (Role.SCHOOL_ADMIN, "demo_school", "示例大学就业指导中心", None),
            (Role.COUNSELOR, "demo_counselor", "计算机学院辅导员", college_id)):
        await accounts_service.create_account(
            conn, role=role, username=username, password=PASSWORD, display_name=name, now=now,
            email=f"{username}@demo.example.cn",
            school_id=None if role == Role.PLATFORM_ADMIN else school_id, college_id=college)


EMPLOYERS = [
    # name, username, nature, industry, location, approved, jobs
    ("示例科技有限公司", "demo_employer", "39", "34", "重庆市渝北区", True, [
        ("后端开发工程师", "全职", "重庆", 9000, 16000, "本科", "计算机科学与技术、软件工程",
         "负责招聘平台后端服务的开发与维护，熟悉 Python 或 Java。"),
        ("前端开发实习生", "实习", "重庆", 3000, 4500, "本科", "软件工程",
         "参与校园招聘小程序与网页的开发，每周到岗不少于4天。"),
        ("数据分析师", "全职", "成都", 8000, 12000, "硕士", "统计学、计算机科学与技术",
         "负责毕业生就业数据的统计、分析与可视化报告。"),
    ]),
    ("山城会计师事务所", "demo_employer2", "39", "37", "重庆市渝中区", True, [
        ("审计助理", "全职", "重庆", 6000, 9000, "本科", "会计学、审计学",
         "协助项目经理完成年度审计工作，需持有或正在备考注册会计师。"),
        ("市场专员", "全职", "重庆", 5500, 8000, "专科", "市场营销",
         "负责校园市场活动的策划与执行。"),
    ]),
    ("巴渝智能制造股份有限公司", "demo_employer3", "31", "22", "重庆市两江新区", False, []),
]


def demo_licence() -> bytes:
    from PIL import Image, ImageDraw
    img = Image.new("RGB", (480, 320), (250, 246, 230))
    ImageDraw.Draw(img).rectangle((12, 12, 468, 308), outline=(180, 40, 40), width=6)
    out = io.BytesIO()
    img.save(out, format="JPEG")
    return out.getvalue()


async def _employers(conn: AsyncConnection, store: FileStore, now: dt.datetime) -> list[int]:
    job_ids = []
    licence = demo_licence()
    for seed, (name, username, nature, industry, location, approved, job_list) in enumerate(EMPLOYERS, 1):
        employer_id = (await conn.execute(employers.insert().values(
            name=name, credit_code=demo_credit_code(seed), created_at=now, updated_at=now,
            status="approved" if approved else "pending", nature=nature, industry=industry,
            location=location, contact_name="招聘负责人", contact_phone=f"023-6{seed}000000",
            contact_email=f"hr{seed}@demo-employer.example.cn").returning(employers.c.id))).scalar_one()
        account_id = await accounts_service.create_account(
            conn, role=Role.EMPLOYER, username=username, password=PASSWORD, display_name=name,
            now=now, email=f"hr{seed}@demo-employer.example.cn", employer_id=employer_id)
        file_id = await files.save(conn, store, owner_id=account_id, kind=files.FileKind.LICENCE,
                                   display_name="营业执照.jpg", content_type="image/jpeg",
                                   data=licence, now=now)
        await conn.execute(employers.update().where(employers.c.id == employer_id)
                           .values(licence_file_id=file_id))
        for title, kind, city, low, high, education, major_text, description in job_list:
            job_ids.append((await conn.execute(jobs.insert().values(
                employer_id=employer_id, title=title, kind=kind, city=city, salary_min=low,
                salary_max=high, education=education, majors=major_text, headcount=3,
                description=description, status="published", created_at=now, updated_at=now)
                .returning(jobs.c.id))).scalar_one())
    return job_ids


async def _resumes_and_applications(conn: AsyncConnection, store: FileStore, job_ids: list[int],
                                    now: dt.datetime) -> None:
    for i, s in enumerate(demo_students()[:ACTIVATED]):
        account_id = (await conn.execute(sa.select(student_records.c.account_id).where(
            student_records.c.student_no == s["student_no"]))).scalar_one()
        major = "计算机科学与技术" if s["college"] == 0 else "会计学"
        data = {
            "basic": {"name": s["name"], "gender": "", "birth": "2003-0%d" % (i + 1), "phone": "",
                      "email": f"student{i + 1}@demo.example.cn", "objective": "软件开发",
                      "city": "重庆"},
            "education": [{"school": SCHOOL[1], "major": major, "degree": "本科",
                           "start": f"{graduating_year(now) - 4}-09",
                           "end": f"{graduating_year(now)}-06"}],
            "experience": [{"org": "示例科技有限公司", "role": "实习生", "start": "2025-07",
                            "end": "2025-08", "detail": "参与内部系统的测试与文档编写。"}],
            "projects": [], "skills": [{"skill": "Python", "level": "熟练"}],
            "certificates": [{"title": "大学英语六级", "date": "2024-06"}], "awards": [],
            "self_evaluation": {"text": "学习能力强，做事认真负责。"}}
        await resumes.save_structured(conn, account_id, "zh", data, now)
        if i < 2:
            for job_id in job_ids[:2]:
                await applications.apply(conn, store, job_id=job_id, account_id=account_id, now=now)


DEMO_INTERVIEW_MINUTES = 15


def demo_interview_times(now: dt.datetime, count: int) -> tuple[dt.datetime, int]:
    """(first start, minutes each) of the demo's consecutive interviews. Normally 5 minutes
    after loading, 15 minutes each: the hall opens (10 minutes before, by default) at once.

    An interview must end on its own China day, so late in the evening the slots are
    shortened to what is left of the day while each keeps the minimum length (loaded by
    about 23:45): the hall can still be tried at once. Later than that they start at 00:00
    the next day, whose hall opens at 23:50, a wait of minutes: better than putting them on
    the next working day, when whoever loaded the demo would have to come back tomorrow."""
    first = now + dt.timedelta(minutes=5)
    midnight = china_datetime(china_date(first) + dt.timedelta(days=1), dt.time(0))
    if first + dt.timedelta(minutes=DEMO_INTERVIEW_MINUTES * count) <= midnight:
        return first, DEMO_INTERVIEW_MINUTES
    fitting = int((midnight - first).total_seconds()) // 60 // count
    if fitting >= MIN_MINUTES:
        return first, fitting
    return midnight, DEMO_INTERVIEW_MINUTES


async def _interviews(conn: AsyncConnection, job_id: int, now: dt.datetime, base_url: str) -> None:
    """Two video interviews a few minutes after loading, so the hall can be tried at once."""
    employer_id, employer_account = (await conn.execute(
        sa.select(jobs.c.employer_id, accounts.c.id)
        .join(accounts, accounts.c.employer_id == jobs.c.employer_id)
        .where(jobs.c.id == job_id))).one()
    app_ids = list((await conn.execute(sa.select(applications_table.c.id).where(
        applications_table.c.job_id == job_id).order_by(applications_table.c.id))).scalars())
    first, minutes = demo_interview_times(now, len(app_ids))
    await interviews.invite(conn, employer_id=employer_id, application_ids=app_ids,
                            first=first, minutes=minutes,
                            note="请准备3分钟自我介绍。", actor_id=employer_account, now=now,
                            base_url=base_url)


def logins_text() -> str:
    students = demo_students()
    fresh = students[ACTIVATED]
    return "\n".join([
        "演示账号（密码均为 %s）：" % PASSWORD,
        f"  学生      【我是学生】 学校 {SCHOOL[1]}，学号 {students[0]['student_no']}"
        f"（或邮箱 student1@demo.example.cn）",
        f"  学生激活  【学生激活】 学校 {SCHOOL[1]}，学号 {fresh['student_no']}，"
        f"姓名 {fresh['name']}，身份证号 {fresh['id_number']}",
        "  用人单位  【我是单位】 demo_employer（另有 demo_employer2；demo_employer3 待平台审核）",
        "  辅导员    管理人员登录 demo_counselor",
        "  学校管理员 管理人员登录 demo_school",
        "  平台管理员 管理人员登录 demo_admin（邮件发件箱在平台管理中心）",
        "视频面试：载入演示数据约5分钟后（近午夜载入则在次日 00:00），"
        "学号 2022010001 和 2022020002 的两名学生各有一场面试。",
        "  学生：【我是学生】→【我的面试】→【查看面试邀请】→【洽谈面试大厅】（提前10分钟开放）",
        "  单位：demo_employer → 单位中心 → 面试日程 → 进入面试间（用两个浏览器窗口分别登录）",
        f"签约中心：学号 {students[0]['student_no']} 的生源信息已审核通过，【签约中心】先做手机认证"
        "（验证码在平台管理员的短信发件箱），demo_employer 的线上签约邀请待应约；",
        f"  学号 {students[2]['student_no']} 已有一份生效的就业协议书（demo_employer2），可试解约；",
        f"  学号 {students[4]['student_no']} 的就业信息登记（升学）已审核通过。",
    ])
