"""User accounts and authentication."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ROLES, Agency, Membership, User

from . import audit
from .clock import now
from .errors import Conflict, InvalidInput

_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong username costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("liandong-timing-equaliser")
MIN_PASSWORD_LENGTH = 8


def create_user(
    session: Session, username: str, password: str, display_name: str, agency_code: str,
    roles: list[str], actor: User | None = None,
) -> User:
    """Create a user of one agency with one or more roles; audited on the system chain."""
    errors: dict[str, list[str]] = {}
    if not username or len(username) > 80:
        errors["username"] = ["must be 1 to 80 characters"]
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = [f"must be at least {MIN_PASSWORD_LENGTH} characters"]
    bad_roles = [r for r in roles if r not in ROLES]
    if not roles or bad_roles:
        errors["roles"] = [f"each role must be one of {', '.join(ROLES)}"]
    agency = session.scalar(select(Agency).where(Agency.code == agency_code))
    if agency is None:
        errors["agency"] = [f"unknown agency '{agency_code}'"]
    if errors:
        raise InvalidInput("cannot create user", errors)
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise Conflict(f"user '{username}' already exists")
    try:
        user = User(username=username, display_name=display_name or username,
                    password_hash=_hasher.hash(password), created_at=now(session))
        user.memberships = [Membership(agency=agency, role=role) for role in dict.fromkeys(roles)]
        session.add(user)
        session.flush()
        audit.record(session, "user_created", actor=actor,
                     detail={"user_id": user.id, "username": username, "agency": agency_code,
                             "roles": list(dict.fromkeys(roles))})
        session.commit()
        return user
    except BaseException:
        session.rollback()
        raise


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None; the same work is done either way."""
    user = session.scalar(select(User).where(User.username == username))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    return user
