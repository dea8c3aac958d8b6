"""Evidence items and their chain of custody; failed-login count and lock on users.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Every time is stored as an aware UTC datetime (models.base.UTCDateTime).
UTC = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    """A foreign key named by the models' naming convention (models/base.py)."""
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    op.create_table(
        "evidence_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("owner_agency_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("collected_at", UTC, nullable=False),
        sa.Column("collector_1", sa.String(120), nullable=False),
        sa.Column("collector_2", sa.String(120), nullable=False),
        sa.Column("declared_sha256", sa.String(64), nullable=True),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("storage_name", sa.String(64), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("content_type", sa.String(100), nullable=True),
        sa.Column("original_name", sa.String(255), nullable=True),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", UTC, nullable=False),
        _fk("evidence_item", "case_id", "case_file"),
        _fk("evidence_item", "owner_agency_id", "agency"),
        _fk("evidence_item", "uploaded_by_id", "user_account"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_item")),
        sa.UniqueConstraint("storage_name", name=op.f("uq_evidence_item_storage_name")),
    )
    op.create_index(op.f("ix_evidence_item_case_id"), "evidence_item", ["case_id"])
    op.create_table(
        "evidence_custody",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("from_agency_id", sa.Integer(), nullable=False),
        sa.Column("to_agency_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("released_by_id", sa.Integer(), nullable=False),
        sa.Column("released_at", UTC, nullable=False),
        sa.Column("received_by_id", sa.Integer(), nullable=True),
        sa.Column("received_at", UTC, nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("note", sa.String(500), nullable=False),
        _fk("evidence_custody", "evidence_id", "evidence_item"),
        _fk("evidence_custody", "from_agency_id", "agency"),
        _fk("evidence_custody", "to_agency_id", "agency"),
        _fk("evidence_custody", "released_by_id", "user_account"),
        _fk("evidence_custody", "received_by_id", "user_account"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_custody")),
    )
    op.create_index(op.f("ix_evidence_custody_evidence_id"), "evidence_custody", ["evidence_id"])
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("locked_until", UTC, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("locked_until")
        batch.drop_column("failed_logins")
    op.drop_index(op.f("ix_evidence_custody_evidence_id"), table_name="evidence_custody")
    op.drop_table("evidence_custody")
    op.drop_index(op.f("ix_evidence_item_case_id"), table_name="evidence_item")
    op.drop_table("evidence_item")
