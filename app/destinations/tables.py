"""The one row per graduate that says where they go now. It exists only while a destination
is effective; the unique student_record_id is the database's own guarantee that a graduate
never has two at once, whichever process or flow tries to add one."""

from __future__ import annotations

import sqlalchemy as sa

from ..schema import Time, metadata

graduate_destinations = sa.Table(
    "graduate_destinations", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("student_record_id", sa.ForeignKey("student_records.id"), nullable=False,
              unique=True),
    sa.Column("school_id", sa.ForeignKey("schools.id"), nullable=False),
    sa.Column("college_id", sa.ForeignKey("colleges.id"), nullable=False),
    sa.Column("code", sa.String(4), nullable=False),       # 毕业去向 (destinations.codes)
    sa.Column("sub_code", sa.String(4)),
    sa.Column("source", sa.String(20), nullable=False),     # agreement, registration
    sa.Column("source_id", sa.Integer, nullable=False),
    sa.Column("effective_at", Time, nullable=False),
    sa.Index("ix_graduate_destinations_school", "school_id", "college_id", "code"),
    # 就业统计 joins each graduate to its code and time from the index (migration 0109st)
    sa.Index("ix_graduate_destinations_statistics", "student_record_id", "code", "effective_at"),
)
