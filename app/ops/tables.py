"""Cluster-wide periodic jobs. It shares app.schema.metadata; app/all_tables.py gathers it."""

from __future__ import annotations

import sqlalchemy as sa

from ..schema import Time, metadata

# One row per periodic job: the process that claimed the current period and until when.
# Claiming is one conditional UPDATE, so of N processes exactly one runs the job a period.
periodic_leases = sa.Table(
    "periodic_leases", metadata,
    sa.Column("name", sa.String(50), primary_key=True),
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("lease_until", Time),
    sa.Column("last_run_at", Time),
)
