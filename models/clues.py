"""Clues (线索): what an agency or a service station registers before there is a case, and the
triage that opens a case from one or closes it with reasons."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .cases import Case
from .people import Agency, User

# How the clue reached the registering agency.
CLUE_SOURCES = ("complaint", "report", "referral", "inspection", "other")
# pending: waiting for triage; opened: a case was opened from it; closed: closed with reasons.
CLUE_STATUSES = ("pending", "opened", "closed")


class Clue(Base):
    __tablename__ = "clue"

    id: Mapped[int] = mapped_column(primary_key=True)
    # XS<year>-<id>, written in the transaction that registers it.
    number: Mapped[str] = mapped_column(String(64), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    source: Mapped[str] = mapped_column(String(32))
    # Free text: the structured rights holders belong to the case opened from the clue.
    rights_holder: Mapped[str] = mapped_column(String(300), default="")
    suspect: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[str] = mapped_column(Text)
    # Whole yuan; None is "not known yet", which is not 0 (DOMAIN, Thresholds).
    loss_amount: Mapped[int | None] = mapped_column(BigInteger)
    illegal_gain: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    registered_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    registered_at: Mapped[datetime]
    triaged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    triaged_at: Mapped[datetime | None]
    # Why it was closed (required then), or the triager's note when a case was opened.
    triage_reason: Mapped[str | None] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_file.id"), unique=True)

    agency: Mapped[Agency] = relationship(lazy="joined")
    registered_by: Mapped[User] = relationship(foreign_keys=[registered_by_id])
    triaged_by: Mapped[User | None] = relationship(foreign_keys=[triaged_by_id])
    case: Mapped[Case | None] = relationship()
    attachments: Mapped[list[ClueAttachment]] = relationship(
        back_populates="clue", order_by="ClueAttachment.id", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Clue {self.number}>"


class ClueAttachment(Base):
    """A file registered with a clue, kept like evidence files: under a generated name outside
    the web root, its SHA-256 computed by the server when written and checked on every read."""

    __tablename__ = "clue_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    clue_id: Mapped[int] = mapped_column(ForeignKey("clue.id", ondelete="CASCADE"), index=True)
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
    original_name: Mapped[str] = mapped_column(String(255))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime]

    clue: Mapped[Clue] = relationship(back_populates="attachments")
    uploaded_by: Mapped[User] = relationship()
