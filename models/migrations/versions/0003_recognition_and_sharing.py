"""Evidence packages for mutual recognition and information shared on request.

Revision ID: 0003_recognition_sharing
Revises: 0002
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_recognition_sharing"
down_revision = "0002"
branch_labels = None
depends_on = None

# Every time is stored as an aware UTC datetime (models.base.UTCDateTime).
UTC = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    """A foreign key named by the models' naming convention (models/base.py)."""
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def _id(table: str) -> tuple[sa.Column, sa.PrimaryKeyConstraint]:
    return sa.Column("id", sa.Integer(), nullable=False), sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}"))


def upgrade() -> None:
    op.create_table(
        "evidence_package",
        *_id("evidence_package"),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("provider_agency_id", sa.Integer(), nullable=False),
        sa.Column("receiving_agency_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(), nullable=False),
        sa.Column("submitted_at", UTC, nullable=False),
        sa.Column("supplements", sa.JSON(), nullable=False),
        _fk("evidence_package", "case_id", "case_file"),
        _fk("evidence_package", "instance_id", "process_instance"),
        _fk("evidence_package", "provider_agency_id", "agency"),
        _fk("evidence_package", "receiving_agency_id", "agency"),
        _fk("evidence_package", "submitted_by_id", "user_account"),
        sa.UniqueConstraint("instance_id", name=op.f("uq_evidence_package_instance_id")),
    )
    op.create_index(op.f("ix_evidence_package_case_id"), "evidence_package", ["case_id"])
    op.create_table(
        "evidence_package_item",
        *_id("evidence_package_item"),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("custody_id", sa.Integer(), nullable=True),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("sha256_found", sa.String(64), nullable=True),
        sa.Column("review_round", sa.Integer(), nullable=True),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", UTC, nullable=True),
        _fk("evidence_package_item", "package_id", "evidence_package"),
        _fk("evidence_package_item", "evidence_id", "evidence_item"),
        _fk("evidence_package_item", "custody_id", "evidence_custody"),
        _fk("evidence_package_item", "reviewed_by_id", "user_account"),
        sa.UniqueConstraint("package_id", "evidence_id", name=op.f("uq_evidence_package_item_package_id_evidence_id")),
    )
    op.create_index(op.f("ix_evidence_package_item_package_id"), "evidence_package_item", ["package_id"])
    op.create_index(op.f("ix_evidence_package_item_evidence_id"), "evidence_package_item", ["evidence_id"])
    op.create_table(
        "information_request",
        *_id("information_request"),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("requester_agency_id", sa.Integer(), nullable=False),
        sa.Column("owner_agency_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.String(500), nullable=False),
        sa.Column("asked", sa.Text(), nullable=False),
        sa.Column("needed_by", sa.Date(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", UTC, nullable=False),
        sa.Column("answer_text", sa.Text(), nullable=False),
        sa.Column("evidence_ids", sa.JSON(), nullable=False),
        sa.Column("document_ids", sa.JSON(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", UTC, nullable=True),
        sa.Column("refusal_reasons", sa.Text(), nullable=False),
        _fk("information_request", "case_id", "case_file"),
        _fk("information_request", "instance_id", "process_instance"),
        _fk("information_request", "requester_agency_id", "agency"),
        _fk("information_request", "owner_agency_id", "agency"),
        _fk("information_request", "requested_by_id", "user_account"),
        _fk("information_request", "decided_by_id", "user_account"),
        sa.UniqueConstraint("instance_id", name=op.f("uq_information_request_instance_id")),
    )
    op.create_index(op.f("ix_information_request_case_id"), "information_request", ["case_id"])
    op.create_table(
        "information_grant",
        *_id("information_grant"),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("answer_text", sa.Text(), nullable=False),
        sa.Column("evidence_ids", sa.JSON(), nullable=False),
        sa.Column("document_ids", sa.JSON(), nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("granted_by_id", sa.Integer(), nullable=False),
        sa.Column("granted_at", UTC, nullable=False),
        _fk("information_grant", "request_id", "information_request"),
        _fk("information_grant", "case_id", "case_file"),
        _fk("information_grant", "granted_by_id", "user_account"),
        sa.UniqueConstraint("request_id", name=op.f("uq_information_grant_request_id")),
    )
    op.create_index(op.f("ix_information_grant_case_id"), "information_grant", ["case_id"])
    op.create_table(
        "information_grant_viewer",
        *_id("information_grant_viewer"),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _fk("information_grant_viewer", "grant_id", "information_grant"),
        _fk("information_grant_viewer", "user_id", "user_account"),
        sa.UniqueConstraint("grant_id", "user_id", name=op.f("uq_information_grant_viewer_grant_id_user_id")),
    )
    op.create_index(op.f("ix_information_grant_viewer_grant_id"), "information_grant_viewer", ["grant_id"])
    op.create_index(op.f("ix_information_grant_viewer_user_id"), "information_grant_viewer", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_information_grant_viewer_user_id"), table_name="information_grant_viewer")
    op.drop_index(op.f("ix_information_grant_viewer_grant_id"), table_name="information_grant_viewer")
    op.drop_table("information_grant_viewer")
    op.drop_index(op.f("ix_information_grant_case_id"), table_name="information_grant")
    op.drop_table("information_grant")
    op.drop_index(op.f("ix_information_request_case_id"), table_name="information_request")
    op.drop_table("information_request")
    op.drop_index(op.f("ix_evidence_package_item_evidence_id"), table_name="evidence_package_item")
    op.drop_index(op.f("ix_evidence_package_item_package_id"), table_name="evidence_package_item")
    op.drop_table("evidence_package_item")
    op.drop_index(op.f("ix_evidence_package_case_id"), table_name="evidence_package")
    op.drop_table("evidence_package")
