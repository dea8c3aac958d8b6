"""The audit trail becomes append-only in the database itself, and its chains can be keyed.

- audit_chain gets `keyed_from` and `key_mac`: from that event on a chain's hashes are HMACs
  under the audit key from configuration (engine/access/audit.py).
- Triggers refuse UPDATE, DELETE and TRUNCATE of audit_event; DELETE and TRUNCATE of audit_chain;
  and an UPDATE of a chain head that moves it back, rewrites its last hash, renames it, or
  changes a seal once set. Only the role owning the tables (or a superuser) can drop or disable
  them: run the application as a role that does not own them, and keep checkpoints of the
  chains' heads outside the database (`liandong audit checkpoint`) for the owner's case.

On SQLite the same rules are SQLite triggers. A later migration that rebuilds audit_event or
audit_chain in batch mode on SQLite must create them again.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 14:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Conditions under which a chain head's UPDATE is refused, the same on both databases.
HEAD_MOVES_BACK = """NEW.name <> OLD.name OR NEW.last_seq < OLD.last_seq
    OR (NEW.last_seq = OLD.last_seq AND NEW.last_hash <> OLD.last_hash)
    OR (OLD.key_mac IS NOT NULL AND (NEW.key_mac {distinct} OLD.key_mac OR NEW.keyed_from {distinct} OLD.keyed_from))"""

POSTGRESQL = [
    """CREATE FUNCTION liandong_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END $$""",
    f"""CREATE FUNCTION liandong_audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF {HEAD_MOVES_BACK.format(distinct="IS DISTINCT FROM")} THEN
            RAISE EXCEPTION 'audit chain % may only move forward', OLD.name
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION liandong_audit_refuse()""",
    """CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION liandong_audit_refuse()""",
    """CREATE TRIGGER audit_chain_kept BEFORE DELETE ON audit_chain
    FOR EACH ROW EXECUTE FUNCTION liandong_audit_refuse()""",
    """CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain
    FOR EACH STATEMENT EXECUTE FUNCTION liandong_audit_refuse()""",
    """CREATE TRIGGER audit_chain_forward BEFORE UPDATE ON audit_chain
    FOR EACH ROW EXECUTE FUNCTION liandong_audit_head_forward()""",
]
POSTGRESQL_DOWN = [
    "DROP TRIGGER IF EXISTS audit_chain_forward ON audit_chain",
    "DROP TRIGGER IF EXISTS audit_chain_no_truncate ON audit_chain",
    "DROP TRIGGER IF EXISTS audit_chain_kept ON audit_chain",
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event",
    "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event",
    "DROP FUNCTION IF EXISTS liandong_audit_head_forward()",
    "DROP FUNCTION IF EXISTS liandong_audit_refuse()",
]

SQLITE = [
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: UPDATE on audit_event refused'); END""",
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: DELETE on audit_event refused'); END""",
    """CREATE TRIGGER audit_chain_kept BEFORE DELETE ON audit_chain
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: DELETE on audit_chain refused'); END""",
    f"""CREATE TRIGGER audit_chain_forward BEFORE UPDATE ON audit_chain
    WHEN {HEAD_MOVES_BACK.format(distinct="IS NOT")}
    BEGIN SELECT RAISE(ABORT, 'audit chain may only move forward'); END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS audit_chain_forward",
    "DROP TRIGGER IF EXISTS audit_chain_kept",
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
    "DROP TRIGGER IF EXISTS audit_event_no_update",
]


def _statements(up: bool) -> list[str]:
    if op.get_bind().dialect.name == "postgresql":
        return POSTGRESQL if up else POSTGRESQL_DOWN
    return SQLITE if up else SQLITE_DOWN


def upgrade() -> None:
    with op.batch_alter_table("audit_chain") as batch:
        batch.add_column(sa.Column("keyed_from", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("key_mac", sa.String(64), nullable=True))
    for statement in _statements(up=True):
        op.execute(statement)


def downgrade() -> None:
    for statement in _statements(up=False):
        op.execute(statement)
    with op.batch_alter_table("audit_chain") as batch:
        batch.drop_column("key_mac")
        batch.drop_column("keyed_from")
