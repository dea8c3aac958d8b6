"""Cases and the agencies taking part in them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .people import Agency, User

CONFIDENTIALITY_LEVELS = ("internal", "confidential", "secret")
# How an agency takes part in a case: a party works on it (a task of the case reached it); an
# observer is copied on it (the procuratorate, from the transfer letter on) and reads without working.
PARTICIPANT_ROLES = ("party", "observer")


class Case(Base):
    __tablename__ = "case_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    confidentiality: Mapped[str] = mapped_column(String(16), default="confidential")
    owner_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime]

    owner_agency: Mapped[Agency] = relationship(foreign_keys=[owner_agency_id], viewonly=True)
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id], viewonly=True)
    participants: Mapped[list[CaseParticipant]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseParticipant.joined_at"
    )

    def __repr__(self) -> str:
        return f"<Case {self.number}>"


class CaseParticipant(Base):
    """An agency that the case has reached: its owner, or any agency that got a task on it
    (`role` "party"), or an agency copied on it to oversee it (`role` "observer").

    Party rows are written by the engine when a task for a new agency becomes ready, so visibility
    follows the case's actual path rather than every pool a diagram happens to contain; an observer
    whose agency later gets a task becomes a party. Observer rows are written when the case is
    transferred or a transfer is refused or abandoned (engine/mechanisms/procuratorate.py).
    """

    __tablename__ = "case_participant"
    __table_args__ = (UniqueConstraint("case_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    joined_at: Mapped[datetime]
    role: Mapped[str] = mapped_column(String(16), default="party", server_default="party")

    case: Mapped[Case] = relationship(back_populates="participants")
    agency: Mapped[Agency] = relationship(lazy="joined")
