"""Redis reads of many requests in one MGET.

The page caches read their generations from Redis at the start of every request they
serve (app/pagecache.py, app/accountcache.py): a GET through redis-py's asyncio client
costs about 120 µs of CPU here, as much as serving the cached page itself. Requests that
ask in the same turn of the event loop share one MGET, sent at the next turn; a request
that asks after it was sent waits for the next one. So every answer was read from Redis
after its request asked: what a change answered before the request started is always in it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any


async def started(client: Any, key: str) -> Any:
    """A cache's counter that must exist, read again after a read found it missing (a new or
    flushed Redis): it starts from the clock in nanoseconds, never from a value an entry
    kept before could hold."""
    await client.set(key, time.time_ns(), nx=True)
    return await client.get(key)


@dataclass
class _Batch:
    keys: dict[str, None] = field(default_factory=dict)  # in order, once each
    done: asyncio.Future | None = None


class BatchedReads:
    def __init__(self, client: Any) -> None:
        self.client = client
        self._open: _Batch | None = None
        self._sending: set[asyncio.Task] = set()

    async def mget(self, keys: tuple[str, ...]) -> list[Any]:
        batch = self._open
        if batch is None:
            batch = self._open = _Batch(done=asyncio.get_running_loop().create_future())
            task = asyncio.create_task(self._send(batch))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        batch.keys.update(dict.fromkeys(keys))
        values = await asyncio.shield(batch.done)
        return [values[k] for k in keys]

    async def _send(self, batch: _Batch) -> None:
        self._open = None  # who asks from now on is in the next batch
        keys = list(batch.keys)
        try:
            values = await self.client.mget(keys)
        except BaseException as exc:  # a cancel at shutdown too: nobody may wait for ever
            batch.done.set_exception(exc if isinstance(exc, Exception)
                                     else ConnectionError("Redis reads stopped"))
            batch.done.exception()  # retrieved here too: no warning if all waiters are gone
            if not isinstance(exc, Exception):
                raise
            return
        batch.done.set_result(dict(zip(keys, values)))
