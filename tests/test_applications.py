"""投递简历: one application per job, the resume as sent, withdraw until viewed, and what
each employer may see."""

import re

import aiohttp
import pytest
import sqlalchemy as sa

from app.clock import china_date
from app.db import Database
from app.tables import applications, audit_log, notices
from tests.conftest import count
from tests.factories import PASSWORD
from tests.helpers import published_job, saved_resume
from tests.test_employers import register


@pytest.fixture
async def job_id(world, settings, clock):
    return await published_job(settings.database_url, world.employer_id, world.staff["employer"][1],
                               world.staff["platform"][1], clock.now())


@pytest.fixture
async def student(make_client, world):
    c = await make_client()
    await c.login("student", world.active_student().email, PASSWORD)
    return c


@pytest.fixture
async def employer(make_client, world):
    c = await make_client()
    await c.login("employer", "employer", PASSWORD)
    return c


async def application_id(settings) -> int:
    db = Database(settings.database_url)
    async with db.read() as conn:
        found = (await conn.execute(sa.select(applications.c.id))).scalar_one()
    await db.dispose()
    return found


async def test_apply_needs_a_default_resume(student, job_id, settings):
    resp = await student.post(f"/jobs/{job_id}/apply")
    assert resp.status == 303 and "error=" in resp.headers["Location"]
    page = await (await student.get(resp.headers["Location"])).text()
    assert "请先在【简历管理】中完善简历并设置默认简历" in page and 'href="/student/resumes"' in page
    assert await count(settings.database_url, applications) == 0


async def test_snapshot_is_what_the_employer_sees_forever(student, employer, job_id, world, settings, clock):
    s = world.active_student()
    await saved_resume(settings.database_url, s.account_id, clock.now(), school="旧学校名")
    resp = await student.post(f"/jobs/{job_id}/apply")
    assert resp.status == 303 and resp.headers["Location"].startswith("/student/applications")
    assert "新投递" in await (await student.get("/student/applications")).text()
    # one application per job
    again = await student.post(f"/jobs/{job_id}/apply")
    assert "你已投递过该岗位" in await (await student.get(again.headers["Location"])).text()
    # the student edits the resume afterwards
    await student.post("/student/resumes/zh/edit", {"basic.name": "改名", "education.0.school": "新学校名",
                                                     "op": "save"})
    listing = await (await employer.get(f"/employer/jobs/{job_id}/applicants")).text()
    assert s.name in listing and "新投递" in listing
    app_id = await application_id(settings)
    page = await (await employer.get(f"/employer/applications/{app_id}")).text()
    assert "旧学校名" in page and "新学校名" not in page and "投递时的版本" in page
    assert "已查看" in await (await student.get("/student/applications")).text()
    assert await count(settings.database_url, notices, notices.c.title.contains("已被查看")) == 1
    # viewed: the student can no longer withdraw
    resp = await student.post(f"/student/applications/{app_id}/withdraw")
    msg = await (await student.get(resp.headers["Location"])).text()
    assert "当前状态为“已查看”，不能执行“撤回”" in msg
    # 不合适
    assert (await employer.post(f"/employer/applications/{app_id}/reject")).status == 303
    assert "不合适" in await (await student.get("/student/applications")).text()
    db = Database(settings.database_url)
    async with db.read() as conn:
        trail = [(r.action, r.from_state, r.to_state) for r in await conn.execute(
            sa.select(audit_log).where(audit_log.c.entity == "application").order_by(audit_log.c.id))]
    await db.dispose()
    assert trail == [("application.view", "new", "viewed"), ("application.reject", "viewed", "rejected")]


async def test_withdraw_before_viewed_and_apply_again(student, job_id, world, settings, clock):
    await saved_resume(settings.database_url, world.active_student().account_id, clock.now())
    await student.post(f"/jobs/{job_id}/apply")
    app_id = await application_id(settings)
    assert (await student.post(f"/student/applications/{app_id}/withdraw")).status == 303
    assert "已撤回" in await (await student.get("/student/applications")).text()
    await student.post(f"/jobs/{job_id}/apply")
    assert await count(settings.database_url, applications, applications.c.status == "new") == 1


async def test_attachment_is_copied_and_only_the_right_employer_reads_it(
        student, employer, make_client, job_id, world, settings):
    form = aiohttp.FormData()
    form.add_field("_csrf", student.csrf())
    form.add_field("file", b"%PDF-1.4 version one", filename="cv.pdf", content_type="application/pdf")
    await student.client.post("/student/resumes/attachments", data=form)
    await student.post(f"/jobs/{job_id}/apply")
    app_id = await application_id(settings)
    page = await (await employer.get(f"/employer/applications/{app_id}")).text()
    copy_url = re.search(r'href="(/files/[^"]+)">下载附件简历', page).group(1)
    # the student deletes the original; the employer's copy stays as sent
    html = await (await student.get("/student/resumes")).text()
    resume_id = re.search(r'/student/resumes/(\d+)/delete', html).group(1)
    await student.post(f"/student/resumes/{resume_id}/delete")
    resp = await employer.get(copy_url)
    assert resp.status == 200 and await resp.read() == b"%PDF-1.4 version one"
    # another employer guessing ids and urls gets nothing
    other = await make_client()
    await register(other)
    assert (await other.get(f"/employer/applications/{app_id}")).status == 404
    assert (await other.post(f"/employer/applications/{app_id}/reject")).status == 404
    assert (await other.get(copy_url)).status == 404
    assert (await other.get(f"/employer/jobs/{job_id}/applicants")).status == 404
    # another student neither
    peer = await make_client()
    await peer.login("student", world.active_student(1).email, PASSWORD)
    assert (await peer.get(copy_url)).status == 404
    assert (await peer.post(f"/student/applications/{app_id}/withdraw")).headers["Location"].endswith(
        "error=%E8%AE%B0%E5%BD%95%E4%B8%8D%E5%AD%98%E5%9C%A8")
    assert await count(settings.database_url, applications, applications.c.status == "viewed") == 1


async def test_closed_or_expired_jobs_take_no_applications(student, employer, job_id, world,
                                                           settings, clock):
    await saved_resume(settings.database_url, world.active_student().account_id, clock.now())
    await employer.post(f"/employer/jobs/{job_id}/close")
    resp = await student.post(f"/jobs/{job_id}/apply")
    assert "error=" in resp.headers["Location"]
    expired = await published_job(settings.database_url, world.employer_id, world.staff["employer"][1],
                                  world.staff["platform"][1], clock.now(),
                                  closing_date=china_date(clock.now()))
    clock.advance(days=1)
    resp = await student.post(f"/jobs/{expired}/apply")
    assert "error=" in resp.headers["Location"]
    assert await count(settings.database_url, applications) == 0
