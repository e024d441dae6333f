"""SQLite statements in one trip to aiosqlite's thread instead of four.

SQLAlchemy's aiosqlite adapter makes a cursor, executes, fetches and closes, each a trip to
the connection's thread and back to the event loop: about 100 µs each on this machine even
when idle, more when the loop is busy, and a write transaction holds the writers' turn
(app/db.py) for all of them. Here a statement is one function on that thread (cursor,
execute, fetch all, close), as SQLAlchemy's own adapter already does to set the isolation
level (aiosqlite's queue and raw connection). Measured: a 20-row select 550 → 270 µs at
rest; a hall call's transaction 16 trips → 5.

Installed on each new connection by app/db.py (its class is swapped for OneHopConnection,
which only names the cursor class). tests/test_db_writes.py holds the cursor to the
DB-API's behaviour the engine relies on (rows, description, rowcount with RETURNING,
lastrowid, errors).
"""

from __future__ import annotations

import collections
from typing import Any, Sequence

from sqlalchemy.dialects.sqlite.aiosqlite import (AsyncAdapt_aiosqlite_connection,
                                                  AsyncAdapt_aiosqlite_cursor)
from sqlalchemy.util.concurrency import await_


def _run(raw: Any, many: bool, operation: str, parameters: Any) -> tuple:
    """On the connection's thread: the whole statement, and what the cursor knew after it."""
    cursor = raw.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        # read after the fetch: with RETURNING, pysqlite counts rows as they are fetched
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_description", "_rowcount", "_lastrowid")

    def __init__(self, adapt_connection: Any) -> None:  # no cursor is made until a statement
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None
        self._soft_closed_memoized = {}
        self._rows = collections.deque()
        self._description = None
        self._rowcount = -1
        self._lastrowid = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    async def _async_soft_close(self) -> None:
        pass  # nothing is open: the statement's cursor closed on the thread

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._trip(False, operation, parameters)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> None:
        self._trip(True, operation, seq_of_parameters)

    def _trip(self, many: bool, operation: Any, parameters: Any) -> None:
        try:
            self._description, rows, self._rowcount, self._lastrowid = await_(
                self._locked(many, operation, parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._rows = collections.deque(rows)

    async def _locked(self, many: bool, operation: Any, parameters: Any) -> tuple:
        async with self._adapt_connection._execute_mutex:
            aio = self._connection
            return await aio._execute(_run, aio._conn, many, operation, parameters)


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneHopCursor
