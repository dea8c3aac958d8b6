"""Clues registered before a case exists, and their triage.

A clue (线索) is registered by an agency or a service station, with its attachments; triage
opens a case from it or closes it with reasons. Agencies gain a kind, so a service station
(服务站点) is told apart from the district's agencies.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 15:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agency") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), server_default="agency", nullable=False))
    op.create_table(
        "clue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("rights_holder", sa.String(length=300), nullable=False),
        sa.Column("suspect", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("loss_amount", sa.BigInteger(), nullable=True),
        sa.Column("illegal_gain", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("registered_by_id", sa.Integer(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("triaged_by_id", sa.Integer(), nullable=True),
        sa.Column("triaged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("triage_reason", sa.Text(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"], name=op.f("fk_clue_agency_id_agency")),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"], name=op.f("fk_clue_case_id_case_file")),
        sa.ForeignKeyConstraint(["registered_by_id"], ["user_account.id"],
                                name=op.f("fk_clue_registered_by_id_user_account")),
        sa.ForeignKeyConstraint(["triaged_by_id"], ["user_account.id"],
                                name=op.f("fk_clue_triaged_by_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clue")),
        sa.UniqueConstraint("case_id", name=op.f("uq_clue_case_id")),
        sa.UniqueConstraint("number", name=op.f("uq_clue_number")),
    )
    with op.batch_alter_table("clue") as batch:
        batch.create_index(batch.f("ix_clue_agency_id"), ["agency_id"], unique=False)
        batch.create_index(batch.f("ix_clue_status"), ["status"], unique=False)
    op.create_table(
        "clue_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clue_id", sa.Integer(), nullable=False),
        sa.Column("storage_name", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["clue_id"], ["clue.id"], name=op.f("fk_clue_attachment_clue_id_clue"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["user_account.id"],
                                name=op.f("fk_clue_attachment_uploaded_by_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clue_attachment")),
        sa.UniqueConstraint("storage_name", name=op.f("uq_clue_attachment_storage_name")),
    )
    with op.batch_alter_table("clue_attachment") as batch:
        batch.create_index(batch.f("ix_clue_attachment_clue_id"), ["clue_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("clue_attachment") as batch:
        batch.drop_index(batch.f("ix_clue_attachment_clue_id"))
    op.drop_table("clue_attachment")
    with op.batch_alter_table("clue") as batch:
        batch.drop_index(batch.f("ix_clue_status"))
        batch.drop_index(batch.f("ix_clue_agency_id"))
    op.drop_table("clue")
    with op.batch_alter_table("agency") as batch:
        batch.drop_column("kind")
