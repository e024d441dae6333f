"""The migrations build exactly the schema the code declares (app/all_tables.py: the core
and every domain's tables): a column or index added to one and not the other fails here, on
SQLite and on PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from app.all_tables import metadata


async def test_migrated_schema_matches_the_tables(database_url):
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            diffs = await conn.run_sync(lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": False}), metadata))
    finally:
        await engine.dispose()
    assert diffs == []
