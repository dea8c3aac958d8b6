"""What a consultation's minutes decided is to be done (案情会商 落实事项, DOMAIN §5), tracked to done."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .people import Agency, User

# An item starts a mechanism on the case, or gives an agency a task with a deadline.
ACTION_KINDS = ("mechanism", "task")
# open -> done, open -> cancelled by the responsible agency, or open -> withdrawn by the convening
# agency (either with the reason in `note`).
ACTION_STATES = ("open", "done", "cancelled", "withdrawn")


class ConsultationActionItem(Base):
    """One action item of a consultation's minutes: what is to be done, by which agency, and
    where it stands. `instance_id` is the instance the item runs as: the mechanism it started, or
    the `consultation_action` instance whose task the agency works."""

    __tablename__ = "consultation_action_item"
    __table_args__ = (Index("ix_consultation_action_item_case_id", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"))
    consultation_instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    # The position of the item in the minutes, from 1.
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    # kind "mechanism": the mechanism's key.
    mechanism: Mapped[str | None] = mapped_column(String(100))
    # The agency that starts the mechanism, or that is to carry out the task.
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    text: Mapped[str] = mapped_column(Text)
    # kind "task": the period given (a rule such as "5wd") and when it ends.
    deadline_rule: Mapped[str | None] = mapped_column(String(16))
    due_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(16), default="open")
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime]
    # Who marked it done or cancelled, when, and what was done (or why it was cancelled).
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    closed_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)

    agency: Mapped[Agency] = relationship(lazy="joined", viewonly=True)
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id], viewonly=True)
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id], viewonly=True)
