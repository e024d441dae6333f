"""A reviewer is told of new items to review once a day and queue, with the count
("有新的生源信息待审核（3 条）"), not once per item; a notice read, or a new day, starts a
new one; notices with a reason or to students stay one per event."""

from __future__ import annotations

import sqlalchemy as sa

from app import workflow
from app.db import Database
from app.notify import notices as notice_service
from app.reviews.flows import ORIGIN_FLOW
from app.reviews.tables import origin_records
from app.roles import Role
from app.tables import notices
from tests.review_helpers import submitted_origins


async def _submit(db: Database, origin_ids: list[int], now) -> None:  # noqa: ANN001
    async with db.write() as conn:
        await conn.execute(origin_records.update().where(origin_records.c.id.in_(origin_ids))
                           .values(status="draft"))
        for oid in origin_ids:
            await workflow.transition(conn, ORIGIN_FLOW, oid, "submit", at=now,
                                      actor=workflow.Actor(None, Role.STUDENT))


async def _notices(db: Database, account_id: int) -> list[tuple[str, int, bool]]:
    async with db.read() as conn:
        return [(r.title, r.repeats, r.read_at is not None) for r in await conn.execute(
            sa.select(notices).where(notices.c.account_id == account_id).order_by(notices.c.id))]


async def test_new_items_to_review_are_one_counted_notice_a_day(settings, world, clock):
    made = [oid for oid, _ in await submitted_origins(settings.database_url, world, clock.now(), 7)]
    counselor = world.staff["counselor0"][1]
    db = Database(settings.database_url)
    try:
        await _submit(db, made[:3], clock.now())
        assert await _notices(db, counselor) == [("有新的生源信息待审核", 3, False)]
        # read: the next item starts a new notice
        async with db.write() as conn:
            await notice_service.mark_all_read(conn, counselor, clock.now())
        await _submit(db, made[3:5], clock.now())
        assert await _notices(db, counselor) == [("有新的生源信息待审核", 3, True),
                                                  ("有新的生源信息待审核", 2, False)]
        # a new day (China time): a new notice, even unread ones of yesterday stay as they were
        clock.advance(days=1)
        await _submit(db, made[5:], clock.now())
        assert (await _notices(db, counselor))[-2:] == [("有新的生源信息待审核", 2, False),
                                                        ("有新的生源信息待审核", 2, False)]
        # another school's counselor was told nothing
        assert await _notices(db, world.staff["counselor1"][1]) == []
    finally:
        await db.dispose()
