"""The public pages' cache (app/pagecache.py): a cached page never shows a job after it was
closed or edited, nor past its 截止日期, on one process or across two sharing the database
and Redis; ETag/304; a visitor's CSRF token is never another's; bounds."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid

import pytest

from app.clock import china_date
from app.pagecache import PAGE_CACHE, LocalGeneration, PageCache
from app.state import DB
from app.tables import employers
from app.web import create_app
from tests.conftest import FormClient
from tests.factories import PASSWORD
from tests.helpers import published_job
from tests.test_jobs import FORM, titles

REDIS = "redis://127.0.0.1:6379/0"


async def redis_settings(settings):  # noqa: ANN001, ANN201
    """`settings` with a Redis channel of their own, as the processes of one deployment
    share; skips the test when Redis is not reachable."""
    import redis.asyncio as aioredis
    probe = aioredis.from_url(REDIS)
    try:
        await probe.ping()
    except OSError as exc:
        pytest.skip(f"Redis at {REDIS} is not reachable: {exc}")
    finally:
        await probe.aclose()
    return dataclasses.replace(settings, redis_url=f"{REDIS}?channel=t{uuid.uuid4().hex[:8]}")


def meta_token(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]*)">', html)[1]


async def _job(world, settings, clock, **changes) -> int:
    return await published_job(settings.database_url, world.employer_id,
                               world.staff["employer"][1], world.staff["platform"][1],
                               clock.now(), **changes)


async def _employer(make) -> FormClient:  # noqa: ANN001
    c = await make()
    await c.login("employer", "employer", PASSWORD)
    return c


async def test_a_cached_page_never_shows_a_job_after_it_was_closed_or_edited(
        make_client, app, world, settings, clock):
    closing = await _job(world, settings, clock, title="将关闭的岗位")
    edited = await _job(world, settings, clock, title="将修改的岗位")
    anon = await make_client()
    # first visit renders and keeps the pages; the second must come from the cache
    for _ in range(2):
        board = await (await anon.get("/jobs")).text()
        assert set(titles(board)) == {"将关闭的岗位", "将修改的岗位"}
        assert (await anon.get(f"/jobs/{closing}")).status == 200
    cache = app[PAGE_CACHE]
    assert len(cache.entries) == 2
    employer = await _employer(make_client)

    assert (await employer.post(f"/employer/jobs/{closing}/close")).status == 303
    assert titles(await (await anon.get("/jobs")).text()) == ["将修改的岗位"]
    assert (await anon.get(f"/jobs/{closing}")).status == 404

    page = await (await anon.get(f"/jobs/{edited}")).text()
    assert "将修改的岗位" in page
    resp = await employer.post(f"/employer/jobs/{edited}/edit", {**FORM, "title": "修改后的岗位"})
    assert resp.status == 303
    # an edit goes back to review: off the board and its page gone, until approved again
    assert titles(await (await anon.get("/jobs")).text()) == []
    assert (await anon.get(f"/jobs/{edited}")).status == 404
    admin = await make_client()
    await admin.login("staff", "platform", PASSWORD)
    assert (await admin.post(f"/platform/jobs/{edited}/review", {"action": "approve"})).status == 303
    assert titles(await (await anon.get("/jobs")).text()) == ["修改后的岗位"]
    assert "修改后的岗位" in await (await anon.get(f"/jobs/{edited}")).text()


async def test_any_committed_write_to_an_employer_invalidates_the_board(
        make_client, app, world, settings, clock):
    """The cache watches the tables, not a list of code paths: a write no view knows of (an
    employer renamed straight through the app's database) is seen at once."""
    await _job(world, settings, clock, title="名称测试岗位")
    anon = await make_client()
    assert "测试科技有限公司" in await (await anon.get("/jobs")).text()
    async with app[DB].write() as conn:
        await conn.execute(employers.update().where(employers.c.id == world.employer_id)
                           .values(name="改名科技有限公司"))
    board = await (await anon.get("/jobs")).text()
    assert "改名科技有限公司" in board and "测试科技有限公司" not in board
    # a rolled-back write changes nothing and must not count as a change either
    before = app[PAGE_CACHE].source.value
    with pytest.raises(RuntimeError):
        async with app[DB].write() as conn:
            await conn.execute(employers.update().values(name="不会生效"))
            raise RuntimeError("rolled back")
    assert app[PAGE_CACHE].source.value == before
    assert "改名科技有限公司" in await (await anon.get("/jobs")).text()


async def test_a_job_past_its_closing_date_leaves_the_cached_board_at_midnight(
        make_client, world, settings, clock):
    today = china_date(clock.now())
    await _job(world, settings, clock, title="今天截止的岗位", closing_date=today)
    anon = await make_client()
    assert titles(await (await anon.get("/jobs")).text()) == ["今天截止的岗位"]
    assert titles(await (await anon.get("/jobs")).text()) == ["今天截止的岗位"]
    # no write at all: only the clock passes midnight in China
    midnight = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0, 0, 1),
                                   tzinfo=dt.timezone(dt.timedelta(hours=8)))
    clock.advance(seconds=(midnight - clock.now()).total_seconds())
    assert titles(await (await anon.get("/jobs")).text()) == []


