"""The procuratorate copied on a transfer becomes an observing party of the case: a participant
row says how the agency takes part, as a party (it works on the case) or an observer (it reads
the case's metadata, documents, timeline and decisions without working on it).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 15:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_participant") as batch:
        # Every agency that took part so far got there through a task: a party.
        batch.add_column(sa.Column("role", sa.String(length=16), nullable=False, server_default="party"))


def downgrade() -> None:
    with op.batch_alter_table("case_participant") as batch:
        batch.drop_column("role")
