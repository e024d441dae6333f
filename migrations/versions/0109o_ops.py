"""Periodic job leases (housekeeping once per cluster)

Revision ID: 0109o
Revises: 0109st
"""
from alembic import op
import sqlalchemy as sa

revision = '0109o'
down_revision = '0109st'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'periodic_leases',
        sa.Column('name', sa.String(50), primary_key=True),
        sa.Column('claimed_by', sa.String(64)),
        sa.Column('lease_until', sa.DateTime(timezone=True)),
        sa.Column('last_run_at', sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table('periodic_leases')
