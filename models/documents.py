"""Legal documents generated from a case's tasks, numbered per agency and year."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .cases import Case
from .people import Agency, User


class DocumentCounter(Base):
    """The last number issued for one kind of document by one agency in one year.

    Numbering locks this row, so two documents issued at once never share a number.
    """

    __tablename__ = "document_counter"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), primary_key=True)
    series: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Document(Base):
    """One issued document. Its number and content are fixed when it is generated: reprinting it
    shows what was issued, not what the case says today."""

    __tablename__ = "document"
    __table_args__ = (UniqueConstraint("task_id", "kind"), UniqueConstraint("number"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id"))
    kind: Mapped[str] = mapped_column(String(40))
    number: Mapped[str] = mapped_column(String(80))
    issuing_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    recipient_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    # Everything the printed page shows, captured at generation.
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    generated_at: Mapped[datetime]
    generated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    case: Mapped[Case] = relationship()
    issuing_agency: Mapped[Agency] = relationship(foreign_keys=[issuing_agency_id], lazy="joined")
    recipient_agency: Mapped[Agency | None] = relationship(foreign_keys=[recipient_agency_id], lazy="joined")
    generated_by: Mapped[User | None] = relationship()
