"""Standing approvals: an agency's liaison approves one kind of hand-off once for all, so that
each such hand-off is approved in their name as soon as it reaches the agency, sparing the
liaisons the click-throughs that only confirm."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .people import Agency, User


class StandingApproval(Base):
    """One hand-off step (`process_key`, `bpmn_id`: a liaison task of the agency's lane) that the
    agency approves without a click, in the name of the liaison who granted it, until revoked.
    At most one active row per agency and step."""

    __tablename__ = "standing_approval"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    process_key: Mapped[str] = mapped_column(String(100))
    bpmn_id: Mapped[str] = mapped_column(String(200))
    # The step's name when granted, for the settings page and the audit trail.
    step_name: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    granted_at: Mapped[datetime]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(Text)

    agency: Mapped[Agency] = relationship(lazy="joined")
    granted_by: Mapped[User] = relationship(foreign_keys=[granted_by_id], lazy="joined")
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    __table_args__ = (
        Index("ix_standing_approval_active", "agency_id", "process_key", "bpmn_id", unique=True,
              sqlite_where=text("revoked_at IS NULL"), postgresql_where=text("revoked_at IS NULL")),
    )

    def __repr__(self) -> str:
        return f"<StandingApproval {self.agency_id} {self.process_key}.{self.bpmn_id}>"
