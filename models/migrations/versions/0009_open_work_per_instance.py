"""Indexes for each step's reads of its own instance's open work: the open task rows
(engine/runtime/projection.py) and the pending timers (engine/worker/timers.py). The unique (instance, task)
indexes found them too, but through every row the instance ever had, so a step of a long case
read its whole history (found by bench/growth.py's 300-turn loop).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 08:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

OPEN = "state = 'open'"
PENDING = "status = 'pending'"


def upgrade() -> None:
    op.create_index('ix_human_task_instance_open', 'human_task', ['instance_id'], unique=False,
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
    op.create_index('ix_timer_instance_pending', 'timer', ['instance_id'], unique=False,
                    postgresql_where=sa.text(PENDING), sqlite_where=sa.text(PENDING))


def downgrade() -> None:
    op.drop_index('ix_timer_instance_pending', table_name='timer')
    op.drop_index('ix_human_task_instance_open', table_name='human_task')
