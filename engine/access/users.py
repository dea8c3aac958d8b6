"""User accounts and their passwords (logging in: engine/access/logins.py)."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import audit
from engine.access.sessions import bump_epoch, require_administrator
from engine.errors import Conflict, InvalidInput
from engine.runtime.transactions import transaction
from engine.time.clock import now
from models import ROLES, Agency, Membership, User

_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong username costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("liandong-timing-equaliser")
MIN_PASSWORD_LENGTH = 8


def is_email(value: str) -> bool:
    """Shape of a mail address (name@host, no spaces, at most 254 characters); whether it
    reaches anyone only the mail server can tell."""
    return len(value) <= 254 and "@" in value.strip("@") and not any(c.isspace() for c in value)


def create_user(
    session: Session, username: str, password: str, display_name: str, agency_code: str,
    roles: list[str], actor: User | None = None, email: str | None = None,
) -> User:
    """Create a user of one agency with one or more roles (and optionally the address their
    notifications are mailed to); audited on the system chain."""
    errors: dict[str, list[str]] = {}
    if email is not None and not is_email(email):
        errors["email"] = ["must be an email address (name@host)"]
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
    with transaction(session):
        user = User(username=username, display_name=display_name or username,
                    password_hash=_hasher.hash(password), created_at=now(session),
                    email=email or None)
        user.memberships = [Membership(agency=agency, role=role) for role in dict.fromkeys(roles)]
        session.add(user)
        session.flush()
        audit.record(session, "user_created", actor=actor,
                     detail={"user_id": user.id, "username": username, "agency": agency_code,
                             "roles": list(dict.fromkeys(roles))})
        return user


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password too short", {
            "new_password": [f"must be at least {MIN_PASSWORD_LENGTH} characters"]})


def change_password(session: Session, user: User, current: str, new: str) -> User:
    """The user replaces their own password, giving the current one (InvalidInput on
    `current_password` if it is wrong). Every session of the user ends, this one included (the
    caller logs it in again with the new epoch); audited as `password_changed`."""
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise InvalidInput("wrong password", {"current_password": ["is not your current password"]}) from None
    _check_password(new)
    with transaction(session):
        user.password_hash = _hasher.hash(new)
        bump_epoch(session, user)
        audit.record(session, "password_changed", actor=user,
                     detail={"user_id": user.id, "username": user.username})
    return user


def set_password(session: Session, actor: User | None, user: User, new: str) -> User:
    """An administrator (or the operator, actor None) gives a user a new password; the user's
    sessions end. Audited as `password_reset`; Forbidden for anyone else."""
    require_administrator(actor)
    _check_password(new)
    with transaction(session):
        user.password_hash = _hasher.hash(new)
        bump_epoch(session, user)
        audit.record(session, "password_reset", actor=actor,
                     detail={"user_id": user.id, "username": user.username})
    return user
