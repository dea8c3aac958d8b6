"""Days an administrator entered into the business calendar."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .people import User


class CalendarDay(Base):
    """A working day or a rest day that overrides (or, past the official data, supplies) the
    State Council's calendar."""

    __tablename__ = "calendar_day"

    day: Mapped[date] = mapped_column(primary_key=True)
    working: Mapped[bool]
    note: Mapped[str] = mapped_column(String(200), default="")
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    entered_at: Mapped[datetime]

    entered_by: Mapped[User | None] = relationship()
