"""Legal periods: the catalog rules a process model version was deployed with, and on each human
task the rule its due time follows and when the legal event it runs from happened.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 13:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("process_model") as batch:
        # Versions deployed before the catalog name no rules.
        batch.add_column(sa.Column("legal_rules", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
    with op.batch_alter_table("human_task") as batch:
        batch.add_column(sa.Column("deadline_rule_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("deadline_trigger_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("deadline_basis", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("human_task") as batch:
        batch.drop_column("deadline_basis")
        batch.drop_column("deadline_trigger_at")
        batch.drop_column("deadline_rule_id")
    with op.batch_alter_table("process_model") as batch:
        batch.drop_column("legal_rules")
