"""SQLite statements in one trip to aiosqlite's thread instead of four.

SQLAlchemy's aiosqlite adapter makes a cursor, executes, fetches and closes, each a trip to
the connection's thread and back to the event loop: about 100 µs each on this machine even
when idle, more when the loop is busy, and a write transaction holds the writers' turn
(app/db.py) for all of them. Here a statement is one function on that thread (cursor,
execute, fetch all, close), as SQLAlchemy's own adapter already does to set the isolation
level (aiosqlite's queue and raw connection). Measured: a 20-row select 550 → 270 µs at
rest; a hall call's transaction 16 trips → 5, and 3 since a write's BEGIN goes with its
first statement and nothing is sent to end a transaction that never began (a read's
commit, the pool's rollback on return).

Installed on each new connection by app/db.py (its class is swapped for OneHopConnection,
which names the cursor class and skips ending a transaction that never began). tests/test_db_writes.py holds the cursor to the
DB-API's behaviour the engine relies on (rows, description, rowcount with RETURNING,
lastrowid, errors).
"""

from __future__ import annotations

import collections
from typing import Any, Sequence

from sqlalchemy.dialects.sqlite.aiosqlite import (AsyncAdapt_aiosqlite_connection,
                                                  AsyncAdapt_aiosqlite_cursor)
from sqlalchemy.util.concurrency import await_


def _run(raw: Any, begin: str | None, many: bool, operation: str, parameters: Any) -> tuple:
    """On the connection's thread: the transaction's BEGIN if it is still to be sent, the
    whole statement, and what the cursor knew after it."""
    if begin is not None:
        raw.execute(begin)
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
        if not parameters and operation.startswith("BEGIN"):
            # app/db.py's BEGIN IMMEDIATE: sent with the transaction's first statement, in
            # its trip (a call's transaction: 5 trips → 4). A BEGIN that fails (busy) fails
            # that statement instead, with the same error, before it ran.
            self._connection.onehop_begin = operation
            self._description, self._rowcount, self._lastrowid = None, -1, None
            self._rows = collections.deque()
            return
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
            begin = _take_begin(aio)
            return await aio._execute(_run, aio._conn, begin, many, operation, parameters)


def _take_begin(aio: Any) -> str | None:
    """The BEGIN still to be sent on this aiosqlite connection, now taken: from here on the
    connection has a transaction open."""
    begin = getattr(aio, "onehop_begin", None)
    if begin is not None:
        aio.onehop_begin = None
        aio.onehop_open = True
    return begin


def _ends_a_transaction(aio: Any) -> bool:
    """Whether COMMIT or ROLLBACK has anything to end. app/db.py turns pysqlite's implicit
    BEGIN off, so only a BEGIN sent here opens a transaction; without one, the engine's
    commit after every read and the pool's rollback on every return were two trips that
    did nothing."""
    if getattr(aio, "onehop_begin", None) is not None:  # never sent: nothing began
        aio.onehop_begin = None
        return False
    was_open = getattr(aio, "onehop_open", False)
    aio.onehop_open = False
    return was_open


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneHopCursor

    def commit(self) -> None:
        if _ends_a_transaction(self._connection):
            super().commit()

    def rollback(self) -> None:
        if _ends_a_transaction(self._connection):
            super().rollback()
