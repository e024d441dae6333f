"""A staff notice of new items to review counts them: "有新的生源信息待审核（12 条）"

Revision ID: 0115repeats
Revises: 0114imports
"""
import sqlalchemy as sa
from alembic import op

revision = '0115repeats'
down_revision = '0114imports'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.add_column(sa.Column("repeats", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.drop_column("repeats")
