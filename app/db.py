"""Engine and transactions.

`Database.write()` opens a write transaction: on SQLite it starts with BEGIN IMMEDIATE,
because a deferred BEGIN that reads and then writes fails at once with "database is
locked" when another writer got there first, whatever the busy timeout. To control the
BEGIN, pysqlite's own implicit BEGIN is switched off and ours is emitted from the "begin"
event (SQLAlchemy's documented SQLite recipe).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as postgresql_dialect, sqlite as sqlite_dialect
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from .sqlite_onehop import OneHopConnection

BEGIN_OPTION = "sqlite_begin"
SQLITE_BUSY_SECONDS = 30
CHANGED = "changed_tables"  # key in a connection's info: what this transaction wrote
ACCOUNTS_OPTION = "written_accounts"  # a DML statement's option: whose rows it writes
log = logging.getLogger(__name__)


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS})
        _install_sqlite_hooks(engine)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    @sa.event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection, _record):  # noqa: ANN001
        if type(dbapi_connection) is AsyncAdapt_aiosqlite_connection:
            dbapi_connection.__class__ = OneHopConnection  # app/sqlite_onehop.py
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn):  # noqa: ANN001
        # NONE: a read (Database.read); pysqlite's commit is then a no-op
        mode = conn.get_execution_options().get(BEGIN_OPTION, "DEFERRED")
        if mode != "NONE":
            conn.exec_driver_sql(f"BEGIN {mode}")


def for_accounts(stmt: sa.sql.dml.UpdateBase, *account_ids: int | None) -> Any:
    """`stmt` marked as writing only rows of these accounts (their `account_id`, or their
    own id in `accounts`), so a commit drops only those accounts' cached entries (app/
    accountcache.py). A write not marked this way is taken to touch every account's rows.
    A None (a row of nobody's yet) is left out: no account's page shows it."""
    return stmt.execution_options(**{ACCOUNTS_OPTION: frozenset(a for a in account_ids
                                                                if a is not None)})


def _install_change_hook(engine: AsyncEngine) -> None:
    """Note in the connection's info each table a statement wrote and whose rows: a set of
    account ids (the statement's for_accounts), or None for "any account's"."""
    @sa.event.listens_for(engine.sync_engine, "after_execute")
    def on_execute(conn, clause, _multiparams, _params, _options, result):  # noqa: ANN001
        if not isinstance(clause, sa.sql.dml.UpdateBase):
            return
        table = getattr(clause, "table", None)
        name = getattr(table, "name", None)
        if not name:
            return
        # An UPDATE or DELETE that matched nothing changed nothing (the sweeps' conditional
        # writes). Not judged for a RETURNING statement: pysqlite counts its rows only as
        # they are fetched.
        if not isinstance(clause, sa.Insert) and not clause._returning and result.rowcount == 0:
            return
        changed = conn.info.setdefault(CHANGED, {})
        accounts = clause.get_execution_options().get(ACCOUNTS_OPTION)
        if accounts is None or changed.get(name, set()) is None:
            changed[name] = None
        else:
            changed[name] = changed.get(name, set()) | accounts


Watcher = tuple[frozenset[str], Callable[[], Awaitable[None]]]
AccountWatcher = Callable[[frozenset[int] | None], Awaitable[None]]


# What to take back if the current task's write transaction does not commit: files written
# beside it (app/files.py). A refused upload left its bytes on disk with no row, for ever.
_ROLLBACK_UNDO: contextvars.ContextVar[list[Callable[[], None]] | None] = \
    contextvars.ContextVar("rollback_undo", default=None)


def undo_on_rollback(undo: Callable[[], None]) -> None:
    """Run `undo` if the write transaction this task is in rolls back (or fails to commit).
    Outside a write transaction there is nothing to tie it to: the caller's work stands."""
    pending = _ROLLBACK_UNDO.get()
    if pending is not None:
        pending.append(undo)


def _undo(undo: list[Callable[[], None]]) -> None:
    for step in reversed(undo):
        try:
            step()
        except OSError:
            log.exception("taking back a rolled-back write failed")


class Database:
    """The app's one engine, with read and write transactions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = url.startswith("sqlite")
        self._watchers: list[Watcher] = []
        self._account_watchers: list[tuple[frozenset[str], AccountWatcher]] = []
        # Reads on SQLite send no BEGIN: each statement is then its own snapshot, as every
        # statement is on PostgreSQL under READ COMMITTED (what the code already allows
        # for), and a page or a socket connect saves a statement (about a quarter of a
        # one-query read's cost, measured).
        self._reader = (self.engine.execution_options(**{BEGIN_OPTION: "NONE"})
                        if self.is_sqlite else self.engine)
        # SQLite has one writer at a time. Left to itself, a BEGIN IMMEDIATE that finds the
        # lock taken sleeps in SQLite's busy handler (1, 2, 5 … 100 ms) while later ones
        # may get in first: in a burst of 5,000 joins some waited seconds. Queued here
        # instead, this process's writers take turns in arrival order and none sleeps;
        # busy_timeout still covers another process (the command line).
        self._writers = asyncio.Lock() if self.is_sqlite else None
        self._writing: asyncio.Task | None = None  # the task holding self._writers
        _install_change_hook(self.engine)

    def on_commit(self, tables: Iterable[str], callback: Callable[[], Awaitable[None]]) -> None:
        """After a committed write to any of `tables`, await `callback()` (before write()
        returns, so the change's own response comes after it)."""
        self._watchers.append((frozenset(tables), callback))

    def on_commit_accounts(self, tables: Iterable[str], callback: AccountWatcher) -> None:
        """After a committed write to any of `tables`, await `callback(accounts)`: the
        accounts whose rows it wrote (for_accounts), or None when any account's may be."""
        self._account_watchers.append((frozenset(tables), callback))

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self._reader.connect() as conn:
            async with conn.begin():
                yield conn

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        undo: list[Callable[[], None]] = []
        kept = _ROLLBACK_UNDO.set(undo)
        try:
            async with self._turn_to_write():
                async with self.engine.connect() as conn:
                    if self.is_sqlite:
                        await conn.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
                    # info lives with the pooled connection: start clean, whatever its last
                    # user left (a rolled-back change). It is not touched when the
                    # transaction fails: on a connection invalidated meanwhile (a cancelled
                    # commit), reading it would reconnect outside SQLAlchemy's greenlet.
                    conn.info.pop(CHANGED, None)
                    async with conn.begin():
                        yield conn
                    changed = conn.info.pop(CHANGED, None)
        except BaseException:
            _undo(undo)
            raise
        finally:
            _ROLLBACK_UNDO.reset(kept)
        if changed:
            await self._committed(changed)

    @contextlib.asynccontextmanager
    async def _turn_to_write(self) -> AsyncIterator[None]:
        if self._writers is None:
            yield
            return
        if self._writing is not None and self._writing is asyncio.current_task():
            raise RuntimeError("a write transaction inside another of the same task")
        # As long as SQLite's own busy_timeout. asyncio.timeout, not wait_for: Python
        # 3.11's wait_for runs acquire() in a task of its own, and with it a server
        # stopping (every task cancelled) left the turn taken about half the time, so the
        # next writer waited out the whole timeout; acquired in this task it never did.
        async with asyncio.timeout(SQLITE_BUSY_SECONDS):
            await self._writers.acquire()
        self._writing = asyncio.current_task()
        try:
            yield
        finally:
            self._writing = None
            self._writers.release()

    async def _committed(self, changed: dict[str, frozenset[int] | None]) -> None:
        for tables, callback in self._watchers:
            if tables & changed.keys():
                await self._call_back(tables, callback())
        for tables, account_callback in self._account_watchers:
            written = [changed[t] for t in tables & changed.keys()]
            if written:
                accounts = None if None in written else frozenset().union(*written)
                await self._call_back(tables, account_callback(accounts))

    @staticmethod
    async def _call_back(tables: frozenset[str], call: Awaitable[None]) -> None:
        try:
            await call
        except Exception:  # the change is committed; its caller must not see a failure
            log.exception("after-commit callback for %s failed", sorted(tables))

    async def dispose(self) -> None:
        await self.engine.dispose()


def dialect_insert(conn: AsyncConnection | bool, table: sa.Table) -> sa.Insert:
    """The dialect's INSERT, which has `.on_conflict_do_nothing()` and `.on_conflict_do_update()`:
    on both engines a race on a unique key then ends in no row (or the update) instead of an
    IntegrityError, which would abort the whole transaction on PostgreSQL. `conn` may be
    the connection or `db.is_sqlite`."""
    is_sqlite = conn if isinstance(conn, bool) else conn.dialect.name == "sqlite"
    return (sqlite_dialect.insert if is_sqlite else postgresql_dialect.insert)(table)


def lock_for_update(stmt: sa.Select, db_is_sqlite: bool) -> sa.Select:
    """SELECT … FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers."""
    return stmt if db_is_sqlite else stmt.with_for_update()
