"""Every number on a staff centre (待办事项 and the counts beside them) is a link to the list
of exactly those items: the list's count equals the number clicked. On the demo data, whose
queues hold items of every kind, for the counselor, the school admin and the platform admin."""

from __future__ import annotations

import html
import re

import sqlalchemy as sa

from app import demo, workflow
from app.db import Database
from app.reviews.flows import ORIGIN_FLOW
from app.reviews.tables import origin_records
from app.roles import Role
from app.uploads import FileStore


async def _load_demo(settings, clock) -> None:  # noqa: ANN001
    """The demo, and three of its 生源 records sent for review (the counselor's 待办)."""
    db = Database(settings.database_url)
    try:
        await demo.load(db, FileStore(settings.data_dir), clock.now(), base_url=settings.public_base_url)
        async with db.write() as conn:
            drafts = list((await conn.execute(sa.select(origin_records.c.id).where(
                origin_records.c.status == "draft").order_by(origin_records.c.id).limit(3))).scalars())
            for oid in drafts:
                await workflow.transition(conn, ORIGIN_FLOW, oid, "submit", at=clock.now(),
                                          actor=workflow.Actor(None, Role.STUDENT))
    finally:
        await db.dispose()


def numbers_linked(page: str) -> list[tuple[str, int]]:
    """(href, number) of every link whose text ends in a number: the 待办 badges and counts."""
    found = re.findall(r'<a href="([^"]+)"[^>]*>(?:[^<]*<span class="badge">)?([\d,]+)(?:</span>)?</a>', page)
    return [(html.unescape(href), int(n.replace(",", ""))) for href, n in found]


async def test_every_count_on_a_staff_centre_opens_exactly_that_many(make_client, settings, clock):
    await _load_demo(settings, clock)
    checked = 0
    for username, centre in (("demo_counselor", "/counselor"), ("demo_school", "/school"),
                             ("demo_admin", "/platform")):
        c = await make_client()
        await c.login("staff", username, demo.PASSWORD)
        page = await (await c.get(centre)).text()
        links = numbers_linked(page)
        assert len(links) >= 2, (username, links)
        for href, n in links:
            resp = await c.get(href)
            assert resp.status == 200, (username, href)
            listed = re.search(r'data-total="(\d+)"', await resp.text())
            assert listed is not None, (username, href)
            assert int(listed.group(1)) == n, (username, href, n)
            checked += 1
    assert checked >= 9
