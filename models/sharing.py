"""Information shared between agencies on request (DOMAIN §4): the request, and the grant that
lets named users of the requesting agency read the answer until it expires."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .cases import Case
from .people import Agency, User


class InformationRequest(Base):
    """One agency asking another about a case; one per run of the information_sharing mechanism.

    state: submitted | withdrawn (the requester's liaison did not send it) | sent | granted |
    refused. The owner's draft answer is kept here until its liaison decides; a grant copies it.
    """

    __tablename__ = "information_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    requester_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    owner_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(String(500))
    asked: Mapped[str] = mapped_column(Text)
    needed_by: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default="submitted")
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    requested_at: Mapped[datetime]
    answer_text: Mapped[str] = mapped_column(Text, default="")
    evidence_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    document_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None]
    refusal_reasons: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[Case] = relationship()
    requester_agency: Mapped[Agency] = relationship(foreign_keys=[requester_agency_id], lazy="joined")
    owner_agency: Mapped[Agency] = relationship(foreign_keys=[owner_agency_id], lazy="joined")
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    grant: Mapped[InformationGrant | None] = relationship(back_populates="request")


class InformationGrant(Base):
    """What the owner's liaison approved for sharing: fixed when granted, readable by the named
    users until `expires_at` (the engine's clock decides), every reading audited."""

    __tablename__ = "information_grant"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("information_request.id"), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    answer_text: Mapped[str] = mapped_column(Text, default="")
    evidence_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    document_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    expires_at: Mapped[datetime]
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    granted_at: Mapped[datetime]

    request: Mapped[InformationRequest] = relationship(back_populates="grant", lazy="joined")
    case: Mapped[Case] = relationship()
    granted_by: Mapped[User] = relationship()
    viewers: Mapped[list[GrantViewer]] = relationship(back_populates="grant", order_by="GrantViewer.id")


class GrantViewer(Base):
    """A user of the requesting agency named by the owner's liaison as allowed to read a grant."""

    __tablename__ = "information_grant_viewer"
    __table_args__ = (UniqueConstraint("grant_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("information_grant.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)

    grant: Mapped[InformationGrant] = relationship(back_populates="viewers")
    user: Mapped[User] = relationship(lazy="joined")
