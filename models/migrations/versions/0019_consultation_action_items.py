"""A consultation's action items (案情会商 落实事项), each tracked from open to done or cancelled.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 18:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consultation_action_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("consultation_instance_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("mechanism", sa.String(length=100), nullable=True),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("deadline_rule", sa.String(length=16), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"], name=op.f("fk_consultation_action_item_agency_id_agency")),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"],
                                name=op.f("fk_consultation_action_item_case_id_case_file"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["closed_by_id"], ["user_account.id"],
                                name=op.f("fk_consultation_action_item_closed_by_id_user_account")),
        sa.ForeignKeyConstraint(["consultation_instance_id"], ["process_instance.id"],
                                name=op.f("fk_consultation_action_item_consultation_instance_id_process_instance")),
        sa.ForeignKeyConstraint(["created_by_id"], ["user_account.id"],
                                name=op.f("fk_consultation_action_item_created_by_id_user_account")),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instance.id"],
                                name=op.f("fk_consultation_action_item_instance_id_process_instance")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_action_item")),
        sa.UniqueConstraint("instance_id", name=op.f("uq_consultation_action_item_instance_id")),
    )
    op.create_index("ix_consultation_action_item_case_id", "consultation_action_item", ["case_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_consultation_action_item_case_id", table_name="consultation_action_item")
    op.drop_table("consultation_action_item")
