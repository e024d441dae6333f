"""Export jobs: every workbook written in the background, with progress

Revision ID: 0113exports
Revises: 0112outbox
"""
import sqlalchemy as sa
from alembic import op

Time = sa.DateTime(timezone=True)  # migrations stay independent of the app

revision = '0113exports'
down_revision = '0112outbox'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "export_jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("same_as", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("total_rows", sa.Integer),
        sa.Column("processed_rows", sa.Integer, nullable=False, server_default="0"),
        sa.Column("stored_name", sa.String(64)),
        sa.Column("size_bytes", sa.BigInteger),
        sa.Column("message", sa.Text),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("started_at", Time),
        sa.Column("finished_at", Time),
        sa.Column("expires_at", Time),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("lease_until", Time),
        sa.Column("runs", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_export_jobs_account", "export_jobs", ["account_id", "created_at"])
    op.create_index("ix_export_jobs_status", "export_jobs", ["status"])


def downgrade() -> None:
    op.drop_table("export_jobs")
