"""statistics: covering indexes for the 就业统计 breakdowns

Revision ID: 0109st
Revises: 0104s
"""
from alembic import op

revision = '0109st'
down_revision = '0104s'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every breakdown counts one graduation year's graduates (of a school or college) by one
    # of these columns: the index holds them all, so the count reads the index, not the
    # wide records.
    op.create_index('ix_student_records_statistics', 'student_records',
                    ['graduation_year', 'school_id', 'college_id', 'major_id', 'education', 'gender'])
    # The join from each graduate to its destination reads code and time from the index.
    op.create_index('ix_graduate_destinations_statistics', 'graduate_destinations',
                    ['student_record_id', 'code', 'effective_at'])


def downgrade() -> None:
    op.drop_index('ix_graduate_destinations_statistics', table_name='graduate_destinations')
    op.drop_index('ix_student_records_statistics', table_name='student_records')
