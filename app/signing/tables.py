"""Tables of 签约中心. They share app.schema.metadata; app/all_tables.py gathers them."""

from __future__ import annotations

import sqlalchemy as sa

from ..schema import Time, metadata

# 手机认证: the number an account confirmed with an SMS code, and when.
phone_verifications = sa.Table(
    "phone_verifications", metadata,
    sa.Column("account_id", sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("phone", sa.String(20), nullable=False),
    sa.Column("verified_at", Time, nullable=False),
)

# 就业协议书: one row per agreement, online (an employer's invitation) or offline (the
# student's own entry). `data` holds the 单位, 岗位 and 档案/户口 parts (signing/fields.py);
# `previous_data` the version a reviewer last returned, so the next review shows what changed.
# `number` is assigned once (毕业年份 + 学校代码 + 学历 + 流水号) and never reused; the
# random `verify_token` addresses the public verification page the QR code opens.
agreements = sa.Table(
    "agreements", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("channel", sa.String(10), nullable=False),   # online, offline
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("student_record_id", sa.ForeignKey("student_records.id"), nullable=False),
    sa.Column("school_id", sa.ForeignKey("schools.id"), nullable=False),
    sa.Column("college_id", sa.ForeignKey("colleges.id"), nullable=False),
    sa.Column("employer_id", sa.ForeignKey("employers.id")),   # the inviting employer (online)
    sa.Column("created_by", sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("previous_data", sa.JSON),
    sa.Column("opinion", sa.Text),                      # the student's 应聘意见
    sa.Column("valid_until", Time),                     # an online invitation's window
    sa.Column("number", sa.String(40), unique=True),
    sa.Column("verify_token", sa.String(64), unique=True),
    # 发给单位确认 (offline): a hash of the mailed link's token, its expiry and use.
    sa.Column("confirm_token_hash", sa.String(64), unique=True),
    sa.Column("confirm_expires_at", Time),
    sa.Column("confirm_used_at", Time),
    sa.Column("employer_comment", sa.Text),
    sa.Column("scans", sa.JSON, nullable=False),        # file ids of the stamped agreement
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("generated_at", Time),
    sa.Column("effective_at", Time),
    sa.Column("ended_at", Time),                        # terminated or voided
    sa.Index("ix_agreements_student", "student_record_id", "status"),
    sa.Index("ix_agreements_queue", "school_id", "college_id", "status"),
    sa.Index("ix_agreements_school_status", "school_id", "status"),  # a school admin's 待办
    sa.Index("ix_agreements_employer", "employer_id", "status"),
)

# The last 流水号 per number prefix (毕业年份 + 学校代码 + 学历): taken with one atomic
# UPDATE … RETURNING, so numbers are unique and never reused, whatever happens to the
# agreement that got one.
agreement_numbers = sa.Table(
    "agreement_numbers", metadata,
    sa.Column("prefix", sa.String(30), primary_key=True),
    sa.Column("last", sa.Integer, nullable=False),
)
