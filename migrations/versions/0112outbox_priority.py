"""Mail outbox by priority: codes first, mail to typed addresses last

Revision ID: 0112outbox
Revises: 0111hall
"""
import sqlalchemy as sa
from alembic import op

revision = '0112outbox'
down_revision = '0111hall'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("email_outbox") as batch:
        batch.add_column(sa.Column("priority", sa.SmallInteger, nullable=False, server_default="5"))
        batch.drop_index("ix_outbox_due")
        batch.create_index("ix_outbox_due", ["status", "priority", "next_attempt_at"])
    op.execute("UPDATE email_outbox SET priority = 0 WHERE template = 'reset_code'")
    op.execute("UPDATE email_outbox SET priority = 9 WHERE template = 'agreement_confirm'")


def downgrade() -> None:
    with op.batch_alter_table("email_outbox") as batch:
        batch.drop_index("ix_outbox_due")
        batch.create_index("ix_outbox_due", ["status", "next_attempt_at"])
        batch.drop_column("priority")
