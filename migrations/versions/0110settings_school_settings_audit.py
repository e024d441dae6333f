"""Per-school hall times (NULL: the global HALL_* setting); audit rows carry the school they
concern, so a school admin's 操作日志 is one indexed range

Revision ID: 0110settings
Revises: 0109o
"""
from alembic import op
import sqlalchemy as sa

revision = '0110settings'
down_revision = '0109o'
branch_labels = None
depends_on = None

HALL_COLUMNS = ('hall_open_minutes', 'hall_answer_grace_seconds', 'hall_waiter_grace_seconds')

# Rows written before this revision: the school comes from the item where the item has one
# (entity name → table with a school_id), else from the account that acted.
ITEM_TABLES = {
    'origin': 'origin_records', 'recommendation': 'recommendations',
    'registration': 'registrations', 'agreement': 'agreements',
    'termination': 'termination_requests', 'student_record': 'student_records',
    'school_settings': 'schools',
}


def upgrade() -> None:
    with op.batch_alter_table('school_settings', schema=None) as batch_op:
        for name in HALL_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Integer()))
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('school_id', sa.Integer()))
        batch_op.create_foreign_key(op.f('fk_audit_log_school_id_schools'), 'schools',
                                    ['school_id'], ['id'])
        batch_op.create_index('ix_audit_school_at', ['school_id', 'at'])
        batch_op.create_index('ix_audit_at', ['at'])
        batch_op.create_index('ix_audit_actor_at', ['actor_id', 'at'])
    for entity, table in ITEM_TABLES.items():
        school = 'id' if table == 'schools' else 'school_id'
        op.execute(
            f"UPDATE audit_log SET school_id = (SELECT t.{school} FROM {table} t "
            f"WHERE CAST(t.id AS VARCHAR(64)) = audit_log.entity_id) "
            f"WHERE entity = '{entity}' AND school_id IS NULL")
    op.execute(
        "UPDATE audit_log SET school_id = (SELECT a.school_id FROM accounts a "
        "WHERE a.id = audit_log.actor_id) WHERE school_id IS NULL AND actor_id IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_actor_at')
        batch_op.drop_index('ix_audit_at')
        batch_op.drop_index('ix_audit_school_at')
        batch_op.drop_constraint(op.f('fk_audit_log_school_id_schools'), type_='foreignkey')
        batch_op.drop_column('school_id')
    with op.batch_alter_table('school_settings', schema=None) as batch_op:
        for name in reversed(HALL_COLUMNS):
            batch_op.drop_column(name)
