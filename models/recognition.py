"""Evidence packages handed from one agency to another for mutual recognition (DOMAIN §2).

The workflow carries only item ids and verdicts; what was handed over, who reviewed each item and
why it was or was not recognised is kept here, next to the items themselves.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .cases import Case
from .evidence import EvidenceCustody, EvidenceItem
from .people import Agency, User

# pending: not reviewed yet; supplement: returned for supplement (not recognised unless a later
# round recognises it).
VERDICTS = ("pending", "recognised", "rejected", "supplement")


class EvidencePackage(Base):
    """The items one run of the evidence_recognition mechanism hands over; one per instance.

    state: submitted | refused (the provider's liaison did not release it) | sent | received (its
    liaison signed for it; the verdicts are on the items).
    """

    __tablename__ = "evidence_package"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    provider_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    receiving_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    purpose: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="submitted")
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    submitted_at: Mapped[datetime]
    # What the provider supplied in each supplement round: [{"round", "note", "by", "at"}].
    supplements: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    case: Mapped[Case] = relationship()
    provider_agency: Mapped[Agency] = relationship(foreign_keys=[provider_agency_id], lazy="joined")
    receiving_agency: Mapped[Agency] = relationship(foreign_keys=[receiving_agency_id], lazy="joined")
    submitted_by: Mapped[User] = relationship()
    items: Mapped[list[PackageItem]] = relationship(back_populates="package", order_by="PackageItem.id")


class PackageItem(Base):
    """One item of a package: its handover (custody row) and the receiving agency's verdict."""

    __tablename__ = "evidence_package_item"
    __table_args__ = (UniqueConstraint("package_id", "evidence_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("evidence_package.id"), index=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence_item.id"), index=True)
    custody_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_custody.id"))
    verdict: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str] = mapped_column(Text, default="")
    # The engine decided, not the reviewer: the file no longer matched its declared SHA-256.
    forced: Mapped[bool] = mapped_column(default=False)
    # The file's SHA-256 as re-computed when the item was reviewed (None: no file, or it is gone).
    sha256_found: Mapped[str | None] = mapped_column(String(64))
    review_round: Mapped[int | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None]

    package: Mapped[EvidencePackage] = relationship(back_populates="items")
    evidence: Mapped[EvidenceItem] = relationship(lazy="joined")
    custody: Mapped[EvidenceCustody | None] = relationship()
    reviewed_by: Mapped[User | None] = relationship()
