"""The caches' link to Redis (REDIS_URL): their generation counters, read and bumped so that
a Redis that stops, pauses, restarts with old data or is flushed can cost cache hits but
never serve a page read before a change.

The page caches (app/pagecache.py, app/accountcache.py) keep an entry under the counters
read before it was rendered and serve it while a read finds them unchanged. A counter that
goes back, or a bump that never lands, would serve stale pages. Three ways that happened
(issue 24, finding 4), and what stops each here:

- **A bump fails** (Redis down or paused when a change commits): this process serves
  nothing cached until a bump of the shared `reset` stamp has landed, and every process's
  reads include that stamp, so the others drop what they kept too. A recovery task retries
  in the background; no request waits for it.
- **Redis restarts with its data** (a service restart loads its last snapshot): counters
  come back at older values, and bumps made after the snapshot are lost even though they
  were answered. Every new connection reads the server's `run_id`; when it is not the one
  this process saw before, everything this process kept is dropped (its `epoch` moves), and
  the reset stamp moves so the processes that have not reconnected yet drop theirs too.
- **Redis is flushed**: the reset stamp, in every read, starts again from the clock
  (redisbatch.started), so no entry's key can match.

The reset stamp is the clock in nanoseconds, taken only forward (a restored old value is
always below a new one). A read or a bump that fails marks Redis down for RETRY_SECONDS:
requests are served uncached at once instead of each waiting for a timeout, and reads and
bumps time out after TIMEOUT_SECONDS (a paused Redis cost every page 5 s before).

PAGE_CACHE_SECONDS stays the net for what no process can see: a process killed while it
still owed a bump.
"""

from __future__ import annotations

import asyncio
import logging
import time
import urllib.parse
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from .redisbatch import BatchedReads, started

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 1.0  # a healthy Redis answers in a millisecond; a paused one must not stall pages
RETRY_SECONDS = 1.0  # how often a process tries a Redis it found down (in the background)

# Lua: the reset stamp only ever moves forward, to at least the caller's clock.
_FORWARD = """
local now = tonumber(ARGV[1])
local was = tonumber(redis.call('GET', KEYS[1]) or '0')
if now <= was then now = was + 1 end
redis.call('SET', KEYS[1], now)
return now
"""


def _split_redis_url(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query)
    channel = query.pop("channel", ["cqbys"])[0]
    return parts._replace(query=urllib.parse.urlencode(query, doseq=True)).geturl(), channel


def redis_connection_url(url: str) -> str:
    """REDIS_URL without our own `channel` parameter, for a plain Redis client."""
    return _split_redis_url(url)[0]


def redis_channel(url: str) -> str:
    """REDIS_URL's `channel` (default "cqbys"): the prefix of every key a deployment keeps."""
    return _split_redis_url(url)[1]


def _run_id(info: Any) -> str:
    text = info.decode() if isinstance(info, bytes) else str(info)
    for line in text.splitlines():
        if line.startswith("run_id:"):
            return line.split(":", 1)[1].strip()
    return ""


class GenerationLink:
    """One cache's counters in Redis, for one process. `read` answers the values with this
    process's epoch and the reset stamp in front (the key an entry is kept under), or None
    when nothing may be served from the cache now."""

    def __init__(self, url: str) -> None:
        self.client = aioredis.from_url(
            redis_connection_url(url), socket_timeout=TIMEOUT_SECONDS,
            socket_connect_timeout=TIMEOUT_SECONDS, retry=Retry(NoBackoff(), 0),
            redis_connect_func=self._connected)
        self.reads = BatchedReads(self.client)
        self.reset_key = f"{redis_channel(url)}:caches:reset"
        self.epoch = 0  # moves whenever what this process kept may have missed a change
        self.run_id: str | None = None
        self.owes_reset = False
        self.down_until = 0.0  # time.monotonic(); while ahead, Redis is not asked by requests
        self.retry_seconds = RETRY_SECONDS
        self._recovery: asyncio.Task | None = None
        self._forward = self.client.register_script(_FORWARD)

    async def _connected(self, connection: Any) -> None:
        """Every new connection (the first, and each after Redis dropped them): a new run_id
        is a restarted Redis, whose counters may be older than what was kept under them."""
        await connection.on_connect()
        await connection.send_command("INFO", "server")
        run_id = _run_id(await connection.read_response())
        if self.run_id is not None and run_id != self.run_id:
            log.warning("caches: Redis restarted (run_id %s, was %s); dropping what was kept",
                        run_id, self.run_id)
            self._forget()
        self.run_id = run_id

    def _forget(self) -> None:
        """What this process kept is not trusted again, and the others are told through the
        reset stamp once Redis takes it."""
        self.epoch += 1
        self.owes_reset = True
        if self._recovery is None or self._recovery.done():
            self._recovery = asyncio.get_running_loop().create_task(self._recover())

    def _failed(self, exc: BaseException, what: str) -> None:
        if time.monotonic() >= self.down_until:  # one line per outage, not per request
            log.warning("caches: Redis %s failed (%r); serving uncached until it answers",
                        what, exc)
        self.down_until = time.monotonic() + self.retry_seconds
        self._forget()

    @property
    def usable(self) -> bool:
        return not self.owes_reset and time.monotonic() >= self.down_until

    async def read(self, keys: tuple[str, ...]) -> list[Any] | None:
        """[epoch, reset, *values] (None for a key never bumped), or None. A flushed Redis
        has lost the reset stamp too, and it starts again from the clock: never a value an
        entry was kept under."""
        if not self.usable:
            return None
        try:
            reset, *values = await self.reads.mget((self.reset_key, *keys))
            if reset is None:
                reset = await started(self.client, self.reset_key)
        except Exception as exc:  # no generation, no cache: read afresh
            self._failed(exc, "read")
            return None
        # read after the values: a reconnect to a restarted Redis during this read moved it
        return [self.epoch, reset, *values] if self.usable else None

    async def bump(self, *keys: str) -> None:
        """INCR each key, after a commit and before its response; on failure the change is
        owed to every cache as a reset."""
        if not self.usable:
            self._forget()
            return
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.incr(key)
                await pipe.execute()
        except Exception as exc:
            self._failed(exc, "bump")

    async def _recover(self) -> None:
        while self.owes_reset:
            wait = self.down_until - time.monotonic()
            if wait > 0:  # in short steps: down_until may be moved (tests bring it forward)
                await asyncio.sleep(min(wait, 0.1))
                continue
            try:
                await self._forward(keys=[self.reset_key], args=[time.time_ns()])
            except Exception as exc:
                self._failed(exc, "reset")
                continue
            self.owes_reset = False
            log.warning("caches: Redis answers again; the reset stamp moved")

    async def close(self) -> None:
        """A command (an import) that owes a reset tries once more before it exits."""
        if self._recovery is not None:
            self._recovery.cancel()
        if self.owes_reset:
            try:
                await self._forward(keys=[self.reset_key], args=[time.time_ns()])
            except Exception as exc:
                log.warning("caches: a reset could not be sent before closing (%r)", exc)
        await self.client.aclose()
