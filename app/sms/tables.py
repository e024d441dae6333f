"""The SMS outbox. It shares app.schema.metadata; app/all_tables.py gathers it."""

from __future__ import annotations

import sqlalchemy as sa

from ..schema import Time, metadata

# pending → sent (the gateway took it), kept (SMS_GATEWAY=outbox: stays here for 短信发件箱),
# or failed (the gateway refused it for good; last_error says why). Never deleted.
sms_outbox = sa.Table(
    "sms_outbox", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("to_phone", sa.String(20), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("purpose", sa.String(30), nullable=False),  # e.g. phone_code
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", Time, nullable=False),
    sa.Column("claimed_until", Time),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("sent_at", Time),
    sa.Index("ix_sms_outbox_due", "status", "next_attempt_at"),
)
