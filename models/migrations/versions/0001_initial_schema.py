"""The initial schema: agencies and users, cases, process models and instances, human tasks,
the message outbox, timers, the audit chains, the business calendar and API tokens.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Every time is stored as an aware UTC datetime (models.base.UTCDateTime).
UTC = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), nullable=False)


def _fk(table: str, column: str, target: str, **kwargs) -> sa.ForeignKeyConstraint:
    """A foreign key named by the models' naming convention (models/base.py)."""
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), **kwargs)


def upgrade() -> None:
    op.create_table(
        "agency", _id(),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("short_name", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency")),
        sa.UniqueConstraint("code", name=op.f("uq_agency_code")),
    )
    op.create_table(
        "audit_chain",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_audit_chain")),
    )
    op.create_table(
        "user_account", _id(),
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("username", name=op.f("uq_user_account_username")),
    )
    op.create_table(
        "api_token", _id(),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("last_used_at", UTC, nullable=True),
        sa.Column("revoked_at", UTC, nullable=True),
        _fk("api_token", "user_id", "user_account", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    op.create_index(op.f("ix_api_token_user_id"), "api_token", ["user_id"])
    op.create_table(
        "calendar_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("entered_at", UTC, nullable=False),
        _fk("calendar_day", "entered_by_id", "user_account"),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_day")),
    )
    op.create_table(
        "case_file", _id(),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("confidentiality", sa.String(16), nullable=False),
        sa.Column("owner_agency_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        _fk("case_file", "created_by_id", "user_account"),
        _fk("case_file", "owner_agency_id", "agency"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_file")),
        sa.UniqueConstraint("number", name=op.f("uq_case_file_number")),
    )
    op.create_table(
        "membership", _id(),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        _fk("membership", "agency_id", "agency"),
        _fk("membership", "user_id", "user_account", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership")),
        sa.UniqueConstraint("user_id", "agency_id", "role", name=op.f("uq_membership_user_id_agency_id_role")),
    )
    op.create_index(op.f("ix_membership_agency_id"), "membership", ["agency_id"])
    op.create_table(
        "process_model", _id(),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("collaboration_id", sa.String(200), nullable=False),
        sa.Column("bpmn_source", sa.Text(), nullable=False),
        sa.Column("dmn_sources", sa.JSON(), nullable=False),
        sa.Column("forms", sa.JSON(), nullable=False),
        sa.Column("timer_rules", sa.JSON(), nullable=False),
        sa.Column("start_messages", sa.JSON(), nullable=False),
        sa.Column("spec_json", sa.Text(), nullable=False),
        sa.Column("deployed_at", UTC, nullable=False),
        sa.Column("deployed_by_id", sa.Integer(), nullable=True),
        _fk("process_model", "deployed_by_id", "user_account"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_model")),
        sa.UniqueConstraint("key", "version", name=op.f("uq_process_model_key_version")),
    )
    op.create_index(op.f("ix_process_model_key"), "process_model", ["key"])
    op.create_table(
        "case_participant", _id(),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", UTC, nullable=False),
        _fk("case_participant", "agency_id", "agency"),
        _fk("case_participant", "case_id", "case_file", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_participant")),
        sa.UniqueConstraint("case_id", "agency_id", name=op.f("uq_case_participant_case_id_agency_id")),
    )
    op.create_index(op.f("ix_case_participant_agency_id"), "case_participant", ["agency_id"])
    op.create_table(
        "process_instance", _id(),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("process_model_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("state_json", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.Column("completed_at", UTC, nullable=True),
        _fk("process_instance", "case_id", "case_file"),
        _fk("process_instance", "process_model_id", "process_model"),
        _fk("process_instance", "started_by_id", "user_account"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_instance")),
    )
    op.create_index(op.f("ix_process_instance_case_id"), "process_instance", ["case_id"])
    op.create_table(
        "human_task", _id(),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("task_guid", sa.String(36), nullable=False),
        sa.Column("bpmn_id", sa.String(200), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("form_name", sa.String(100), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("claimed_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("due_at", UTC, nullable=True),
        sa.Column("deadline_rule", sa.String(16), nullable=True),
        sa.Column("due_provisional", sa.Boolean(), nullable=False),
        sa.Column("handoff", sa.String(16), nullable=True),
        sa.Column("completed_at", UTC, nullable=True),
        sa.Column("completed_by_id", sa.Integer(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        _fk("human_task", "agency_id", "agency"),
        _fk("human_task", "assignee_id", "user_account"),
        _fk("human_task", "case_id", "case_file"),
        _fk("human_task", "completed_by_id", "user_account"),
        _fk("human_task", "instance_id", "process_instance"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_human_task")),
        sa.UniqueConstraint("instance_id", "task_guid", name=op.f("uq_human_task_instance_id_task_guid")),
    )
    op.create_index("ix_human_task_assignee_open", "human_task", ["assignee_id", "state", "due_at"])
    op.create_index(op.f("ix_human_task_case_id"), "human_task", ["case_id"])
    op.create_index("ix_human_task_lane_open", "human_task", ["agency_id", "role", "state", "due_at"])
    op.create_table(
        "message", _id(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("correlation", sa.JSON(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("source_instance_id", sa.Integer(), nullable=True),
        sa.Column("target_instance_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("available_at", UTC, nullable=False),
        sa.Column("delivered_at", UTC, nullable=True),
        _fk("message", "case_id", "case_file"),
        _fk("message", "source_instance_id", "process_instance"),
        _fk("message", "target_instance_id", "process_instance"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
    )
    op.create_index(op.f("ix_message_case_id"), "message", ["case_id"])
    op.create_index("ix_message_pending", "message", ["status", "available_at"])
    op.create_table(
        "timer", _id(),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("task_guid", sa.String(36), nullable=False),
        sa.Column("bpmn_id", sa.String(200), nullable=False),
        sa.Column("rule", sa.String(16), nullable=False),
        sa.Column("due_at", UTC, nullable=False),
        sa.Column("due_provisional", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("fired_at", UTC, nullable=True),
        _fk("timer", "case_id", "case_file"),
        _fk("timer", "instance_id", "process_instance"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timer")),
        sa.UniqueConstraint("instance_id", "task_guid", name=op.f("uq_timer_instance_id_task_guid")),
    )
    op.create_index(op.f("ix_timer_case_id"), "timer", ["case_id"])
    op.create_index("ix_timer_due", "timer", ["status", "due_at"])
    op.create_table(
        "audit_event", _id(),
        sa.Column("chain", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_agency_id", sa.Integer(), nullable=True),
        sa.Column("occurred_at", UTC, nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        _fk("audit_event", "actor_agency_id", "agency"),
        _fk("audit_event", "actor_id", "user_account"),
        _fk("audit_event", "case_id", "case_file"),
        _fk("audit_event", "instance_id", "process_instance"),
        _fk("audit_event", "task_id", "human_task"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
        sa.UniqueConstraint("chain", "seq", name=op.f("uq_audit_event_chain_seq")),
    )
    op.create_index(op.f("ix_audit_event_case_id"), "audit_event", ["case_id"])


def downgrade() -> None:
    # Dropping a table drops its indexes; children before parents.
    for table in ("audit_event", "timer", "message", "human_task", "process_instance",
                  "case_participant", "process_model", "membership", "case_file", "calendar_day",
                  "api_token", "user_account", "audit_chain", "agency"):
        op.drop_table(table)
