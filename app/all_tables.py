"""The whole schema: the shared core (app/tables.py) and every domain's own tables, all on
app.schema.metadata. Alembic (migrations/env.py) and the tests import `metadata` from here;
the app itself never needs to, and nothing imports this module back."""

from __future__ import annotations

from . import tables as _core  # noqa: F401
from .destinations import tables as _destinations  # noqa: F401
from .registration import tables as _registration  # noqa: F401
from .reviews import tables as _reviews  # noqa: F401
from .schema import metadata
from .school_settings import tables as _school_settings  # noqa: F401
from .signing import tables as _signing  # noqa: F401
from .sms import tables as _sms  # noqa: F401

__all__ = ["metadata"]
