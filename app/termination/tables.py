"""Tables of 解约中心. They share app.schema.metadata; app/all_tables.py gathers them."""

from __future__ import annotations

import sqlalchemy as sa

from ..schema import Time, metadata

# States in which a request is still open (flows.py); at most one per agreement, enforced
# by the partial unique index below on SQLite and PostgreSQL alike.
OPEN_STATES = ("draft", "submitted", "college_approved", "returned")
_OPEN = sa.text("status IN ('draft', 'submitted', 'college_approved', 'returned')")

# 解约申请: one row per application by a party (the student, or the employer) to end an
# effective agreement. school/college/student are copied from the agreement so the review
# flow finds its reviewers like every other flow; `letter_file_id` is the 解约函.
termination_requests = sa.Table(
    "termination_requests", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("agreement_id", sa.ForeignKey("agreements.id"), nullable=False),
    sa.Column("student_record_id", sa.ForeignKey("student_records.id"), nullable=False),
    sa.Column("school_id", sa.ForeignKey("schools.id"), nullable=False),
    sa.Column("college_id", sa.ForeignKey("colleges.id"), nullable=False),
    sa.Column("applicant_role", sa.String(20), nullable=False),   # student, employer
    sa.Column("applicant_id", sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("reason_code", sa.String(20), nullable=False),      # codes.py
    sa.Column("reason_text", sa.Text, nullable=False),
    sa.Column("letter_file_id", sa.ForeignKey("files.id")),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("submitted_at", Time),
    sa.Column("decided_at", Time),
    sa.Index("ix_termination_requests_queue", "school_id", "college_id", "status"),
    sa.Index("ix_termination_requests_school_status", "school_id", "status"),  # school 待办
    sa.Index("ix_termination_requests_agreement", "agreement_id", "status"),  # parties' 待办
    sa.Index("ux_termination_requests_open", "agreement_id", unique=True,
             sqlite_where=_OPEN, postgresql_where=_OPEN),
)
