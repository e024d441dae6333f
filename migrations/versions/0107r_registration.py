"""就业信息登记: one registration per student record

Revision ID: 0107r
Revises: 0105a
"""
from alembic import op
import sqlalchemy as sa

revision = '0107r'
down_revision = '0105a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'registrations',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('school_id', sa.Integer(), sa.ForeignKey('schools.id'), nullable=False),
        sa.Column('college_id', sa.Integer(), sa.ForeignKey('colleges.id'), nullable=False),
        sa.Column('student_record_id', sa.Integer(), sa.ForeignKey('student_records.id'),
                  nullable=False, unique=True),
        sa.Column('status', sa.String(20), nullable=False),
        sa.Column('code', sa.String(4)),
        sa.Column('sub_code', sa.String(4)),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('files', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('submitted_at', sa.DateTime(timezone=True)),
        sa.Column('reviewed_at', sa.DateTime(timezone=True)),
    )
    op.create_index('ix_registrations_queue', 'registrations',
                    ['school_id', 'college_id', 'status'])


def downgrade() -> None:
    op.drop_index('ix_registrations_queue', 'registrations')
    op.drop_table('registrations')
