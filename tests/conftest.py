"""Shared fixtures: a real migrated database (SQLite file or PostgreSQL), the real app,
a real SMTP server (aiosmtpd), and a client that speaks forms with CSRF like a browser.

TEST_DB=postgres runs everything on PostgreSQL (PG_URL, default the local `test` server):
each run makes its own database, migrates it once and empties the tables between tests.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from app.clock import ManualClock
from app.config import Settings
from app.migrate import upgrade
from app.all_tables import metadata
from app.web import create_app
from tests.factories import World, build_world
from tests.mailbox import Mailbox

PG_ADMIN_URL = os.environ.get("PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def using_postgres() -> bool:
    return os.environ.get("TEST_DB", "sqlite") == "postgres"


ENGINE_INDEPENDENT = "engine_independent"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL run deselects the tests marked engine_independent (the axe walk, the
    keyboard flow, the phone layout …): they drive a browser for minutes to check what the
    engine cannot change, and the SQLite run of the same commit runs them. Deselected, not
    skipped: the summary says how many and why (pytest_terminal_summary)."""
    if not using_postgres():
        return
    once = [item for item in items if item.get_closest_marker(ENGINE_INDEPENDENT)]
    if once:
        items[:] = [item for item in items if not item.get_closest_marker(ENGINE_INDEPENDENT)]
        config.hook.pytest_deselected(items=once)
        config.stash[_LEFT_TO_SQLITE] = [item.nodeid for item in once]


_LEFT_TO_SQLITE = pytest.StashKey[list]()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    left = config.stash.get(_LEFT_TO_SQLITE, [])
    if left:
        terminalreporter.write_line(
            f"{len(left)} engine-independent test(s) left to the SQLite run (markup, layout, "
            f"keyboard, browser media; no database engine changes them): " + ", ".join(left))


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Migrate once per run: a template SQLite file, or a fresh PostgreSQL database."""
    if not using_postgres():
        path = tmp_path_factory.mktemp("template") / "template.db"
        upgrade(f"sqlite+aiosqlite:///{path}")
        yield str(path)
        return
    name = f"cqbys_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _pg_admin(sql: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine
    engine = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.exec_driver_sql(sql)
    await engine.dispose()


@pytest.fixture
def database_url(migrated_database: str, tmp_path: Path) -> str:
    """A clean, migrated database for one test."""
    if not using_postgres():
        path = tmp_path / "app.db"
        shutil.copy(migrated_database, path)
        return f"sqlite+aiosqlite:///{path}"
    asyncio.run(_pg_reset(migrated_database))
    return migrated_database


async def _pg_reset(url: str) -> None:
    """Empty every table. A connection an earlier test left open in a transaction (its loop
    closed under it) would hold locks and make TRUNCATE wait forever: end such sessions
    first, and give up with an error rather than hang if something still holds a lock."""
    from sqlalchemy.ext.asyncio import create_async_engine
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        await conn.exec_driver_sql("SET lock_timeout = '30s'")
        await conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    await engine.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(dt.datetime.now(dt.timezone.utc).replace(microsecond=0))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings.from_env({}, data_dir=tmp_path / "data", database_url=database_url,
                             secret_key="test-secret-key", public_base_url="http://127.0.0.1",
                             outbox_poll_seconds=0.2)


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.start()
    yield box
    box.stop()


@pytest.fixture
async def world(settings: Settings, clock: ManualClock) -> World:
    return await build_world(settings.database_url, clock.now())


class FormClient:
    """Wraps aiohttp's TestClient: GETs a page, then POSTs forms with its CSRF token."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.app = client.app

    async def get(self, path: str, **kw: Any):  # noqa: ANN201
        return await self.client.get(path, allow_redirects=kw.pop("allow_redirects", False), **kw)

    def csrf(self) -> str:
        cookie = self.client.session.cookie_jar.filter_cookies(self.client.make_url("/"))
        if "csrftoken" not in cookie:
            raise AssertionError("no CSRF cookie yet: GET a page first")
        return cookie["csrftoken"].value

    async def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True,
                   **kw: Any):  # noqa: ANN201
        if csrf and "csrftoken" not in self.client.session.cookie_jar.filter_cookies(
                self.client.make_url("/")):
            await self.client.get("/")
        form = dict(data or {})
        if csrf:
            form.setdefault("_csrf", self.csrf())
        return await self.client.post(path, data=form,
                                      allow_redirects=kw.pop("allow_redirects", False), **kw)

    async def login(self, kind: str, account: str, password: str, **extra: str):  # noqa: ANN201
        resp = await self.post(f"/login/{kind}", {"account": account, "password": password, **extra})
        assert resp.status == 303, await resp.text()
        return resp


@pytest.fixture
async def app(settings: Settings, clock: ManualClock):  # noqa: ANN201
    return create_app(settings, clock=clock)


@pytest.fixture
async def client(aiohttp_client, app) -> FormClient:  # noqa: ANN001
    return FormClient(await aiohttp_client(app))


@pytest.fixture
async def make_client(aiohttp_client, app):  # noqa: ANN001, ANN201
    """Several independent browsers against one app (each has its own cookies)."""
    server = None

    async def make() -> FormClient:
        nonlocal server
        if server is None:
            first = await aiohttp_client(app)
            server = first.server
            return FormClient(first)
        return FormClient(await aiohttp_client(server))
    return make


def field_error(html: str, name: str) -> str | None:
    """The message shown next to a field, or None."""
    m = re.search(rf'id="f-{name}-error">([^<]*)<', html)
    return m.group(1) if m else None


def form_error(html: str) -> str | None:
    m = re.search(r'id="form-error">([^<]*)', html)
    return m.group(1).strip() if m else None


async def count(database_url: str, table: sa.Table, *where: Any) -> int:
    from app.db import Database
    db = Database(database_url)
    try:
        async with db.read() as conn:
            return (await conn.execute(
                sa.select(sa.func.count()).select_from(table).where(*where))).scalar_one()
    finally:
        await db.dispose()


@pytest.fixture
async def sockets():  # noqa: ANN201
    """Every socket.io client a test opens goes here and is closed at its end, pass or fail."""
    opened: list = []
    yield opened
    for c in opened:
        if c.sio.connected:
            await c.sio.disconnect()
