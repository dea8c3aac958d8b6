"""Index for the overdue list: open human tasks by deadline (found by bench/inbox.py).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 04:35:00
"""
from __future__ import annotations

from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_human_task_state_due', 'human_task', ['state', 'due_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_human_task_state_due', table_name='human_task')
