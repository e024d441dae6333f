"""解约中心: termination requests (at most one open per agreement)

Revision ID: 0108t
Revises: 0104u
"""
from alembic import op
import sqlalchemy as sa

revision = '0108t'
down_revision = '0104u'
branch_labels = None
depends_on = None

OPEN = sa.text("status IN ('draft', 'submitted', 'college_approved', 'returned')")


def upgrade() -> None:
    op.create_table(
        'termination_requests',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('agreement_id', sa.Integer(), sa.ForeignKey('agreements.id'), nullable=False),
        sa.Column('student_record_id', sa.Integer(), sa.ForeignKey('student_records.id'),
                  nullable=False),
        sa.Column('school_id', sa.Integer(), sa.ForeignKey('schools.id'), nullable=False),
        sa.Column('college_id', sa.Integer(), sa.ForeignKey('colleges.id'), nullable=False),
        sa.Column('applicant_role', sa.String(20), nullable=False),
        sa.Column('applicant_id', sa.Integer(), sa.ForeignKey('accounts.id'), nullable=False),
        sa.Column('status', sa.String(20), nullable=False),
        sa.Column('reason_code', sa.String(20), nullable=False),
        sa.Column('reason_text', sa.Text(), nullable=False),
        sa.Column('letter_file_id', sa.String(64), sa.ForeignKey('files.id')),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('submitted_at', sa.DateTime(timezone=True)),
        sa.Column('decided_at', sa.DateTime(timezone=True)),
    )
    op.create_index('ix_termination_requests_queue', 'termination_requests',
                    ['school_id', 'college_id', 'status'])
    op.create_index('ux_termination_requests_open', 'termination_requests', ['agreement_id'],
                    unique=True, sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade() -> None:
    op.drop_index('ux_termination_requests_open', 'termination_requests')
    op.drop_index('ix_termination_requests_queue', 'termination_requests')
    op.drop_table('termination_requests')
