"""uploads: an index for the per-account storage quota (sum of an owner's file sizes)

Revision ID: 0104u
Revises: 0106s
"""
from alembic import op

revision = '0104u'
down_revision = '0106s'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The quota sums one account's files inside the upload's write transaction (which on
    # SQLite holds the database's one write lock): an index, not a scan of every file.
    op.create_index('ix_files_owner', 'files', ['owner_id', 'kind'])


def downgrade() -> None:
    op.drop_index('ix_files_owner', table_name='files')
