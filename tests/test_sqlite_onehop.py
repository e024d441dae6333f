"""SQLite statements in one trip to aiosqlite's thread (app/sqlite_onehop.py): the app's
connections use it, a statement is one trip, and the cursor behaves as the DB-API cursor
SQLAlchemy expects (rows and their names, rowcount with and without RETURNING, lastrowid,
executemany, errors that leave the connection usable, rollback)."""

from __future__ import annotations

import aiosqlite
import pytest
import sqlalchemy as sa

from app.db import Database
from app.sqlite_onehop import OneHopConnection
from tests.conftest import using_postgres

pytestmark = pytest.mark.skipif(using_postgres(), reason="the SQLite driver's adapter only")

T = sa.Table("onehop_probe", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("name", sa.String, unique=True, nullable=False))


@pytest.fixture
async def db(database_url):  # noqa: ANN001, ANN201
    database = Database(database_url)
    async with database.write() as conn:
        await conn.run_sync(T.create)
    yield database
    await database.dispose()


async def test_the_apps_connections_make_one_trip_per_statement(db, monkeypatch):
    trips = 0
    execute = aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):  # noqa: ANN001, ANN202
        nonlocal trips
        trips += 1
        return await execute(self, fn, *args, **kwargs)
    async with db.read() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.dbapi_connection, OneHopConnection)
        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
        assert (await conn.execute(sa.select(T))).all() == []
        assert trips == 1  # SQLAlchemy's own adapter makes four: cursor, execute, fetch, close


async def test_a_writes_begin_goes_with_its_first_statement(db, monkeypatch):
    """BEGIN IMMEDIATE, the insert and the COMMIT: two trips; a write that ran nothing
    makes none, nor does ending a read (no transaction began). The lock is still taken: a
    second connection cannot write meanwhile."""
    sent: list[str] = []
    execute = aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):  # noqa: ANN001, ANN202
        sent.append(next((a for a in args if isinstance(a, str)), fn.__name__))
        return await execute(self, fn, *args, **kwargs)
    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    async with db.write() as conn:
        await conn.execute(T.insert().values(name="一次"))
        assert sent == ["BEGIN IMMEDIATE"]  # the trip's first text: the BEGIN, then the insert
        other = sa.create_engine(db.engine.url.set(drivername="sqlite"),
                                 connect_args={"timeout": 0})
        with pytest.raises(sa.exc.OperationalError, match="locked"), other.begin() as sync:
            sync.execute(T.insert().values(name="另一个"))
        other.dispose()
    assert sent[1:] == ["commit"]  # and no rollback when the pool takes it back
    sent.clear()
    async with db.write():
        pass
    assert sent == []
    async with db.read() as conn:
        assert (await conn.execute(sa.select(T.c.name))).scalars().all() == ["一次"]
    assert len(sent) == 1  # the select: no commit, no rollback


async def test_the_cursor_behaves_as_the_engine_expects(db):
    async with db.write() as conn:
        first = await conn.execute(T.insert().values(name="甲"))
        assert first.inserted_primary_key == (1,) and first.rowcount == 1
        many = await conn.execute(T.insert(), [{"name": "乙"}, {"name": "丙"}, {"name": "丁"}])
        assert many.rowcount == 3
        result = await conn.execute(sa.select(T.c.id, T.c.name).order_by(T.c.id))
        assert list(result.keys()) == ["id", "name"]
        assert [tuple(r) for r in result] == [(1, "甲"), (2, "乙"), (3, "丙"), (4, "丁")]
        changed = await conn.execute(T.update().where(T.c.id > 2).values(name=T.c.name + "!"))
        assert changed.rowcount == 2
        returned = await conn.execute(T.update().where(T.c.id <= 2).values(name=T.c.name + "?")
                                      .returning(T.c.id))
        assert sorted(returned.scalars()) == [1, 2]
        none = await conn.execute(T.delete().where(T.c.id == 99))
        assert none.rowcount == 0
    async with db.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(T))).scalar() == 4


async def test_an_error_is_the_engines_and_leaves_the_connection_usable(db):
    with pytest.raises(sa.exc.IntegrityError):
        async with db.write() as conn:
            await conn.execute(T.insert().values(name="重复"))
            await conn.execute(T.insert().values(name="重复"))
    async with db.write() as conn:  # rolled back: neither row is there
        assert (await conn.execute(sa.select(T))).all() == []
        await conn.execute(T.insert().values(name="重复"))
    async with db.read() as conn:
        assert (await conn.execute(sa.select(T.c.name))).scalars().all() == ["重复"]
