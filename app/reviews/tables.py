"""Tables of the review workflows (生源信息, 推荐表, their imports). They share
app.schema.metadata; app/all_tables.py gathers them."""

from __future__ import annotations

import sqlalchemy as sa

from ..schema import Time, metadata

# 生源信息: one per student record. `roll` holds the read-only 学籍 fields that the
# student-record table does not (考生号, 民族 …); `imported` the editable fields as the
# school imported them; `data` the student's current values (draft or submitted).
origin_records = sa.Table(
    "origin_records", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("school_id", sa.ForeignKey("schools.id"), nullable=False),
    sa.Column("college_id", sa.ForeignKey("colleges.id"), nullable=False),
    sa.Column("student_record_id", sa.ForeignKey("student_records.id"), nullable=False,
              unique=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("roll", sa.JSON, nullable=False),
    sa.Column("imported", sa.JSON, nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("imported_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("notified_at", Time),
    sa.Column("submitted_at", Time),
    sa.Column("reviewed_at", Time),
    sa.Index("ix_origin_records_queue", "school_id", "college_id", "status"),
)

origin_import_jobs = sa.Table(
    "origin_import_jobs", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("school_id", sa.ForeignKey("schools.id"), nullable=False),
    sa.Column("created_by", sa.ForeignKey("accounts.id")),
    sa.Column("filename", sa.String(200), nullable=False),
    sa.Column("stored_path", sa.String(300), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # queued, running, done, failed, cancelled
    sa.Column("total_rows", sa.Integer, nullable=False, server_default="0"),
    sa.Column("processed_rows", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_rows", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_rows", sa.Integer, nullable=False, server_default="0"),
    sa.Column("errors", sa.JSON, nullable=False),
    # problems grouped by message and the cells corrected (app/students/report.py)
    sa.Column("report", sa.JSON),
    sa.Column("message", sa.Text),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("finished_at", Time),
    # The process running the job and until when its claim holds (renewed while it runs);
    # `runs` counts claims, so an interrupted job is resumed once and not forever.
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("lease_until", Time),
    sa.Column("runs", sa.Integer, nullable=False, server_default="0"),
)

# 推荐表: one per student record. `serial` and `verify_token` are set when approved;
# the token (random) addresses the public verification page, the serial is printed.
recommendations = sa.Table(
    "recommendations", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("school_id", sa.ForeignKey("schools.id"), nullable=False),
    sa.Column("college_id", sa.ForeignKey("colleges.id"), nullable=False),
    sa.Column("student_record_id", sa.ForeignKey("student_records.id"), nullable=False,
              unique=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("photo_name", sa.String(80)),
    sa.Column("serial", sa.String(40), unique=True),
    sa.Column("verify_token", sa.String(64), unique=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("submitted_at", Time),
    sa.Column("reviewed_at", Time),
    sa.Index("ix_recommendations_queue", "school_id", "status"),
)
