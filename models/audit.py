"""The append-only audit trail, one hash chain per case plus a system chain.

On PostgreSQL (and SQLite) triggers created by migration 0012 refuse UPDATE, DELETE and TRUNCATE
of audit_event, DELETE of audit_chain, and moving a chain's head back or unsealing it.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .people import Agency, User

SYSTEM_CHAIN = "system"


def case_chain(case_id: int) -> str:
    return f"case:{case_id}"


class AuditChain(Base):
    """Head of one chain. Appending locks this row, so concurrent appends never fork a chain."""

    __tablename__ = "audit_chain"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default="")
    # From this event on the chain's hashes are HMACs under the audit key (config AUDIT_KEY, kept
    # out of the database); the events before it (written before a key was configured) stay
    # plain SHA-256, vouched for by the first keyed event's link. `key_mac`, an HMAC of the name
    # and this number, shows the key sealed it: without the key neither can be forged or moved.
    keyed_from: Mapped[int | None] = mapped_column(Integer)
    key_mac: Mapped[str | None] = mapped_column(String(64))


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (UniqueConstraint("chain", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chain: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_file.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    occurred_at: Mapped[datetime]
    # subject_verbed, e.g. task_claimed, case_created, handoff_approved.
    event_type: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    actor: Mapped[User | None] = relationship()
    actor_agency: Mapped[Agency | None] = relationship()
