"""hall monitor: call quality summaries, booth watchers, hall notices, ticket promises

Revision ID: 0103
Revises: 0102
"""
from alembic import op
import sqlalchemy as sa

revision = '0103'
down_revision = '0102'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'call_quality',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('ticket_id', sa.Integer(), sa.ForeignKey('hall_tickets.id'), nullable=False),
        sa.Column('side', sa.String(10), nullable=False),
        sa.Column('samples', sa.Integer(), nullable=False),
        sa.Column('first_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('rtt_ms', sa.Float()),
        sa.Column('loss', sa.Float(), nullable=False),
        sa.Column('out_kbps', sa.Float(), nullable=False),
        sa.Column('in_kbps', sa.Float(), nullable=False),
        sa.Column('fps', sa.Float(), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('relay', sa.Boolean(), nullable=False),
        sa.Column('verdict', sa.String(10), nullable=False),
        sa.Column('rtt_samples', sa.Integer(), nullable=False),
        sa.Column('rtt_sum', sa.Float(), nullable=False),
        sa.Column('rtt_max', sa.Float(), nullable=False),
        sa.Column('loss_sum', sa.Float(), nullable=False),
        sa.Column('loss_max', sa.Float(), nullable=False),
        sa.Column('out_kbps_sum', sa.Float(), nullable=False),
        sa.Column('in_kbps_sum', sa.Float(), nullable=False),
        sa.Column('fps_sum', sa.Float(), nullable=False),
        sa.Column('relay_samples', sa.Integer(), nullable=False),
        sa.Column('poor_samples', sa.Integer(), nullable=False),
        sa.Column('poor_since', sa.DateTime(timezone=True)),
        sa.Column('poor_seconds', sa.Float(), nullable=False),
        sa.UniqueConstraint('ticket_id', 'side', name='uq_call_quality_ticket_side'),
    )
    op.create_table(
        'hall_watchers',
        sa.Column('sid', sa.String(64), primary_key=True),
        sa.Column('session_id', sa.Integer(), sa.ForeignKey('interview_sessions.id'), nullable=False),
        sa.Column('account_id', sa.Integer(), sa.ForeignKey('accounts.id'), nullable=False),
        sa.Column('name', sa.String(100), nullable=False),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_hall_watchers_session', 'hall_watchers', ['session_id'])
    op.create_table(
        'hall_notices',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('session_id', sa.Integer(), sa.ForeignKey('interview_sessions.id')),
        sa.Column('school_id', sa.Integer(), sa.ForeignKey('schools.id')),
        sa.Column('author_id', sa.Integer(), sa.ForeignKey('accounts.id'), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_hall_notices_day', 'hall_notices', ['day'])
    with op.batch_alter_table('hall_tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('promised_eta_seconds', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('closed_reason', sa.Text(), nullable=True))
    with op.batch_alter_table('interview_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('interview_sessions', schema=None) as batch_op:
        batch_op.drop_column('closed_reason')
    with op.batch_alter_table('hall_tickets', schema=None) as batch_op:
        batch_op.drop_column('closed_reason')
        batch_op.drop_column('promised_eta_seconds')
    op.drop_index('ix_hall_notices_day', 'hall_notices')
    op.drop_table('hall_notices')
    op.drop_index('ix_hall_watchers_session', 'hall_watchers')
    op.drop_table('hall_watchers')
    op.drop_table('call_quality')
