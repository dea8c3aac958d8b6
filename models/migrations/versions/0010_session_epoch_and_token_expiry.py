"""Sessions that end and tokens that expire: a session epoch on each user, carried in the signed
session cookie (raised by logout, password change, deactivation, an administrator ending the
user's sessions), and an expiry time on each API token.

Tokens made before this revision never expired; they now expire a year after the upgrade, so no
system stops working on the day of the upgrade.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 09:00:00
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(sa.Column("expires_at", UTC, nullable=True))
    in_a_year = datetime.now(timezone.utc) + timedelta(days=365)
    if op.get_bind().dialect.name == "sqlite":
        in_a_year = in_a_year.replace(tzinfo=None)  # how models.base.UTCDateTime stores it there
    token = sa.table("api_token", sa.column("expires_at", UTC))
    op.execute(token.update().values(expires_at=in_a_year))
    with op.batch_alter_table("api_token") as batch:
        batch.alter_column("expires_at", existing_type=UTC, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("expires_at")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("session_epoch")
