"""What happened after filing: investigation, prosecution and judgment results, their compulsory
measures, and the closing of a case.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 15:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("document_number", sa.String(length=100), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("compensation", sa.BigInteger(), nullable=True),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"], name=op.f("fk_case_result_agency_id_agency")),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"], name=op.f("fk_case_result_case_id_case_file"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["user_account.id"], name=op.f("fk_case_result_recorded_by_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_result")),
    )
    op.create_index("ix_case_result_case_stage", "case_result", ["case_id", "stage"], unique=False)
    op.create_table(
        "compulsory_measure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ordered_on", sa.Date(), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["result_id"], ["case_result.id"], name=op.f("fk_compulsory_measure_result_id_case_result"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compulsory_measure")),
    )
    op.create_index(op.f("ix_compulsory_measure_result_id"), "compulsory_measure", ["result_id"], unique=False)
    op.create_table(
        "case_closure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("closed_by_id", sa.Integer(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"], name=op.f("fk_case_closure_case_id_case_file"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["closed_by_id"], ["user_account.id"], name=op.f("fk_case_closure_closed_by_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_closure")),
        sa.UniqueConstraint("case_id", name=op.f("uq_case_closure_case_id")),
    )


def downgrade() -> None:
    op.drop_table("case_closure")
    op.drop_index(op.f("ix_compulsory_measure_result_id"), table_name="compulsory_measure")
    op.drop_table("compulsory_measure")
    op.drop_index("ix_case_result_case_stage", table_name="case_result")
    op.drop_table("case_result")
