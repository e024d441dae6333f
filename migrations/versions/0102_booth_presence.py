"""booth presence: employer_present and absence_mailed_at on interview_sessions

Revision ID: 0102
Revises: 0101
"""
from alembic import op
import sqlalchemy as sa

revision = '0102'
down_revision = '0101'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('interview_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('employer_present', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('absence_mailed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('interview_sessions', schema=None) as batch_op:
        batch_op.drop_column('absence_mailed_at')
        batch_op.drop_column('employer_present')