async def test_etag_and_304_and_a_change_gives_a_new_etag(make_client, world, settings, clock):
    job_id = await _job(world, settings, clock, title="缓存岗位")
    anon = await make_client()
    first = await anon.get("/jobs")
    body = await first.text()
    etag = first.headers["ETag"]
    assert first.status == 200 and etag and first.headers["Cache-Control"] == "private, no-cache"
    again = await anon.get("/jobs", headers={"If-None-Match": etag})
    assert again.status == 304 and await again.read() == b"" and again.headers["ETag"] == etag
    # another filter is another page: its own ETag, no 304 for the board's
    other = await anon.get("/jobs?city=重庆", headers={"If-None-Match": etag})
    assert other.status == 200 and other.headers["ETag"] != etag
    employer = await _employer(make_client)
    await employer.post(f"/employer/jobs/{job_id}/close")
    changed = await anon.get("/jobs", headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag
    assert "缓存岗位" in body and "缓存岗位" not in await changed.text()


async def test_each_visitor_gets_their_own_csrf_token_from_the_cache(make_client, app, world,
                                                                   settings, clock):
    await _job(world, settings, clock)
    one, two = await make_client(), await make_client()
    for c in (one, two):
        for path in ("/", "/jobs"):
            page = await (await c.get(path)).text()
            assert meta_token(page) == c.csrf()  # their own cookie's token, not the first's
    assert one.csrf() != two.csrf()
    assert len(app[PAGE_CACHE].entries) == 2  # and yet both pages came from one body each


async def test_logged_in_pages_are_never_served_from_the_visitors_cache(
        make_client, app, world, settings, clock):
    job_id = await _job(world, settings, clock, title="已投递测试岗位")
    student = world.active_student()
    anon = await make_client()
    anon_board = await (await anon.get("/jobs")).text()
    assert "已投递" not in anon_board.replace("已投递测试岗位", "")
    c = await make_client()
    await c.login("student", student.email, PASSWORD)
    resp = await c.get("/jobs")
    page = await resp.text()
    assert student.name in page and "ETag" not in resp.headers
    assert resp.headers["Cache-Control"] == "no-store"
    assert student.name not in await (await anon.get("/jobs")).text()
    assert student.name in await (await c.get(f"/jobs/{job_id}")).text()


async def test_two_processes_sharing_redis_never_show_a_closed_job(
        aiohttp_client, world, settings, clock):
    """Process A caches the board; the job is closed through process B: A's next answer is
    without it. Both apps share the database and one Redis, as two `serve` processes do."""
    shared = await redis_settings(settings)
    job_id = await _job(world, settings, clock, title="跨进程岗位")
    a = FormClient(await aiohttp_client(create_app(shared, clock=clock)))
    b = FormClient(await aiohttp_client(create_app(shared, clock=clock)))
    for _ in range(2):
        assert titles(await (await a.get("/jobs")).text()) == ["跨进程岗位"]
        assert (await a.get(f"/jobs/{job_id}")).status == 200
    assert len(a.app[PAGE_CACHE].entries) == 2
    await b.login("employer", "employer", PASSWORD)
    assert (await b.post(f"/employer/jobs/{job_id}/close")).status == 303
    assert titles(await (await a.get("/jobs")).text()) == []
    assert (await a.get(f"/jobs/{job_id}")).status == 404


async def test_the_cache_is_bounded_in_entries_and_bytes():
    cache = PageCache(LocalGeneration(), max_entries=3, max_bytes=100, max_age=60)
    epoch = await cache.current_epoch("2026-06-01")
    for n in range(5):
        cache.put(epoch, n, b"x" * 10)
    assert list(k[1] for k in cache.entries) == [2, 3, 4] and cache.bytes == 30
    assert cache.get(epoch, 2) is not None  # used: now the most recent
    cache.put(epoch, 5, b"y" * 80)  # 110 bytes in 4 entries: the least recent, 3, goes
    assert [k[1] for k in cache.entries] == [4, 2, 5] and cache.bytes == 100
    cache.put(epoch, 6, b"z" * 101)  # larger than the whole cache: served, never kept
    assert cache.get(epoch, 6) is None and cache.bytes == 100
    await cache.bump()
    newer = await cache.current_epoch("2026-06-01")
    assert newer != epoch and not cache.entries and cache.bytes == 0
    cache.put(epoch, 7, b"late")  # rendered before the change, finished after: not kept
    assert not cache.entries


async def test_no_cache_when_turned_off(aiohttp_client, world, settings, clock):
    off = dataclasses.replace(settings, page_cache_entries=0)
    c = FormClient(await aiohttp_client(create_app(off, clock=clock)))
    for _ in range(2):
        resp = await c.get("/jobs")
        assert resp.status == 200 and "ETag" not in resp.headers
    assert not c.app[PAGE_CACHE].entries


async def test_a_made_up_csrf_cookie_is_replaced_and_never_reaches_a_page(make_client, world,
                                                                        settings, clock):
    """A client-chosen csrftoken (here: a piece of every page, the stylesheet's link) was
    used as the visitor's token, echoed into pages and used to split the cached /jobs, which
    then lost its stylesheet for everyone. Only a token the server signed is used now."""
    await _job(world, settings, clock, title="缓存的岗位")
    first = await make_client()
    page = await (await first.get("/jobs")).text()
    link = re.search(r'<link rel="stylesheet"[^>]*>', page)[0]
    assert len(link) >= 32
    attacker = await make_client()
    attacker.client.session.cookie_jar.update_cookies({"csrftoken": link})
    resp = await attacker.get("/jobs")
    mine = await resp.text()
    issued = resp.cookies["csrftoken"].value
    assert issued != link and meta_token(mine) == issued and link in mine
    for visitor in (first, await make_client()):  # the cache serves them the whole page
        html = await (await visitor.get("/jobs")).text()
        assert link in html and "缓存的岗位" in html
    # a token with a valid shape but a signature the server did not make is replaced too
    forged = issued[:-1] + ("0" if issued[-1] != "0" else "1")
    other = await make_client()
    other.client.session.cookie_jar.update_cookies({"csrftoken": forged})
    resp = await other.get("/jobs")
    assert resp.cookies["csrftoken"].value not in (forged, issued)
