"""The whole schema: the shared core (app/tables.py) and every domain's own tables, all on
app.schema.metadata. Alembic (migrations/env.py) and the tests import `metadata` from here;
the app itself never needs to, and nothing imports this module back."""

from __future__ import annotations

from . import tables as core
from .destinations import tables as destinations
from .exports import tables as exports
from .ops import tables as ops
from .registration import tables as registration
from .reviews import tables as reviews
from .schema import metadata
from .school_settings import tables as school_settings
from .signing import tables as signing
from .sms import tables as sms
from .termination import tables as termination

# Importing a module is what puts its tables on `metadata`; tests/test_layout.py checks that
# every app/**/tables.py is here.
MODULES = (core, destinations, exports, ops, registration, reviews, school_settings, signing, sms,
           termination)

__all__ = ["MODULES", "metadata"]
