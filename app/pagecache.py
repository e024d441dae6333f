"""Public pages (the job board, a job's page, the home page) served from memory to visitors
who are not logged in, with ETag/304 for their browsers.

"At once" is kept by the key, not by a timer. Every cached body is keyed by a generation
that changes after every committed write to jobs or employers, wherever in the code it is
made (Database.on_commit), and by today's date in China, so a job past its 截止日期 leaves
the board at midnight with no write at all. With REDIS_URL the generation is a Redis
counter: INCR after the commit and before the change's own response, read at the start of
every cached request and before the page's own reads (requests asking in the same loop
turn share one read, sent after they asked: app/redisbatch.py); so a request that starts after a
change was answered, on any process, never gets a body rendered before it. A Redis that
restarts, is flushed or is down costs hits, never that (app/redislink.py). Without Redis
(one process) the counter is in memory. PAGE_CACHE_SECONDS bounds an entry's age as a net
for writes made outside the app (by hand in the database, a CLI without REDIS_URL).

The visitor's CSRF token (in every page's <meta>) is not shared: a body is kept as the
parts around each place the token was (Body), and each response joins them with its own.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import logging
from dataclasses import dataclass
from typing import AsyncIterator, Awaitable, Callable, Hashable

from aiohttp import web

from .clock import china_date
from .lru import Lru
from .redislink import GenerationLink, redis_channel
from .middleware import CSRF_TOKEN, identity
from .state import CLOCK, DB, SETTINGS

log = logging.getLogger(__name__)
WATCHED_TABLES = ("jobs", "employers")  # what the board, a job's page and the home page show
CACHE_CONTROL = "private, no-cache"  # a browser asks again each time (a 304 is cheap)


class LocalGeneration:
    """One process: a counter in memory."""

    def __init__(self) -> None:
        self.value = 0

    async def current(self) -> str | None:
        return str(self.value)

    async def bump(self) -> None:
        self.value += 1

    async def close(self) -> None:
        pass


class RedisGeneration:
    """Several processes: one counter in Redis, read and bumped through the caches' link
    (app/redislink.py: a Redis restart, flush or outage never serves a page kept before)."""

    def __init__(self, url: str) -> None:
        self.link = GenerationLink(url)
        self.key = f"{redis_channel(url)}:pages:generation"

    async def current(self) -> str | None:
        values = await self.link.read((self.key,))
        return None if values is None else ":".join(
            v.decode() if isinstance(v, bytes) else str(v) for v in values)

    async def bump(self) -> None:
        await self.link.bump(self.key)

    async def close(self) -> None:
        await self.link.close()


@dataclass(frozen=True)
class Body:
    """A rendered page without its visitor's CSRF token: the parts around each place it was
    (a join per response is cheaper than a search and replace)."""
    parts: tuple[bytes, ...]
    size: int

    @classmethod
    def without(cls, body: bytes, token: bytes | None) -> "Body":
        return cls(tuple(body.split(token)) if token else (body,), len(body))

    def with_token(self, token: bytes) -> bytes:
        return token.join(self.parts)


@dataclass(frozen=True)
class Entry:
    body: Body
    digest: bytes


class PageCache:
    """Rendered bodies, least recently used dropped first, bounded in entries and bytes."""

    def __init__(self, generation: LocalGeneration | RedisGeneration, *, max_entries: int,
                 max_bytes: int, max_age: float) -> None:
        self.source = generation
        self.kept: Lru[Entry] = Lru(max_entries=max_entries, max_bytes=max_bytes, max_age=max_age)
        self.epoch: tuple[str, str] | None = None

    @property
    def enabled(self) -> bool:
        return self.kept.enabled

    @property
    def entries(self) -> collections.OrderedDict:
        return self.kept.entries

    @property
    def bytes(self) -> int:
        return self.kept.bytes

    async def current_epoch(self, today: str) -> tuple[str, str] | None:
        """(generation, date) now; entries of an older one can never be read again, so
        they are dropped at once rather than left for the LRU."""
        generation = await self.source.current()
        if generation is None:
            return None
        epoch = (generation, today)
        if epoch != self.epoch:
            self.epoch = epoch
            self.kept.clear()
        return epoch

    def get(self, epoch: tuple[str, str], name: Hashable) -> Entry | None:
        return self.kept.get((epoch, name))

    def put(self, epoch: tuple[str, str], name: Hashable, body: bytes,
            token: bytes | None = None) -> Entry:
        kept = Body.without(body, token)
        entry = Entry(kept, hashlib.blake2b(b"\0".join(kept.parts), digest_size=16).digest())
        if epoch == self.epoch:  # else rendered for an epoch already gone: serve, don't keep
            self.kept.put((epoch, name), entry, kept.size)
        return entry

    async def bump(self) -> None:
        await self.source.bump()


PAGE_CACHE = web.AppKey("page_cache", PageCache)


async def page_cache_ctx(app: web.Application) -> AsyncIterator[None]:
    """Made after the database (_database in app/web.py), whose commits it watches."""
    settings = app[SETTINGS]
    source = RedisGeneration(settings.redis_url) if settings.redis_url else LocalGeneration()
    cache = app[PAGE_CACHE] = PageCache(
        source, max_entries=settings.page_cache_entries, max_bytes=settings.page_cache_bytes,
        max_age=settings.page_cache_seconds)
    app[DB].on_commit(WATCHED_TABLES, cache.bump)
    yield
    await source.close()


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def cached_for_visitors(key: Callable[[web.Request], tuple | None]) -> Callable[[Handler], Handler]:
    """Serve the handler's page from the cache to visitors who are not logged in. `key`
    names what the page depends on besides the data (normalized query values), or None
    for a request not to cache. Logged-in users' pages (their name, 已投递 tags) are
    rendered for them each time."""
    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def serve(request: web.Request) -> web.StreamResponse:
            cache = request.app[PAGE_CACHE]
            parts = key(request) if cache.enabled and identity(request) is None else None
            epoch = None
            if parts is not None:
                epoch = await cache.current_epoch(china_date(request.app[CLOCK].now()).isoformat())
            if epoch is None:
                return await handler(request)
            name = (request.match_info.route.name, *parts)
            entry = cache.get(epoch, name)
            if entry is None:
                response = await handler(request)
                if response.status != 200 or not isinstance(response, web.Response) \
                        or not isinstance(response.body, bytes):
                    return response
                token = request[CSRF_TOKEN].encode()
                entry = cache.put(epoch, name, response.body, token)
            return _respond(request, entry)
        return serve
    return wrap


def _respond(request: web.Request, entry: Entry) -> web.Response:
    token = request[CSRF_TOKEN].encode()
    etag = hashlib.blake2b(entry.digest + token, digest_size=12).hexdigest()
    headers = {"Cache-Control": CACHE_CONTROL}
    if any(sent.value in (etag, "*") for sent in request.if_none_match or ()):
        response = web.Response(status=304, headers=headers)
    else:
        response = web.Response(body=entry.body.with_token(token),
                                content_type="text/html", charset="utf-8", headers=headers)
    response.etag = etag
    return response
