"""counters: 找回密码 attempts for unknown accounts and their code on the attempt's row

Revision ID: 0104c
Revises: 0103
"""
from alembic import op
import sqlalchemy as sa

revision = '0104c'
down_revision = '0103'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('password_resets', schema=None) as batch_op:
        batch_op.alter_column('account_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('lookup_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('code_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('code_sent_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('code_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('code_tries', sa.Integer(), server_default='0',
                                      nullable=False))


def downgrade() -> None:
    op.execute("DELETE FROM password_resets WHERE account_id IS NULL")
    with op.batch_alter_table('password_resets', schema=None) as batch_op:
        batch_op.drop_column('code_tries')
        batch_op.drop_column('code_expires_at')
        batch_op.drop_column('code_sent_at')
        batch_op.drop_column('code_hash')
        batch_op.drop_column('lookup_key')
        batch_op.alter_column('account_id', existing_type=sa.Integer(), nullable=False)
