"""The employer's applicants of a job on the list component: each filter keeps exactly the
applications a plain Python filter keeps, pages and counts, the export holds exactly the
filtered rows, a withdrawn application is never listed, and another employer sees nothing."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa

from app.db import Database
from app.tables import accounts, applications, schools, student_records
from tests import exports_kit
from tests.factories import PASSWORD
from tests.helpers import published_job
from tests.test_employers import register
from tests.lists_kit import total

EDUCATIONS = ("本科生", "硕士生")
STATES = ("new", "viewed", "invited", "rejected", "withdrawn")


async def applicants(database_url: str, world, job_id: int, now: dt.datetime, n: int) -> list[dict]:  # noqa: ANN001
    """n students of both schools who applied to the job, states and days taking turns."""
    db = Database(database_url)
    made = []
    try:
        async with db.write() as conn:
            names = {r.id: r.name for r in await conn.execute(sa.select(schools))}
            for i in range(n):
                sd = world.schools[i % 2]
                aid = (await conn.execute(accounts.insert().values(
                    role="student", email=f"app{i}@list.example.cn", password_hash="x",
                    display_name=f"应聘{i}", school_id=sd.id, created_at=now)
                    .returning(accounts.c.id))).scalar_one()
                row = dict(school_id=sd.id, student_no=f"A{i:04d}", name=f"应聘{i}",
                           id_number=f"50010320030202{i:04d}", gender="1",
                           college_id=sd.college_ids[0], major_id=sd.major_ids[0],
                           education=EDUCATIONS[i % 2], graduation_year=2026 - (i % 3 == 0),
                           account_id=aid, imported_at=now, updated_at=now)
                await conn.execute(student_records.insert().values(**row))
                sent = now - dt.timedelta(days=i % 5)
                status = STATES[i % 5]
                snapshot = {"student": {"name": row["name"], "student_no": row["student_no"],
                                        "school": names[sd.id], "college": "学院", "major": "专业",
                                        "education": row["education"],
                                        "graduation_year": row["graduation_year"],
                                        "email": f"app{i}@list.example.cn", "phone": ""},
                            "resume": {"kind": "online", "title": "简历", "data": {}}}
                await conn.execute(applications.insert().values(
                    job_id=job_id, account_id=aid, status=status, snapshot=snapshot,
                    created_at=sent, updated_at=sent))
                made.append({**row, "status": status, "sent": sent, "school_name": names[sd.id]})
        return made
    finally:
        await db.dispose()


def shown(page: str) -> list[str]:
    return re.findall(r'<td data-label="姓名" class="nowrap"><a href="/employer/applications/\d+">([^<]+)</a>', page)




async def test_an_employer_filters_pages_and_exports_a_jobs_applicants(make_client, world, settings, clock):
    job = await published_job(settings.database_url, world.employer_id, world.staff["employer"][1],
                              world.staff["platform"][1], clock.now())
    made = await applicants(settings.database_url, world, job, clock.now(), 50)
    visible = [m for m in made if m["status"] != "withdrawn"]
    employer = await make_client()
    await employer.login("employer", "employer", PASSWORD)
    base = f"/employer/jobs/{job}/applicants"
    page = await (await employer.get(base)).text()
    assert total(page) == len(visible) == 40 and len(shown(page)) == 20   # a page of 20
    assert "已撤回" not in page
    s1 = world.schools[1].id
    today = (clock.now() + dt.timedelta(hours=8)).date()
    cases = [
        ({"status": "invited"}, lambda m: m["status"] == "invited"),
        ({"school": str(s1)}, lambda m: m["school_id"] == s1),
        ({"education": "硕士生", "year": "2026"},
         lambda m: m["education"] == "硕士生" and m["graduation_year"] == 2026),
        ({"sent_from": (today - dt.timedelta(days=1)).isoformat()},
         lambda m: (m["sent"] + dt.timedelta(hours=8)).date() >= today - dt.timedelta(days=1)),
        ({"q": "应聘1"}, lambda m: "应聘1" in m["name"]),
    ]
    for query, keep in cases:
        want = sorted(m["name"] for m in visible if keep(m))
        page = await (await employer.get(base, params={**query, "size": "100"})).text()
        assert total(page) == len(want) and sorted(shown(page)) == want, query
    # sorted by name, both ways
    page = await (await employer.get(base, params={"sort": "name", "size": "100"})).text()
    assert shown(page) == sorted(m["name"] for m in visible)
    page = await (await employer.get(base, params={"sort": "-name", "size": "100"})).text()
    assert shown(page) == sorted((m["name"] for m in visible), reverse=True)
    # the export: exactly the filtered rows, in the screen's order
    query = {"school": str(s1), "sort": "name"}
    page = await (await employer.get(base, params={**query, "size": "100"})).text()
    book = await exports_kit.exported(employer, "job_applicants", job=str(job), **query)
    rows = list(book["应聘者"].iter_rows(values_only=True))
    assert [r[3] for r in rows[1:]] == shown(page) and len(rows) - 1 == total(page)
    # another employer: no list, no export
    other = await make_client()
    await register(other)
    assert (await other.get(base)).status == 404
    assert (await exports_kit.ask(other, "job_applicants", job=str(job))).status == 403
