"""A logged-in user's session and own pages (学生中心, 我的投递) served from memory, so a page
view asks the database nothing while nothing it shows has changed.

What "changed" means is decided by the writes themselves, not by a timer. Each kind of
entry has its group of tables, the ones its queries read (GROUPS: the session with its
unread-notice count; each page's own); every committed write to a group's table bumps that
group's generation of the accounts whose rows it wrote, when the statement says which
(db.for_accounts: a login, an application, a notice, an interview), or its generation of
all accounts when it does not (a counselor's review, a job's edit). So a forgotten
for_accounts costs hits, never correctness; and a review drops 学生中心 pages, not every
session. A cached session or page is kept with the (all, account) generations of its
groups read before its database reads (a page's groups include the session's: its header
shows the viewer's name and unread count), and served only while they are unchanged.

With REDIS_URL the generations are Redis counters: INCR after the commit and before the
change's own response, read at the start of every logged-in request (one MGET for the
requests of a loop turn, sent after they asked: app/redisbatch.py); so a request that
starts after a change was answered, on any process, never gets what was read before it.
A Redis that restarts, is flushed or is down costs hits, never that (app/redislink.py).
Without Redis (one process) they are in memory.

Only pages that show nothing but the viewer's own rows (their account_id) and shared tables
may be cached here: a page showing another account's rows (an employer's applicant list)
would not be dropped by that account's writes. A page that changes with the clock alone
sets VALID_UNTIL (an invitation's start leaves 学生中心's 待办事项 then); the date in China
is part of every key, for what counts "today".

The visitor's CSRF token is put back into each response as in app/pagecache.py.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from dataclasses import dataclass
from typing import AsyncIterator, Awaitable, Callable, Hashable

from aiohttp import web

from .auth import sessions
from .auth.sessions import Identity, TOUCH_EVERY
from .clock import china_date
from .db import Database
from .lru import Lru
from .redislink import GenerationLink, redis_channel
from .middleware import ACCOUNT_EPOCH, CSRF_TOKEN, require_identity
from .pagecache import Body, Handler
from .security import token_hash
from .state import ACCOUNT_CACHE, CLOCK, DB, SETTINGS

log = logging.getLogger(__name__)

# What each kind of entry reads (tests/test_account_cache.py records every table its
# queries touch): a session with its unread-notice count, and each cached page's own.
SESSION = "session"
GROUPS: dict[str, tuple[str, ...]] = {
    SESSION: ("sessions", "accounts", "notices"),
    "student_centre": ("accounts", "notices", "student_records", "schools", "colleges",
                       "majors", "interviews", "agreements", "origin_records",
                       "recommendations", "registrations", "termination_requests"),
    "my_applications": ("applications", "jobs", "employers"),
}
WATCHED_TABLES = tuple(sorted(set().union(*GROUPS.values())))
VALID_UNTIL = web.RequestKey("account_page_valid_until", dt.datetime)
Generation = tuple[Hashable, bytes | int | None]  # (all accounts, this account)
Epoch = dict[str, Generation]  # by group
SESSION_SIZE = 1  # sessions are bounded by count; the bytes bound is for pages


def _of(epoch: Epoch, *groups: str) -> tuple[Generation, ...]:
    return tuple(epoch[g] for g in groups)


class LocalGenerations:
    """One process: counters in memory, by group. Past MAX_ACCOUNTS counted accounts in a
    group, all of them start again under a new all-accounts generation (a counter is never
    forgotten while an entry could still match it)."""

    MAX_ACCOUNTS = 100_000

    def __init__(self) -> None:
        self.every = dict.fromkeys(GROUPS, 0)
        self.each: dict[str, dict[int, int]] = {g: {} for g in GROUPS}

    async def current(self, account_id: int) -> Epoch | None:
        return {g: (self.every[g], self.each[g].get(account_id, 0)) for g in GROUPS}

    async def bump(self, group: str, accounts: frozenset[int] | None) -> None:
        each = self.each[group]
        if accounts is None or len(each) + len(accounts) > self.MAX_ACCOUNTS:
            self.every[group] += 1
            each.clear()
            return
        for account_id in accounts:
            each[account_id] = each.get(account_id, 0) + 1

    async def close(self) -> None:
        pass


class RedisGenerations:
    """Several processes: counters in Redis, by group, read and bumped through the caches'
    link (app/redislink.py: its epoch and reset stamp go into every all-accounts generation,
    so a Redis restart, flush or outage never serves what was kept before). An account's
    counter only ever grows from nothing."""

    def __init__(self, url: str) -> None:
        self.link = GenerationLink(url)
        self.prefix = f"{redis_channel(url)}:accounts"

    def _every(self, group: str) -> str:
        return f"{self.prefix}:{group}:all"

    async def current(self, account_id: int) -> Epoch | None:
        keys = tuple(k for g in GROUPS for k in (self._every(g), f"{self.prefix}:{g}:{account_id}"))
        values = await self.link.read(keys)
        if values is None:  # no generation, no cache: read afresh
            return None
        epoch, reset, *values = values
        return {group: ((epoch, reset, values[2 * n]), values[2 * n + 1])
                for n, group in enumerate(GROUPS)}

    async def bump(self, group: str, accounts: frozenset[int] | None) -> None:
        if accounts is None:
            await self.link.bump(self._every(group))
        else:
            await self.link.bump(*(f"{self.prefix}:{group}:{a}" for a in accounts))

    async def close(self) -> None:
        await self.link.close()


@dataclass(frozen=True)
class Session:
    """A session as its last database read found it; identity None until it has been read
    under a known generation (the first read only learns whose token it is)."""
    account_id: int
    generation: tuple[Generation, ...] | None  # the session group's
    identity: Identity | None = None
    last_seen_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    unread_notices: int = 0


@dataclass(frozen=True)
class Page:
    body: Body
    generation: tuple[Generation, ...]  # the session group's and the page's own
    valid_until: dt.datetime | None


@dataclass(frozen=True)
class Found:
    identity: Identity
    touch_due: bool
    unread_notices: int
    epoch: Epoch | None  # None: nothing read for this request may be kept


SessionLoad = Callable[[], Awaitable["sessions.Loaded | None"]]


class AccountCache:
    def __init__(self, generations: LocalGenerations | RedisGenerations, *, sessions: int,
                 pages: int, page_bytes: int, max_age: float) -> None:
        self.source = generations
        self.sessions: Lru[Session] = Lru(max_entries=sessions, max_bytes=sessions * SESSION_SIZE,
                                          max_age=max_age)
        self.pages: Lru[Page] = Lru(max_entries=pages, max_bytes=page_bytes, max_age=max_age)

    async def session(self, token: str, now: dt.datetime, load: SessionLoad) -> Found | None:
        """The session behind a cookie token: from memory while its account's generation is
        the one it was read under, else from `load()` (identity, last seen, expiry, unread
        notices), with the generation read before it."""
        return await self.session_hashed(token_hash(token), now, load)

    async def session_hashed(self, key: str, now: dt.datetime, load: SessionLoad,
                             account_id: int | None = None) -> Found | None:
        """session() by the token's hash: a hall socket's check that its login still stands
        (rtc/namespace.py) shares the pages' entries. The socket knows whose session it is
        (`account_id`), so its first read is already made under that account's generation."""
        kept = self.sessions.get(key)
        owner = kept.account_id if kept is not None else account_id
        epoch = await self.source.current(owner) if owner is not None else None
        if kept is not None and kept.identity is not None and epoch is not None \
                and kept.generation == _of(epoch, SESSION) and now < kept.expires_at:
            return Found(kept.identity, now - kept.last_seen_at > TOUCH_EVERY,
                         kept.unread_notices, epoch)
        loaded = await load()
        if loaded is None:
            self.sessions.drop(key)
            return None
        ident = loaded.identity
        if owner != ident.account_id or epoch is None:
            # whose token this is, for the next request to read its generation first
            self.sessions.put(key, Session(ident.account_id, None), SESSION_SIZE)
            epoch = None
        else:
            self.sessions.put(key, Session(ident.account_id, _of(epoch, SESSION), ident,
                                           loaded.last_seen_at, loaded.expires_at,
                                           loaded.unread_notices), SESSION_SIZE)
        return Found(ident, now - loaded.last_seen_at > TOUCH_EVERY, loaded.unread_notices,
                     epoch)

    def learn(self, token: str, account_id: int) -> None:
        """A new session's owner, known at login: its first page then reads the session
        under the account's generation and keeps it."""
        self.sessions.put(token_hash(token), Session(account_id, None), SESSION_SIZE)

    def page(self, name: Hashable, generation: tuple[Generation, ...],
             now: dt.datetime) -> Page | None:
        kept = self.pages.get(name)
        if kept is None or kept.generation != generation \
                or (kept.valid_until is not None and now >= kept.valid_until):
            return None
        return kept

    def keep_page(self, name: Hashable, page: Page) -> None:
        self.pages.put(name, page, page.body.size)


