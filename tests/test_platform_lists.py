"""单位审核 and 岗位审核 on the list component: state tabs (待审核 by default, 全部 on
request), each filter keeping exactly the rows a plain filter keeps, sorting, and bad
values answered next to their field."""

from __future__ import annotations

import datetime as dt
import re

from app.db import Database
from app.tables import employers, interview_sessions, jobs
from tests.conftest import field_error
from tests.factories import PASSWORD, credit_code

NATURES = ("10", "20", "30")
STATES = ("pending", "approved", "returned")


async def seed(database_url: str, now: dt.datetime) -> list[dict]:
    made = []
    db = Database(database_url)
    try:
        async with db.write() as conn:
            for i in range(30):
                row = dict(name=f"列表单位{i:02d}", credit_code=credit_code(100 + i),
                           status=STATES[i % 3], nature=NATURES[i % 3 - 1 if i % 2 else 0],
                           created_at=now - dt.timedelta(days=i), contact_email=f"hr{i}@list.example.cn")
                eid = (await conn.execute(employers.insert().values(**row)
                                          .returning(employers.c.id))).scalar_one()
                await conn.execute(jobs.insert().values(
                    employer_id=eid, title=f"岗位{i:02d}", kind="全职" if i % 2 else "实习",
                    city="重庆", description="…", status=("pending", "published")[i % 2],
                    created_at=now, updated_at=now - dt.timedelta(hours=i)))
                made.append({**row, "id": eid, "job_kind": "全职" if i % 2 else "实习",
                             "job_status": ("pending", "published")[i % 2]})
        return made
    finally:
        await db.dispose()


def names(page: str, link: str) -> list[str]:
    return re.findall(rf'<a href="/platform/{link}/\d+[^"]*">([^<]+)</a>', page)


async def test_employer_and_job_review_lists_filter_and_sort(make_client, world, settings, clock):
    made = await seed(settings.database_url, clock.now())
    admin = await make_client()
    await admin.login("staff", world.staff["platform"][0], PASSWORD)
    page = await (await admin.get("/platform/employers", params={"size": "100"})).text()
    # 待审核 by default; 全部 (state=) shows every state
    assert set(names(page, "employers")) >= {m["name"] for m in made if m["status"] == "pending"}
    assert not set(names(page, "employers")) & {m["name"] for m in made if m["status"] != "pending"}
    for query, keep in (({"state": "", "nature": "20"}, lambda m: m["nature"] == "20"),
                        ({"state": "returned", "q": "列表单位1"},
                         lambda m: m["status"] == "returned" and "列表单位1" in m["name"])):
        page = await (await admin.get("/platform/employers", params={**query, "size": "100"})).text()
        assert sorted(n for n in names(page, "employers") if n.startswith("列表")) == sorted(
            m["name"] for m in made if keep(m)), query
    page = await (await admin.get("/platform/employers",
                                  params={"state": "approved", "sort": "-name", "size": "100"})).text()
    listed = [n for n in names(page, "employers") if n.startswith("列表")]
    assert listed == sorted((m["name"] for m in made if m["status"] == "approved"), reverse=True)
    resp = await admin.get("/platform/employers", params={"nature": "xx", "registered_from": "2026-13-01"})
    page = await resp.text()
    assert resp.status == 400 and field_error(page, "nature") == "请选择列表中的单位性质"
    assert field_error(page, "registered_from") == "请输入日期，如 2026-06-30"
    # 岗位审核: 待审核 by default, the oldest submission first; 类型 narrows
    page = await (await admin.get("/platform/jobs", params={"size": "100"})).text()
    pending = [m for m in made if m["job_status"] == "pending"]
    listed = [n for n in names(page, "jobs") if n.startswith("岗位")]
    assert listed == [f"岗位{i:02d}" for i in sorted((int(m["name"][-2:]) for m in pending), reverse=True)]
    page = await (await admin.get("/platform/jobs", params={"state": "published", "kind": "全职",
                                                            "size": "100"})).text()
    assert sorted(n for n in names(page, "jobs") if n.startswith("岗位")) == sorted(
        f"岗位{m['name'][-2:]}" for m in made if m["job_status"] == "published" and m["job_kind"] == "全职")


async def test_hall_reports_filter_by_day_state_and_employer(make_client, world, settings, clock):
    db = Database(settings.database_url)
    first = dt.date(2026, 5, 1)
    made = []
    try:
        async with db.write() as conn:
            for i in range(12):
                day = first + dt.timedelta(days=i)
                at = dt.datetime.combine(day, dt.time(1), dt.timezone.utc)
                status = ("ended", "closed", "scheduled")[i % 3]
                sid = (await conn.execute(interview_sessions.insert().values(
                    employer_id=world.employer_id, day=day, starts_at=at,
                    ends_at=at + dt.timedelta(hours=2), status=status, created_at=at)
                    .returning(interview_sessions.c.id))).scalar_one()
                made.append((sid, day, status))
    finally:
        await db.dispose()
    admin = await make_client()
    await admin.login("staff", world.staff["platform"][0], PASSWORD)

    async def listed(**query: str) -> list[int]:
        page = await (await admin.get("/monitor/reports", params=query)).text()
        return [int(n) for n in re.findall(r'href="/monitor/reports/(\d+)"', page)]
    # the newest day first; both ends of a day range included (calendar dates)
    assert await listed() == [sid for sid, _, _ in reversed(made)]
    got = await listed(day_from="2026-05-03", day_to="2026-05-05", sort="day")
    assert got == [sid for sid, day, _ in made if dt.date(2026, 5, 3) <= day <= dt.date(2026, 5, 5)]
    assert sorted(await listed(status="closed")) == [sid for sid, _, s in made if s == "closed"]
    assert await listed(q="没有这家单位") == []


async def test_an_employer_decision_says_so_and_offers_the_next_of_the_same_list(
        make_client, world, settings, clock):
    made = await seed(settings.database_url, clock.now())
    # 待审核, the oldest registration first: the list the admin works down
    pending = [m["id"] for m in sorted((m for m in made if m["status"] == "pending"),
                                       key=lambda m: m["created_at"])]
    admin = await make_client()
    await admin.login("staff", world.staff["platform"][0], PASSWORD)
    query = "state=pending&sort=registered"
    page = await (await admin.get(f"/platform/employers/{pending[0]}?{query}")).text()
    assert f'href="/platform/employers/{pending[1]}?{query.replace("&", "&amp;")}"' in page   # 下一条
    resp = await admin.post(f"/platform/employers/{pending[0]}/review?{query}", {"action": "approve"})
    assert resp.status == 303 and "done=approve" in resp.headers["Location"]
    page = await (await admin.get(resp.headers["Location"])).text()
    done = re.search(r'<div class="alert alert-ok" role="status" id="review-done">(.*?)</div>', page, re.S).group(1)
    assert done.startswith("已通过") and f'/platform/employers/{pending[1]}?' in done
    # the list it came back to keeps its filters
    assert f'href="/platform/employers?{query.replace("&", "&amp;")}"' in page
