"""What every tables module shares: the one MetaData (with its naming convention) and the
UTC datetime column type. It imports nothing from the app, so app/tables.py (the shared
core) and each domain's tables.py can all build on it without an import circle."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})


class UTCDateTime(sa.types.TypeDecorator):
    """Aware UTC datetimes in and out on every database.

    SQLite keeps no zone, so values go in as naive UTC and come back marked UTC;
    PostgreSQL stores timestamptz. Naive values are refused: they are always a bug.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.timezone.utc)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


Time = UTCDateTime()
