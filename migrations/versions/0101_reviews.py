"""reviews: origin records, their imports, recommendation forms

Revision ID: 0101
Revises: 0003
Create Date: 2026-11-28 18:05:31.066107
"""
from alembic import op
import sqlalchemy as sa


revision = '0101'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('origin_import_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('stored_path', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('total_rows', sa.Integer(), server_default='0', nullable=False),
    sa.Column('processed_rows', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_rows', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated_rows', sa.Integer(), server_default='0', nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['accounts.id'], name=op.f('fk_origin_import_jobs_created_by_accounts')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_origin_import_jobs_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_origin_import_jobs'))
    )
    op.create_table('origin_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('college_id', sa.Integer(), nullable=False),
    sa.Column('student_record_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('roll', sa.JSON(), nullable=False),
    sa.Column('imported', sa.JSON(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['college_id'], ['colleges.id'], name=op.f('fk_origin_records_college_id_colleges')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_origin_records_school_id_schools')),
    sa.ForeignKeyConstraint(['student_record_id'], ['student_records.id'], name=op.f('fk_origin_records_student_record_id_student_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_origin_records')),
    sa.UniqueConstraint('student_record_id', name=op.f('uq_origin_records_student_record_id'))
    )
    with op.batch_alter_table('origin_records', schema=None) as batch_op:
        batch_op.create_index('ix_origin_records_queue', ['school_id', 'college_id', 'status'], unique=False)

    op.create_table('recommendations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('college_id', sa.Integer(), nullable=False),
    sa.Column('student_record_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('photo_name', sa.String(length=80), nullable=True),
    sa.Column('serial', sa.String(length=40), nullable=True),
    sa.Column('verify_token', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['college_id'], ['colleges.id'], name=op.f('fk_recommendations_college_id_colleges')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_recommendations_school_id_schools')),
    sa.ForeignKeyConstraint(['student_record_id'], ['student_records.id'], name=op.f('fk_recommendations_student_record_id_student_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recommendations')),
    sa.UniqueConstraint('serial', name=op.f('uq_recommendations_serial')),
    sa.UniqueConstraint('student_record_id', name=op.f('uq_recommendations_student_record_id')),
    sa.UniqueConstraint('verify_token', name=op.f('uq_recommendations_verify_token'))
    )
    with op.batch_alter_table('recommendations', schema=None) as batch_op:
        batch_op.create_index('ix_recommendations_queue', ['school_id', 'status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('recommendations', schema=None) as batch_op:
        batch_op.drop_index('ix_recommendations_queue')

    op.drop_table('recommendations')
    with op.batch_alter_table('origin_records', schema=None) as batch_op:
        batch_op.drop_index('ix_origin_records_queue')

    op.drop_table('origin_records')
    op.drop_table('origin_import_jobs')
