"""A student's places across booths: one call at a time, found by account

Revision ID: 0111hall
Revises: 0110todo
"""
import sqlalchemy as sa
from alembic import op

revision = '0111hall'
down_revision = '0110todo'
branch_labels = None
depends_on = None

BUSY = "status IN ('called', 'in_call')"


def upgrade() -> None:
    # Before this rule a student could be called at two booths at once. A call left ringing
    # beside another (at most one per student survives) goes back to waiting, keeping the
    # place; of two running calls, the older is ended. Then the index holds the rule.
    op.execute(f"""
        UPDATE hall_tickets SET status = 'waiting', called_at = NULL
        WHERE status = 'called' AND EXISTS (
            SELECT 1 FROM hall_tickets o WHERE o.account_id = hall_tickets.account_id
            AND o.id <> hall_tickets.id AND o.{BUSY}
            AND (o.status = 'in_call' OR o.id > hall_tickets.id))""")
    op.execute("""
        UPDATE hall_tickets SET status = 'done', finished_at = call_started_at
        WHERE status = 'in_call' AND EXISTS (
            SELECT 1 FROM hall_tickets o WHERE o.account_id = hall_tickets.account_id
            AND o.status = 'in_call' AND o.id > hall_tickets.id)""")
    op.create_index("ix_hall_tickets_account", "hall_tickets", ["account_id", "status"])
    op.create_index("uq_hall_tickets_one_call", "hall_tickets", ["account_id"], unique=True,
                    sqlite_where=sa.text(BUSY), postgresql_where=sa.text(BUSY))


def downgrade() -> None:
    op.drop_index("uq_hall_tickets_one_call", table_name="hall_tickets")
    op.drop_index("ix_hall_tickets_account", table_name="hall_tickets")
