"""Import jobs keep a report: problems grouped by message, and the cells corrected

Revision ID: 0114imports
Revises: 0113exports
"""
import sqlalchemy as sa
from alembic import op

revision = '0114imports'
down_revision = '0113exports'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("import_jobs", "origin_import_jobs"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("report", sa.JSON(), nullable=True))


def downgrade() -> None:
    for table in ("import_jobs", "origin_import_jobs"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("report")
