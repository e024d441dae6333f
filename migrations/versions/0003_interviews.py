"""interviews and hall tickets

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 18:07:55.628775
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('interview_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('allow_walk_ins', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], name=op.f('fk_interview_sessions_employer_id_employers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interview_sessions')),
    sa.UniqueConstraint('employer_id', 'day', name='uq_interview_sessions_employer_day')
    )
    op.create_table('interviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('sequence', sa.Integer(), server_default='0', nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=True),
    sa.Column('outcome_released', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('employer_notes', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_interviews_account_id_accounts')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_interviews_application_id_applications')),
    sa.ForeignKeyConstraint(['session_id'], ['interview_sessions.id'], name=op.f('fk_interviews_session_id_interview_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interviews'))
    )
    with op.batch_alter_table('interviews', schema=None) as batch_op:
        batch_op.create_index('ix_interviews_account', ['account_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_interviews_session', ['session_id', 'starts_at'], unique=False)

    op.create_table('hall_tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=True),
    sa.Column('slot_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('arrived_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('connected', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('called_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('call_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('probe', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_hall_tickets_account_id_accounts')),
    sa.ForeignKeyConstraint(['interview_id'], ['interviews.id'], name=op.f('fk_hall_tickets_interview_id_interviews')),
    sa.ForeignKeyConstraint(['session_id'], ['interview_sessions.id'], name=op.f('fk_hall_tickets_session_id_interview_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hall_tickets')),
    sa.UniqueConstraint('session_id', 'account_id', name='uq_hall_tickets_session_account')
    )
    with op.batch_alter_table('hall_tickets', schema=None) as batch_op:
        batch_op.create_index('ix_hall_tickets_session', ['session_id', 'status'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('hall_tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_hall_tickets_session')

    op.drop_table('hall_tickets')
    with op.batch_alter_table('interviews', schema=None) as batch_op:
        batch_op.drop_index('ix_interviews_session')
        batch_op.drop_index('ix_interviews_account')

    op.drop_table('interviews')
    op.drop_table('interview_sessions')

