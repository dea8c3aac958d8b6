"""Rights holders (权利人) as parties of a case, and the delivery of the notices they are owed.

A rights holder is not a user: an agency's handler records who they are and how to reach them.
Every notice a holder is owed is a generated `Document`; each delivery of it (in person, by post,
by mail, by phone, online) is a `NoticeDelivery`.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .cases import Case
from .documents import Document
from .people import User

HOLDER_KINDS = ("person", "company")
DELIVERY_METHODS = ("in_person", "post", "email", "phone", "online")


class RightsHolder(Base):
    """A holder of the trade secret the case is about: a person or a company, with its
    representative (法定代表人) and agent (委托代理人) where it has them."""

    __tablename__ = "rights_holder"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    contact: Mapped[str] = mapped_column(String(300))
    representative: Mapped[str] = mapped_column(String(120), default="")
    agent: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])


class NoticeDelivery(Base):
    """One delivery of a notice (a generated document) to a rights holder: how, when, by whom,
    who received it. A notice may need more than one attempt; the first delivery counts."""

    __tablename__ = "notice_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("rights_holder.id"))
    method: Mapped[str] = mapped_column(String(16))
    delivered_at: Mapped[datetime]
    delivered_by: Mapped[str] = mapped_column(String(120))
    recipient: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime]

    document: Mapped[Document] = relationship()
    holder: Mapped[RightsHolder | None] = relationship()
    recorded_by: Mapped[User] = relationship()
