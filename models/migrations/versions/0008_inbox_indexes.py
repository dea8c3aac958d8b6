"""Indexes for the inbox: open unclaimed work per lane and my open work, each in the inbox's
order (found by bench/inbox.py; they replace ix_human_task_assignee_open).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 06:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

OPEN = "state = 'open'"
CLAIMABLE = "state = 'open' AND assignee_id IS NULL"


def upgrade() -> None:
    op.drop_index('ix_human_task_assignee_open', table_name='human_task')
    op.create_index('ix_human_task_lane_claimable', 'human_task', ['agency_id', 'role', 'due_at', 'created_at', 'id'],
                    unique=False, postgresql_where=sa.text(CLAIMABLE), sqlite_where=sa.text(CLAIMABLE))
    op.create_index('ix_human_task_mine_open', 'human_task', ['assignee_id', 'due_at', 'created_at', 'id'],
                    unique=False, postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))


def downgrade() -> None:
    op.drop_index('ix_human_task_mine_open', table_name='human_task')
    op.drop_index('ix_human_task_lane_claimable', table_name='human_task')
    op.create_index('ix_human_task_assignee_open', 'human_task', ['assignee_id', 'state', 'due_at'], unique=False)
