"""hall process leases: a row per server process, refreshed while it lives; tickets note the
process holding their student's connection (tickets of a killed process are released)

Revision ID: 0104s
Revises: 0108t
"""
from alembic import op
import sqlalchemy as sa

revision = '0104s'
down_revision = '0108t'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'hall_processes',
        sa.Column('id', sa.String(32), primary_key=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table('hall_tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('process_id', sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('hall_tickets', schema=None) as batch_op:
        batch_op.drop_column('process_id')
    op.drop_table('hall_processes')
