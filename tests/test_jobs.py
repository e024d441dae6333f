"""Posting jobs, review before they are public, search with Chinese keywords."""

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from app.clock import china_date
from app.db import Database
from app.tables import audit_log, jobs
from tests.conftest import count, field_error
from tests.factories import PASSWORD
from tests.helpers import published_job
from tests.test_employers import register

FORM = {"title": "Java开发工程师", "kind": "全职", "city": "成都", "salary_min": "9000",
        "salary_max": "16000", "education": "本科", "majors": "计算机科学与技术", "headcount": "5",
        "description": "参与校园招聘系统建设。", "closing_date": ""}


@pytest.fixture
async def employer(make_client, world):
    c = await make_client()
    await c.login("employer", "employer", PASSWORD)
    return c


def titles(html: str) -> list[str]:
    return re.findall(r'<h2><a href="/jobs/\d+">([^<]+)</a>', html)


async def test_post_review_publish_edit_close(employer, make_client, world, settings):
    resp = await employer.post("/employer/jobs/new", FORM)
    assert resp.status == 303
    db = Database(settings.database_url)
    async with db.read() as conn:
        job_id = (await conn.execute(sa.select(jobs.c.id))).scalar_one()
    anon = await make_client()
    assert (await anon.get(f"/jobs/{job_id}")).status == 404  # not public before review
    assert "Java开发工程师" not in await (await anon.get("/jobs")).text()
    admin = await make_client()
    await admin.login("staff", "platform", PASSWORD)
    assert "Java开发工程师" in await (await admin.get("/platform/jobs")).text()
    assert (await admin.post(f"/platform/jobs/{job_id}/review", {"action": "approve"})).status == 303
    page = await (await anon.get(f"/jobs/{job_id}")).text()
    assert "Java开发工程师" in page and "9000-16000元/月" in page and ">投递简历<" in page
    # an edit goes back to review and disappears from the board until approved again
    resp = await employer.post(f"/employer/jobs/{job_id}/edit", {**FORM, "title": "Java高级开发"})
    assert resp.status == 303
    assert (await anon.get(f"/jobs/{job_id}")).status == 404
    await admin.post(f"/platform/jobs/{job_id}/review", {"action": "return", "reason": "薪资写法不规范"})
    mine = await (await employer.get("/employer/jobs")).text()
    assert "已退回" in mine and "薪资写法不规范" in mine
    await employer.post(f"/employer/jobs/{job_id}/edit", {**FORM, "title": "Java高级开发"})
    await admin.post(f"/platform/jobs/{job_id}/review", {"action": "approve"})
    assert (await employer.post(f"/employer/jobs/{job_id}/close")).status == 303
    assert (await anon.get(f"/jobs/{job_id}")).status == 404
    async with db.read() as conn:
        trail = [(r.action, r.from_state, r.to_state) for r in await conn.execute(
            sa.select(audit_log).where(audit_log.c.entity == "job").order_by(audit_log.c.id))]
    await db.dispose()
    assert trail == [("create", None, "pending"), ("job.approve", "pending", "published"),
                     ("job.edit", "published", "pending"), ("job.return", "pending", "returned"),
                     ("job.edit", "returned", "pending"), ("job.approve", "pending", "published"),
                     ("job.close", "published", "closed")]


async def test_bad_job_form_keeps_input(employer, settings):
    resp = await employer.post("/employer/jobs/new", {
        **FORM, "title": "", "kind": "兼职", "salary_min": "20000", "salary_max": "100",
        "headcount": "0", "closing_date": "2000-01-01"})
    assert resp.status == 400
    html = await resp.text()
    assert field_error(html, "title") == "请填写岗位名称"
    assert field_error(html, "kind") == "请选择全职或实习"
    assert field_error(html, "salary_max") == "最高月薪不能低于最低月薪"
    assert field_error(html, "headcount") == "招聘人数应为1到9999之间的整数"
    assert field_error(html, "closing_date") == "截止日期不能早于今天"
    assert 'value="成都"' in html
    assert await count(settings.database_url, jobs) == 0


async def test_another_employer_cannot_edit_or_close(make_client, world, settings, clock):
    job_id = await published_job(settings.database_url, world.employer_id,
                                 world.staff["employer"][1], world.staff["platform"][1], clock.now())
    other = await make_client()
    await register(other)  # a second employer (pending) with its own login
    assert (await other.get(f"/employer/jobs/{job_id}/edit")).status == 404
    assert (await other.post(f"/employer/jobs/{job_id}/close")).status == 404
    assert (await other.get(f"/employer/jobs/{job_id}/applicants")).status == 404


async def test_chinese_keyword_search_filters_and_pages(client, world, settings, clock):
    make = lambda **kw: published_job(settings.database_url, world.employer_id,  # noqa: E731
                                      world.staff["employer"][1], world.staff["platform"][1],
                                      clock.now(), **kw)
    await make(title="软件开发工程师", city="重庆")
    await make(title="财务会计", city="成都", majors="会计学", description="负责账务处理。",
               education="专科")
    await make(title="嵌入式软件实习生", kind="实习", city="重庆市渝北区", description="单片机开发")
    await make(title="过期的软件岗位", closing_date=china_date(clock.now()) - dt.timedelta(days=1))
    html = await (await client.get("/jobs?q=软件")).text()
    assert sorted(titles(html)) == ["嵌入式软件实习生", "软件开发工程师"]
    assert sorted(titles(await (await client.get("/jobs?q=软件 重庆")).text())) == [
        "嵌入式软件实习生", "软件开发工程师"]
    assert titles(await (await client.get("/jobs?q=会计学")).text()) == ["财务会计"]  # by major
    assert titles(await (await client.get("/jobs?q=账务")).text()) == ["财务会计"]    # by description
    assert len(titles(await (await client.get("/jobs?q=测试科技")).text())) == 3       # by employer
    assert titles(await (await client.get("/jobs?q=区块链")).text()) == []
    assert titles(await (await client.get("/jobs?kind=实习")).text()) == ["嵌入式软件实习生"]
    assert titles(await (await client.get("/jobs?city=成都")).text()) == ["财务会计"]
    assert "财务会计" not in titles(await (await client.get("/jobs?education=本科")).text())
    assert titles(await (await client.get("/jobs?q=100%25")).text()) == []  # % is literal
    for i in range(22):
        await make(title=f"批量岗位{i:02d}")
    first = await (await client.get("/jobs?q=批量")).text()
    second = await (await client.get("/jobs?q=批量&page=2")).text()
    assert len(titles(first)) == 20 and len(titles(second)) == 2
    assert not set(titles(first)) & set(titles(second))
    assert 'rel="next"' in first and "第 1 / 2 页" in first
