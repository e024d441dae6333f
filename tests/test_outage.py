"""A database outage, for real (the link to PostgreSQL cut while the app runs, then mended):
pages answer the Chinese 503 page instead of aiohttp's English plain-text 500, /healthz says
503, and the log holds one traceback per kind of failure, the repeats counted."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid

import pytest
import sqlalchemy as sa

from app.errorlog import TracebackBudget
from app.migrate import upgrade
from app.web import create_app
from tests.cluster_kit import free_port
from tests.conftest import PG_ADMIN_URL, _pg_admin


class Link:
    """A TCP hop between the app and PostgreSQL that can be cut and mended: a real outage
    (connections dropped, new ones refused), not a mock of our own stack."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.server: asyncio.AbstractServer | None = None
        self.open_pipes: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        self.server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port)

    async def cut(self) -> None:
        self.server.close()
        await self.server.wait_closed()
        for w in list(self.open_pipes):
            w.transport.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.open_pipes.update((writer, up_writer))

        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except OSError:
                pass
            finally:
                dst.transport.abort()
                self.open_pipes.discard(dst)
        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))


@pytest.fixture
async def linked(settings, clock, aiohttp_client):  # noqa: ANN001, ANN201
    """The app on a fresh, migrated PostgreSQL database reached through a Link."""
    url = sa.engine.make_url(PG_ADMIN_URL)
    try:
        await _pg_admin("SELECT 1")
    except OSError as exc:
        pytest.skip(f"PostgreSQL at {url.host}:{url.port} is not reachable: {exc}")
    name = f"cqbys_outage_{uuid.uuid4().hex[:8]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    link = Link((url.host or "127.0.0.1", url.port or 5432))
    await link.up()
    try:
        direct = url.set(database=name).render_as_string(hide_password=False)
        await asyncio.to_thread(upgrade, direct)
        through = url.set(database=name, host="127.0.0.1", port=link.port)
        app = create_app(dataclasses.replace(
            settings, database_url=through.render_as_string(hide_password=False)), clock=clock)
        yield link, await aiohttp_client(app)
    finally:
        await link.cut()
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_an_outage_answers_the_chinese_503_page_and_logs_once(linked, caplog):
    link, client = linked
    assert (await client.get("/jobs")).status == 200
    assert (await client.get("/healthz")).status == 200
    caplog.set_level(logging.ERROR)
    await link.cut()  # the database goes away while the app runs
    # a public page already cached is still served; what needs the database says it is away
    assert (await client.get("/jobs")).status == 200
    for path in ("/jobs?q=%E5%B7%A5%E7%A8%8B%E5%B8%88", "/login/student", "/healthz"):
        resp = await client.get(path)
        assert resp.status == 503, (path, resp.status, await resp.text())
    page = await (await client.get("/login/student")).text()
    assert "服务暂时不可用" in page and "<html" in page
    health = await client.get("/healthz")
    assert await health.json() == {"ok": False, "database": "unavailable"}
    for _ in range(40):
        assert (await client.get("/login/student")).status == 503
    # pages, the health check and the background loops (sweeper, outboxes, housekeeping)
    # all fail meanwhile: each place tells each kind of failure once, not once a request
    # (a kind: the exception's type and the line it was raised at; a cut link fails as
    # "refused" for new connections and "closed mid-operation" for pooled ones)
    told = [(r.name, r.getMessage()) for r in caplog.records if r.exc_info]
    pages = [t for t in told if t[0] in ("app.web", "app.pages.views")]
    assert 1 <= len(pages) <= 4 and len(told) <= 16, told  # 45 requests failed
    await link.up()  # back: pages answer again
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/jobs")).status == 200


def test_the_budget_logs_a_kind_once_a_window_then_counts_it(caplog):
    now = [0.0]
    budget = TracebackBudget(window_seconds=60, clock=lambda: now[0])
    logger = logging.getLogger("test.budget")
    caplog.set_level(logging.ERROR, logger="test.budget")

    def fail(n: int) -> Exception:
        try:
            raise ValueError(n)
        except ValueError as exc:
            return exc
    written = [budget.log(logger, "出错", fail(i)) for i in range(5)]
    assert written == [True, False, False, False, False]
    now[0] = 61.0
    assert budget.log(logger, "出错", fail(5))
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["出错", "出错: ValueError repeated 4 times in the last 61 s (traceback shown once)", "出错"]
    assert [bool(r.exc_info) for r in caplog.records] == [True, False, True]
