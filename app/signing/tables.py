"""Tables of 签约中心. They share app.tables.metadata (imported at its end)."""

from __future__ import annotations

import sqlalchemy as sa

from ..tables import Time, metadata

# 手机认证: the number an account confirmed with an SMS code, and when.
phone_verifications = sa.Table(
    "phone_verifications", metadata,
    sa.Column("account_id", sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("phone", sa.String(20), nullable=False),
    sa.Column("verified_at", Time, nullable=False),
)
