"""Evidence items of a case (DOMAIN §2) and their chain of custody between agencies."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .cases import Case
from .people import Agency, User

# Criminal Procedure Law art. 54(2) and SPC Interpretation arts. 75, 110-113 name these kinds;
# interview records are listed so they can be filed, though police re-take them.
EVIDENCE_KINDS = (
    "physical", "documentary", "audio_visual", "electronic_data", "expert_opinion",
    "inspection_record", "interview_record",
)


class EvidenceItem(Base):
    """One item of evidence. The file, when there is one, lives outside the web root under a
    generated name; its SHA-256 is computed at upload and re-checked on every read."""

    __tablename__ = "evidence_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    owner_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    kind: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(300))
    collected_at: Mapped[datetime]
    # Two officers collect evidence; they may be people without an account, so names not ids.
    collector_1: Mapped[str] = mapped_column(String(120))
    collector_2: Mapped[str] = mapped_column(String(120))
    # The integrity value the provider declares for electronic data (DOMAIN §2).
    declared_sha256: Mapped[str | None] = mapped_column(String(64))
    # Involves the trade secret itself (CPL art. 54(3)): opened only by the people policy names.
    confidential: Mapped[bool] = mapped_column(default=True)
    storage_name: Mapped[str | None] = mapped_column(String(64), unique=True)
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(BigInteger)
    content_type: Mapped[str | None] = mapped_column(String(100))
    original_name: Mapped[str | None] = mapped_column(String(255))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime]
    # When a read first found the stored file no longer matching `sha256` (or gone), and what it
    # found then (None: the file was missing). Cleared when a later read finds it whole again
    # (restored from a backup). A damaged item is shown as such everywhere and never served.
    corrupted_at: Mapped[datetime | None]
    corrupted_sha256: Mapped[str | None] = mapped_column(String(64))

    case: Mapped[Case] = relationship()
    owner_agency: Mapped[Agency] = relationship(lazy="joined")
    uploaded_by: Mapped[User] = relationship()
    custody: Mapped[list[EvidenceCustody]] = relationship(
        back_populates="evidence", order_by="EvidenceCustody.id"
    )

    @property
    def has_file(self) -> bool:
        return self.storage_name is not None

    @property
    def corrupted(self) -> bool:
        return self.corrupted_at is not None


class EvidenceCustody(Base):
    """One handing of an item from one agency to another.

    The sending agency's liaison releases it (state `pending`), the receiving agency's liaison
    accepts it (`received`); both signatures and the hash re-computed at each step make the
    custody record of DOMAIN §2.
    """

    __tablename__ = "evidence_custody"

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence_item.id"), index=True)
    from_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    to_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    # pending | received
    state: Mapped[str] = mapped_column(String(16), default="pending")
    released_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    released_at: Mapped[datetime]
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    received_at: Mapped[datetime | None]
    # The file's hash as the sender released it; the receiver's check must find the same.
    sha256: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(500), default="")

    evidence: Mapped[EvidenceItem] = relationship(back_populates="custody")
    from_agency: Mapped[Agency] = relationship(foreign_keys=[from_agency_id], lazy="joined")
    to_agency: Mapped[Agency] = relationship(foreign_keys=[to_agency_id], lazy="joined")
    released_by: Mapped[User] = relationship(foreign_keys=[released_by_id])
    received_by: Mapped[User | None] = relationship(foreign_keys=[received_by_id])
