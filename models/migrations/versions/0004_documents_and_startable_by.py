"""Issued documents with per-agency yearly numbering, and who may start each mechanism.

Revision ID: 0004
Revises: 0003_recognition_sharing
Create Date: 2026-11-23 03:01:44.184542
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = '0003_recognition_sharing'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('document_counter',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('series', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_document_counter_agency_id_agency')),
    sa.PrimaryKeyConstraint('agency_id', 'series', 'year', name=op.f('pk_document_counter'))
    )
    op.create_table('document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('number', sa.String(length=80), nullable=False),
    sa.Column('issuing_agency_id', sa.Integer(), nullable=False),
    sa.Column('recipient_agency_id', sa.Integer(), nullable=True),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('generated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_document_case_id_case_file')),
    sa.ForeignKeyConstraint(['generated_by_id'], ['user_account.id'], name=op.f('fk_document_generated_by_id_user_account')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_document_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['issuing_agency_id'], ['agency.id'], name=op.f('fk_document_issuing_agency_id_agency')),
    sa.ForeignKeyConstraint(['recipient_agency_id'], ['agency.id'], name=op.f('fk_document_recipient_agency_id_agency')),
    sa.ForeignKeyConstraint(['task_id'], ['human_task.id'], name=op.f('fk_document_task_id_human_task')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document')),
    sa.UniqueConstraint('number', name=op.f('uq_document_number')),
    sa.UniqueConstraint('task_id', 'kind', name=op.f('uq_document_task_id_kind'))
    )
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_case_id'), ['case_id'], unique=False)

    with op.batch_alter_table('process_model', schema=None) as batch_op:
        # Existing models were startable by nobody from the case page; say so explicitly.
        batch_op.add_column(sa.Column('startable_by', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    with op.batch_alter_table('process_model', schema=None) as batch_op:
        batch_op.alter_column('startable_by', server_default=None)



def downgrade() -> None:
    with op.batch_alter_table('process_model', schema=None) as batch_op:
        batch_op.drop_column('startable_by')

    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_case_id'))

    op.drop_table('document')
    op.drop_table('document_counter')
