"""Engine and transactions.

`Database.write()` opens a write transaction: on SQLite it starts with BEGIN IMMEDIATE,
because a deferred BEGIN that reads and then writes fails at once with "database is
locked" when another writer got there first, whatever the busy timeout. To control the
BEGIN, pysqlite's own implicit BEGIN is switched off and ours is emitted from the "begin"
event (SQLAlchemy's documented SQLite recipe).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import AsyncIterator

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

BEGIN_OPTION = "sqlite_begin"


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _install_sqlite_hooks(engine)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    @sa.event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection, _record):  # noqa: ANN001
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn):  # noqa: ANN001
        mode = conn.get_execution_options().get(BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """The app's one engine, with read and write transactions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = url.startswith("sqlite")

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            async with conn.begin():
                yield conn

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            if self.is_sqlite:
                await conn.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
            async with conn.begin():
                yield conn

    async def dispose(self) -> None:
        await self.engine.dispose()


def lock_for_update(stmt: sa.Select, db_is_sqlite: bool) -> sa.Select:
    """SELECT … FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers."""
    return stmt if db_is_sqlite else stmt.with_for_update()
