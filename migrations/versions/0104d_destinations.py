"""graduate destinations (one effective per graduate), per-school settings, phone verifications

Revision ID: 0104d
Revises: 0104c
"""
from alembic import op
import sqlalchemy as sa

revision = '0104d'
down_revision = '0104c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'graduate_destinations',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('student_record_id', sa.Integer(), sa.ForeignKey('student_records.id'),
                  nullable=False, unique=True),
        sa.Column('school_id', sa.Integer(), sa.ForeignKey('schools.id'), nullable=False),
        sa.Column('college_id', sa.Integer(), sa.ForeignKey('colleges.id'), nullable=False),
        sa.Column('code', sa.String(4), nullable=False),
        sa.Column('sub_code', sa.String(4)),
        sa.Column('source', sa.String(20), nullable=False),
        sa.Column('source_id', sa.Integer(), nullable=False),
        sa.Column('effective_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_graduate_destinations_school', 'graduate_destinations',
                    ['school_id', 'college_id', 'code'])
    op.create_table(
        'school_settings',
        sa.Column('school_id', sa.Integer(), sa.ForeignKey('schools.id'), primary_key=True),
        sa.Column('online_signing', sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column('registration_deadline', sa.Date()),
        sa.Column('registration_reopened', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column('termination_opens', sa.Date()),
        sa.Column('termination_closes', sa.Date()),
        sa.Column('updated_at', sa.DateTime(timezone=True)),
        sa.Column('updated_by', sa.Integer(), sa.ForeignKey('accounts.id')),
    )
    op.create_table(
        'phone_verifications',
        sa.Column('account_id', sa.Integer(), sa.ForeignKey('accounts.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('phone', sa.String(20), nullable=False),
        sa.Column('verified_at', sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('phone_verifications')
    op.drop_table('school_settings')
    op.drop_index('ix_graduate_destinations_school', 'graduate_destinations')
    op.drop_table('graduate_destinations')
