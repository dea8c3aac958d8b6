"""User accounts and authentication."""
from __future__ import annotations

from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import ROLES, Agency, Membership, User

from engine.access import audit
from engine.access.sessions import bump_epoch, require_administrator
from engine.time.clock import now
from engine.errors import Conflict, InvalidInput
from engine.runtime.transactions import transaction

_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong username costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("liandong-timing-equaliser")
MIN_PASSWORD_LENGTH = 8
# Defaults for account lockout; the web app passes its configured values.
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)


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
    try:
        user = User(username=username, display_name=display_name or username,
                    password_hash=_hasher.hash(password), created_at=now(session),
                    email=email or None)
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


def authenticate(
    session: Session, username: str, password: str,
    max_failures: int = MAX_FAILURES, lockout: timedelta = LOCKOUT,
) -> User | None:
    """The active, unlocked user with these credentials, or None; the same work is done and
    the same answer given whether the user is unknown, the password wrong or the account locked.

    One transaction: a wrong password counts against the account; the `max_failures`-th locks
    it for `lockout` (even the right password is refused meanwhile), recorded as `user_locked`
    on the system chain; a good login clears the count.
    """
    try:
        user = session.scalar(select(User).where(User.username == username))
        try:
            good = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            good = False
        at = now(session)
        if user is None or not user.active or (user.locked_until and user.locked_until > at):
            session.rollback()
            return None
        if good:
            if user.failed_logins or user.locked_until:
                user.failed_logins, user.locked_until = 0, None
            session.commit()
            return user
        # Counted in SQL, so simultaneous guesses cannot each read the same old count.
        failures = session.execute(
            update(User).where(User.id == user.id)
            .values(failed_logins=User.failed_logins + 1).returning(User.failed_logins)
        ).scalar_one()
        if failures >= max_failures:
            until = at + lockout
            session.execute(update(User).where(User.id == user.id)
                            .values(failed_logins=0, locked_until=until))
            audit.record(session, "user_locked", detail={
                "user_id": user.id, "username": user.username, "failures": failures,
                "locked_until": until.isoformat()})
        session.commit()
        return None
    except BaseException:
        session.rollback()
        raise
