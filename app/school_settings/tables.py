"""One row per school that changed anything; a school without a row has the defaults."""

from __future__ import annotations

import sqlalchemy as sa

from ..schema import Time, metadata

school_settings = sa.Table(
    "school_settings", metadata,
    sa.Column("school_id", sa.ForeignKey("schools.id"), primary_key=True),
    # 线上应约: off shows 暂未开启 to students and refuses employers' invitations.
    sa.Column("online_signing", sa.Boolean, nullable=False, server_default=sa.true()),
    # 就业信息登记 closes after this China date; None: 31 August of the graduation year.
    sa.Column("registration_deadline", sa.Date),
    # Set by a school admin to let registrations in after the deadline.
    sa.Column("registration_reopened", sa.Boolean, nullable=False, server_default=sa.false()),
    # 解约申请 only between these China dates (either None: no bound on that side).
    sa.Column("termination_opens", sa.Date),
    sa.Column("termination_closes", sa.Date),
    # The hall's times for this school's students; None: the global HALL_OPEN_MINUTES,
    # HALL_ANSWER_GRACE_SECONDS, HALL_WAITER_GRACE_SECONDS.
    sa.Column("hall_open_minutes", sa.Integer),
    sa.Column("hall_answer_grace_seconds", sa.Integer),
    sa.Column("hall_waiter_grace_seconds", sa.Integer),
    sa.Column("updated_at", Time),
    sa.Column("updated_by", sa.ForeignKey("accounts.id")),
)
