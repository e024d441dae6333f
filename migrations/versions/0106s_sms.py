"""SMS outbox

Revision ID: 0106s
Revises: 0105i
"""
from alembic import op
import sqlalchemy as sa

revision = '0106s'
down_revision = '0105i'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sms_outbox',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('to_phone', sa.String(20), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('purpose', sa.String(30), nullable=False),
        sa.Column('status', sa.String(10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claimed_until', sa.DateTime(timezone=True)),
        sa.Column('last_error', sa.Text()),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True)),
    )
    op.create_index('ix_sms_outbox_due', 'sms_outbox', ['status', 'next_attempt_at'])


def downgrade() -> None:
    op.drop_index('ix_sms_outbox_due', 'sms_outbox')
    op.drop_table('sms_outbox')
