"""Indexes for the centres' 待办事项 and the paged review lists

Revision ID: 0110todo
Revises: 0109o
"""
from alembic import op

revision = '0110todo'
down_revision = '0110settings'
branch_labels = None
depends_on = None

# (index, table, columns): a school admin counts by (school, state); the parties' returned
# 解约申请 through their agreements; the platform's 单位审核 by state; an employer's jobs by employer.
INDEXES = (
    ("ix_agreements_school_status", "agreements", ["school_id", "status"]),
    ("ix_registrations_school_status", "registrations", ["school_id", "status"]),
    ("ix_termination_requests_school_status", "termination_requests", ["school_id", "status"]),
    ("ix_termination_requests_agreement", "termination_requests", ["agreement_id", "status"]),
    ("ix_employers_status", "employers", ["status", "created_at"]),
    ("ix_jobs_employer", "jobs", ["employer_id", "status"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
