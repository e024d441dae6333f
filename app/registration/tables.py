"""Tables of 就业信息登记. They share app.schema.metadata; app/all_tables.py gathers them."""

from __future__ import annotations

import sqlalchemy as sa

from ..schema import Time, metadata

# One registration per student record. `code`/`sub_code` are the chosen 毕业去向 branch
# (None until the student picks one); `data` that branch's fields; `files` the branch's
# evidence as {field name: files.id}. Choosing another branch empties all three.
registrations = sa.Table(
    "registrations", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("school_id", sa.ForeignKey("schools.id"), nullable=False),
    sa.Column("college_id", sa.ForeignKey("colleges.id"), nullable=False),
    sa.Column("student_record_id", sa.ForeignKey("student_records.id"), nullable=False,
              unique=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("code", sa.String(4)),
    sa.Column("sub_code", sa.String(4)),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("files", sa.JSON, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("submitted_at", Time),
    sa.Column("reviewed_at", Time),
    sa.Index("ix_registrations_queue", "school_id", "college_id", "status"),
    sa.Index("ix_registrations_school_status", "school_id", "status"),  # a school admin's 待办
)
