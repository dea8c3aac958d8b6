"""Agencies, users and their roles."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base

ROLES = ("handler", "head", "liaison", "supervisor", "admin", "intake")
# agency: one of the district's agencies; service_station: an intake point run with SAMR (服务站点)
# whose `intake` staff register clues and see only their own.
AGENCY_KINDS = ("agency", "service_station")


class Agency(Base):
    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Short name used in document numbers, e.g. 东市监 in 东市监移〔2026〕3号.
    short_name: Mapped[str] = mapped_column(String(32), default="")
    kind: Mapped[str] = mapped_column(String(16), default="agency", server_default="agency")

    memberships: Mapped[list[Membership]] = relationship(back_populates="agency")

    def __repr__(self) -> str:
        return f"<Agency {self.code}>"


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    # The pages' language chosen in the profile (zh_CN | en); none: the browser's Accept-Language.
    language: Mapped[str | None] = mapped_column(String(8))
    # Where notifications are also mailed (config MAIL_ENABLED); none: in-app only.
    email: Mapped[str | None] = mapped_column(String(254))
    # Carried in every signed session cookie of the user; raising it (logout, password change,
    # deactivation, an administrator ending their sessions) makes every earlier cookie worthless.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def agency(self) -> Agency | None:
        """A user belongs to one agency; all memberships share it."""
        return self.memberships[0].agency if self.memberships else None

    @property
    def lanes(self) -> set[tuple[str, str]]:
        """The (agency code, role) pairs this user may act in."""
        return {(m.agency.code, m.role) for m in self.memberships}

    def has_role(self, role: str) -> bool:
        return any(m.role == role for m in self.memberships)

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class Membership(Base):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "agency_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))

    user: Mapped[User] = relationship(back_populates="memberships")
    agency: Mapped[Agency] = relationship(back_populates="memberships", lazy="joined")


class LoginThrottle(Base):
    """Wrong passwords for one account from one client address since the last good login from
    there. Past a limit that address waits before it may try the account again, longer after
    each further failure; every other address (the account's owner at their desk) is unaffected,
    so guessing from one place cannot lock anyone out."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("user_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    # The client's address as the web app sees it (behind a proxy: from X-Forwarded-For).
    address: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime]
    blocked_until: Mapped[datetime | None]
