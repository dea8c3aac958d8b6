"""Personal API tokens: how other agency systems act as a user through the JSON API."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .people import User


class ApiToken(Base):
    """One bearer token of one user. Only the SHA-256 of the token is stored: the token itself
    is shown once at creation, so a copy of the database does not let anyone call the API."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    # What the owner calls it ("court case system"), to tell their tokens apart when revoking.
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The token's first characters, shown in lists so the owner can recognise it.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    # A token stops working at this time (a year by default, config API_TOKEN_DAYS).
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    @property
    def active(self) -> bool:
        """Not revoked (whether it has expired depends on the time: `usable_at`)."""
        return self.revoked_at is None

    def usable_at(self, at: datetime) -> bool:
        return self.revoked_at is None and at < self.expires_at
