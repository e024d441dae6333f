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


async def test_a_writer_cancelled_as_its_turn_comes_does_not_keep_the_turn(database_url):
    """The turn passes to a waiting writer at the moment that writer is cancelled (a
    shutdown cancels every task): the next writer must still get in at once. The shutdown
    itself, with writers of every background job in flight, is
    tests/test_import_jobs.py::test_sigterm_stops_the_server_promptly_while_a_bomb_is_being_read,
    which failed about half the time while the turn was taken through wait_for."""
    db = Database(database_url)
    release = asyncio.Event()

    async def holder() -> None:
        async with db.write():
            await release.wait()

    async def waiter() -> None:
        async with db.write():
            pass
    try:
        for _ in range(20):  # the race has several interleavings; try each a few times
            first = asyncio.create_task(holder())
            await asyncio.sleep(0)
            second = asyncio.create_task(waiter())
            await asyncio.sleep(0)
            release.set()
            await asyncio.sleep(0)  # the holder gives the turn to the waiter …
            second.cancel()         # … which is cancelled before it runs
            await asyncio.gather(first, second, return_exceptions=True)
            release.clear()
            async with asyncio.timeout(5):  # the turn is free again
                async with db.write() as conn:
                    await conn.execute(sa.select(1))
    finally:
        await db.dispose()
