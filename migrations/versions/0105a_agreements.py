"""就业协议书: agreements and their number counters

Revision ID: 0105a
Revises: 0104d
"""
from alembic import op
import sqlalchemy as sa

revision = '0105a'
down_revision = '0104d'
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'agreements',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('channel', sa.String(10), nullable=False),
        sa.Column('status', sa.String(20), nullable=False),
        sa.Column('student_record_id', sa.Integer(), sa.ForeignKey('student_records.id'), nullable=False),
        sa.Column('school_id', sa.Integer(), sa.ForeignKey('schools.id'), nullable=False),
        sa.Column('college_id', sa.Integer(), sa.ForeignKey('colleges.id'), nullable=False),
        sa.Column('employer_id', sa.Integer(), sa.ForeignKey('employers.id')),
        sa.Column('created_by', sa.Integer(), sa.ForeignKey('accounts.id'), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('previous_data', sa.JSON()),
        sa.Column('opinion', sa.Text()),
        sa.Column('valid_until', TIME),
        sa.Column('number', sa.String(40), unique=True),
        sa.Column('verify_token', sa.String(64), unique=True),
        sa.Column('confirm_token_hash', sa.String(64), unique=True),
        sa.Column('confirm_expires_at', TIME),
        sa.Column('confirm_used_at', TIME),
        sa.Column('employer_comment', sa.Text()),
        sa.Column('scans', sa.JSON(), nullable=False),
        sa.Column('created_at', TIME, nullable=False),
        sa.Column('updated_at', TIME, nullable=False),
        sa.Column('generated_at', TIME),
        sa.Column('effective_at', TIME),
        sa.Column('ended_at', TIME),
    )
    op.create_index('ix_agreements_student', 'agreements', ['student_record_id', 'status'])
    op.create_index('ix_agreements_queue', 'agreements', ['school_id', 'college_id', 'status'])
    op.create_index('ix_agreements_employer', 'agreements', ['employer_id', 'status'])
    op.create_table(
        'agreement_numbers',
        sa.Column('prefix', sa.String(30), primary_key=True),
        sa.Column('last', sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('agreement_numbers')
    for name in ('ix_agreements_employer', 'ix_agreements_queue', 'ix_agreements_student'):
        op.drop_index(name, 'agreements')
    op.drop_table('agreements')
