"""Small builders used by several test modules (through the app's own services)."""

from __future__ import annotations

import datetime as dt
import io

from PIL import Image

from app.db import Database
from app.jobs import service as jobs
from app.jobs.service import JobInput
from app.resumes import service as resumes
from app.roles import Role


def job_input(title: str = "软件开发工程师", **changes) -> JobInput:
    values = dict(title=title, kind="全职", city="重庆", salary_min=8000, salary_max=15000,
                  education="本科", majors="软件工程、计算机科学与技术", headcount=3,
                  description="负责就业平台后端开发，熟悉 Python。", closing_date=None)
    values.update(changes)
    return JobInput(**values)


async def published_job(database_url: str, employer_id: int, actor_id: int, admin_id: int,
                        now: dt.datetime, **changes) -> int:
    db = Database(database_url)
    try:
        async with db.write() as conn:
            job_id = await jobs.create(conn, employer_id, job_input(**changes), actor_id=actor_id,
                                       now=now)
            await jobs.review(conn, job_id, "approve", actor_id=admin_id, reason=None, now=now)
        return job_id
    finally:
        await db.dispose()


def resume_data(name: str = "学生", school: str = "第一测试大学") -> dict:
    return {"basic": {"name": name, "gender": "男", "birth": "2003-05", "phone": "", "email": "",
                      "objective": "后端开发", "city": "重庆"},
            "education": [{"school": school, "major": "软件工程", "degree": "本科",
                           "start": "2022-09", "end": "2026-06"}],
            "experience": [], "projects": [], "skills": [{"skill": "Python", "level": "熟练"}],
            "certificates": [], "awards": [], "self_evaluation": {"text": "踏实肯干"}}


async def saved_resume(database_url: str, account_id: int, now: dt.datetime, **kw) -> int:
    db = Database(database_url)
    try:
        async with db.write() as conn:
            return await resumes.save_structured(conn, account_id, "zh", resume_data(**kw), now)
    finally:
        await db.dispose()


def jpeg_with_gps() -> bytes:
    """A JPEG whose EXIF carries a GPS position, as a phone photo would."""
    img = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "TestPhone"  # Make
    gps = {1: "N", 2: (29.0, 33.0, 0.0), 3: "E", 4: (106.0, 33.0, 0.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


STAFF_ROLE = Role.PLATFORM_ADMIN
