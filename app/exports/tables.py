"""Export jobs: one row per workbook asked for, with its progress and its file."""

from __future__ import annotations

import sqlalchemy as sa

from ..schema import Time, metadata

export_jobs = sa.Table(
    "export_jobs", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.ForeignKey("accounts.id"), nullable=False),  # the only reader
    sa.Column("kind", sa.String(30), nullable=False),           # kinds.KINDS
    sa.Column("params", sa.JSON, nullable=False),               # the resolved scope and filters
    # the same user asking the same export again while one runs gets that one
    sa.Column("same_as", sa.String(64), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),         # what the list and file are called
    sa.Column("status", sa.String(10), nullable=False),         # queued running done failed
    sa.Column("total_rows", sa.Integer),
    sa.Column("processed_rows", sa.Integer, nullable=False, server_default="0"),
    sa.Column("stored_name", sa.String(64)),                    # a random name in DATA_DIR/exports
    sa.Column("size_bytes", sa.BigInteger),
    sa.Column("message", sa.Text),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("started_at", Time),
    sa.Column("finished_at", Time),
    sa.Column("expires_at", Time),                              # the file is removed then
    # the process running the job and until when (app/joblease.py)
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("lease_until", Time),
    sa.Column("runs", sa.Integer, nullable=False, server_default="0"),
    sa.Index("ix_export_jobs_account", "account_id", "created_at"),
    sa.Index("ix_export_jobs_status", "status"),
)
