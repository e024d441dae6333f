"""Write transactions on SQLite take turns in this process (app/db.py): in arrival order,
none sleeping in SQLite's busy handler, and a write opened inside another of the same task
fails at once instead of waiting for itself."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
import sqlalchemy as sa

from app.db import Database
from app.tables import audit_log
from tests.conftest import using_postgres

pytestmark = pytest.mark.skipif(using_postgres(), reason="SQLite's single writer; PostgreSQL "
                                "writers run at once and are covered by every other test")


async def test_writers_take_turns_in_arrival_order(database_url):
    db = Database(database_url)
    now = dt.datetime.now(dt.timezone.utc)
    inside = 0
    most_inside = 0

    async def write(i: int) -> None:
        nonlocal inside, most_inside
        async with db.write() as conn:
            inside += 1
            most_inside = max(most_inside, inside)
            await conn.execute(audit_log.insert().values(
                entity="test", entity_id=i, action="turn", at=now))
            await asyncio.sleep(0)  # give the others every chance to get in
            inside -= 1
    try:
        await asyncio.gather(*(write(i) for i in range(40)))
        async with db.read() as conn:
            order = list((await conn.execute(sa.select(audit_log.c.entity_id).where(
                audit_log.c.action == "turn").order_by(audit_log.c.id))).scalars())
    finally:
        await db.dispose()
    assert order == [str(i) for i in range(40)]
    assert most_inside == 1


async def test_a_write_inside_a_write_of_the_same_task_fails_at_once(database_url):
    db = Database(database_url)
    try:
        async with db.write():
            with pytest.raises(RuntimeError, match="inside another"):
                async with db.write():
                    pass
        async with db.write() as conn:  # the turn was given back
            await conn.execute(sa.select(1))
    finally:
        await db.dispose()