async def account_cache_ctx(app: web.Application) -> AsyncIterator[None]:
    """Made after the database (_database in app/web.py), whose commits it watches."""
    settings = app[SETTINGS]
    source = RedisGenerations(settings.redis_url) if settings.redis_url else LocalGenerations()
    app[ACCOUNT_CACHE] = AccountCache(
        source, sessions=settings.session_cache_entries,
        pages=settings.account_page_cache_entries,
        page_bytes=settings.account_page_cache_bytes, max_age=settings.page_cache_seconds)
    watch(app[DB], source)
    yield
    await source.close()


def watch(db: Database, generations: LocalGenerations | RedisGenerations) -> None:
    """Each group's generations bumped after every commit that wrote one of its tables."""
    for group, tables in GROUPS.items():
        db.on_commit_accounts(tables, functools.partial(generations.bump, group))


def plain_page(request: web.Request) -> tuple | None:
    """The key of a page cached only when asked without a query (a message after a change,
    ?sent= or ?error=, is shown once and rendered for it)."""
    return () if not request.query_string else None


def cached_for_account(group: str, key: Callable[[web.Request], tuple | None]
                       ) -> Callable[[Handler], Handler]:
    """Serve the handler's page to its logged-in viewer from memory (see the module's rules
    for what may be cached). `group` (in GROUPS) names the tables its queries read; `key`
    what it depends on besides the viewer's data (normalized query values), or None for a
    request not to cache."""
    if group not in GROUPS or group == SESSION:
        raise ValueError(f"no table group {group!r} for a page")
    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def serve(request: web.Request) -> web.StreamResponse:
            cache = request.app[ACCOUNT_CACHE]
            epoch = request.get(ACCOUNT_EPOCH)
            parts = key(request) if epoch is not None and cache.pages.enabled else None
            if parts is None:
                return await handler(request)
            now = request.app[CLOCK].now()
            name = (require_identity(request).account_id, request.match_info.route.name,
                    china_date(now), *parts)
            token = request[CSRF_TOKEN].encode()
            generation = _of(epoch, SESSION, group)
            page = cache.page(name, generation, now)
            if page is None:
                response = await handler(request)
                if response.status == 200 and isinstance(response, web.Response) \
                        and isinstance(response.body, bytes):
                    cache.keep_page(name, Page(Body.without(response.body, token), generation,
                                               request.get(VALID_UNTIL)))
                return response
            return web.Response(body=page.body.with_token(token),
                                content_type="text/html", charset="utf-8")
        return serve
    return wrap
