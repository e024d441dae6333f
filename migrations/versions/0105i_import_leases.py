"""import jobs: a lease (claimed_by, lease_until) and a run count, so one process resumes an
interrupted job, once

Revision ID: 0105i
Revises: 0107r
"""
from alembic import op
import sqlalchemy as sa

revision = '0105i'
down_revision = '0107r'
branch_labels = None
depends_on = None

TABLES = ('import_jobs', 'origin_import_jobs')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('claimed_by', sa.String(64)))
            batch.add_column(sa.Column('lease_until', sa.DateTime(timezone=True)))
            batch.add_column(sa.Column('runs', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column('runs')
            batch.drop_column('lease_until')
            batch.drop_column('claimed_by')
