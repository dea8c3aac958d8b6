"""Rights holders as parties of a case and the notices delivered to them.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 15:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# Every time is stored as an aware UTC datetime (models.base.UTCDateTime).
UTC = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    """A foreign key named by the models' naming convention (models/base.py)."""
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    op.create_table(
        "rights_holder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("contact", sa.String(300), nullable=False),
        sa.Column("representative", sa.String(120), nullable=False),
        sa.Column("agent", sa.String(200), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_holder")),
        _fk("rights_holder", "case_id", "case_file"),
        _fk("rights_holder", "created_by_id", "user_account"),
        _fk("rights_holder", "updated_by_id", "user_account"),
    )
    op.create_index(op.f("ix_rights_holder_case_id"), "rights_holder", ["case_id"])
    op.create_table(
        "notice_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("delivered_at", UTC, nullable=False),
        sa.Column("delivered_by", sa.String(120), nullable=False),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_delivery")),
        _fk("notice_delivery", "document_id", "document"),
        _fk("notice_delivery", "holder_id", "rights_holder"),
        _fk("notice_delivery", "recorded_by_id", "user_account"),
    )
    op.create_index(op.f("ix_notice_delivery_document_id"), "notice_delivery", ["document_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_notice_delivery_document_id"), table_name="notice_delivery")
    op.drop_table("notice_delivery")
    op.drop_index(op.f("ix_rights_holder_case_id"), table_name="rights_holder")
    op.drop_table("rights_holder")
