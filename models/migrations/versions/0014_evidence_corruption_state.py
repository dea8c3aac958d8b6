"""A damaged evidence file is a state of its item: when a read first found the stored file no
longer matching its SHA-256 (or gone), and what it found.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24 16:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evidence_item") as batch:
        batch.add_column(sa.Column("corrupted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("corrupted_sha256", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evidence_item") as batch:
        batch.drop_column("corrupted_sha256")
        batch.drop_column("corrupted_at")
