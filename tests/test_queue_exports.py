"""Every review queue's 导出筛选结果 holds exactly the rows the queue shows, in its order, for
the one who asked: on the demo data (queues of every kind), as each reviewer opens them."""

from __future__ import annotations

import re

import pytest

from app import demo
from tests import exports_kit
from tests.lists_kit import total
from tests.test_centre_drilldown import _load_demo

QUEUES = [   # (who, the list's URL, the export's kind, the list's query)
    ("demo_counselor", "/reviews/origins", "origin_queue", {"status": ""}),
    ("demo_counselor", "/reviews/origins", "origin_queue", {"status": "submitted", "sort": "-name"}),
    ("demo_school", "/reviews/origins", "origin_queue", {"status": "draft", "size": "100"}),
    ("demo_school", "/school/recommendations", "recommendation_queue", {"status": ""}),
    ("demo_school", "/reviews/agreements", "agreement_queue", {"status": ""}),
    ("demo_counselor", "/reviews/agreements", "agreement_queue", {"status": ""}),
    ("demo_school", "/reviews/registrations", "registration_queue", {"status": ""}),
    ("demo_school", "/reviews/terminations", "termination_queue", {"status": ""}),
    ("demo_admin", "/platform/employers", "employer_review", {"state": ""}),
    ("demo_admin", "/platform/jobs", "job_review", {"state": "", "sort": "title"}),
]


@pytest.mark.parametrize("who,path,kind,query", QUEUES, ids=[f"{q[2]}-{i}" for i, q in enumerate(QUEUES)])
async def test_a_queue_export_holds_exactly_its_rows(make_client, settings, clock, who, path, kind, query):
    await _load_demo(settings, clock)
    c = await make_client()
    await c.login("staff", who, demo.PASSWORD)
    page = await (await c.get(path, params={**query, "size": "100"})).text()
    shown = total(page)
    book = await exports_kit.exported(c, kind, **query)
    rows = list(next(ws for ws in book.worksheets if ws.title != "说明").iter_rows(values_only=True))
    assert len(rows) - 1 == shown, (kind, query)
    if rows[0][0] == "学号":   # a student's queue: the same students in the same order
        numbers = re.findall(r'<td data-label="学号" class="nowrap">([^<]+)</td>', page)
        assert [r[0] for r in rows[1:]] == numbers, (kind, query)
    about = {r[0]: r[1] for r in book["说明"].iter_rows(values_only=True)}
    assert about["导出人"] and about["筛选条件"]


async def test_a_queue_export_is_refused_to_whom_the_queue_is_not(make_client, settings, clock):
    await _load_demo(settings, clock)
    counselor = await make_client()
    await counselor.login("staff", "demo_counselor", demo.PASSWORD)
    for kind in ("recommendation_queue", "employer_review", "job_review"):
        assert (await exports_kit.ask(counselor, kind)).status == 403, kind
    school = await make_client()
    await school.login("staff", "demo_school", demo.PASSWORD)
    assert (await exports_kit.ask(school, "origin_queue", college="999999")).status == 403
