"""app/redisbatch.py against a real Redis: the requests of one loop turn share one MGET,
and a request that asks after a read was sent is never given that read."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis.asyncio as aioredis

from app.redisbatch import BatchedReads
from tests.test_page_cache import REDIS


@pytest.fixture
async def client():  # noqa: ANN201
    c = aioredis.from_url(REDIS)
    try:
        await c.ping()
    except OSError as exc:
        pytest.skip(f"Redis at {REDIS} is not reachable: {exc}")
    yield c
    await c.aclose()


async def test_one_turns_reads_share_one_mget_and_later_ones_wait_for_the_next(client):
    key, other = f"t:{uuid.uuid4().hex}", f"t:{uuid.uuid4().hex}"
    await client.set(key, "1")
    sent: list[list[str]] = []
    mget = client.mget

    async def counted(keys):  # noqa: ANN001, ANN202
        sent.append(list(keys))
        return await mget(keys)
    client.mget = counted
    reads = BatchedReads(client)
    first = [asyncio.create_task(reads.mget((key, other))) for _ in range(10)]
    await asyncio.sleep(0)  # the ten ask, in one turn
    await asyncio.sleep(0)  # that turn ended: their batch went out
    assert reads._open is None and len(sent) == 1 and sorted(sent[0]) == sorted([key, other])
    await client.set(key, "2")  # a change answered after that read was sent
    later = await reads.mget((key,))
    assert later == [b"2"] and len(sent) == 2
    assert {tuple(await t) for t in first} == {(b"1", None)}
    await client.delete(key)


async def test_a_failed_read_fails_its_waiters_and_the_next_batch_reads_again(client):
    key = f"t:{uuid.uuid4().hex}"
    reads = BatchedReads(client)
    mget = client.mget
    calls = 0

    async def flaky(keys):  # noqa: ANN001, ANN202
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("Redis went away")
        return await mget(keys)
    client.mget = flaky
    with pytest.raises(ConnectionError):
        await asyncio.gather(reads.mget((key,)), reads.mget((key,)))
    assert await reads.mget((key,)) == [None] and calls == 2
