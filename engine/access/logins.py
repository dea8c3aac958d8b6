"""Logging in: a password checked against its hash, with guessing throttled per account and
client address together.

Locking an account after a few wrong passwords lets anyone lock a colleague out. Instead each
(account, address) pair counts its failures since its last good login: from the
`max_failures`-th on, that address waits before it may try that account again, `first_wait`
and twice as long after each further failure up to `longest_wait`. The account's owner at
another address is not affected; an administrator can clear every wait of an account
(`unlock`). Each wait begun and each unlock is recorded on the system chain.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from engine.access import audit, policy
from engine.access.sessions import require_administrator
from engine.access.users import _DUMMY_HASH, _hasher
from engine.errors import Forbidden
from engine.runtime.sql import dialect_insert
from engine.runtime.transactions import transaction
from engine.time.clock import now
from models import User
from models.people import LoginThrottle

# Defaults; the web app passes its configured values.
MAX_FAILURES = 5
FIRST_WAIT = timedelta(minutes=1)
LONGEST_WAIT = timedelta(minutes=15)
# A pair's failures are forgotten this long after its last one (a typo a week ago counts for nothing).
FORGET_AFTER = timedelta(days=1)
MAX_ADDRESS = 64


def wait_after(failures: int, max_failures: int, first: timedelta, longest: timedelta) -> timedelta | None:
    """How long an address waits after its `failures`-th wrong password in a row (None: not yet)."""
    if failures < max_failures:
        return None
    return min(first * 2 ** min(failures - max_failures, 30), longest)


def authenticate(
    session: Session, username: str, password: str, address: str = "unknown",
    max_failures: int = MAX_FAILURES, first_wait: timedelta = FIRST_WAIT,
    longest_wait: timedelta = LONGEST_WAIT,
) -> User | None:
    """The active user with these credentials, unless `address` is waiting for this account; or
    None. The same work is done and the same answer given whether the user is unknown, the
    password wrong, the account off or the address waiting.

    One transaction: a wrong password counts against (account, address) in SQL, so simultaneous
    guesses cannot each read the same old count; a count reaching `max_failures` and each one
    after begins a wait, recorded as `login_throttled`; a good login clears the pair's count.
    """
    address = (address or "unknown")[:MAX_ADDRESS]
    with transaction(session):
        user = session.scalar(select(User).where(User.username == username))
        try:
            good: bool = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            good = False
        at = now(session)
        if user is None or not user.active:
            session.rollback()  # nothing was written, nothing to commit
            return None
        pair = (LoginThrottle.user_id == user.id, LoginThrottle.address == address)
        waiting = session.scalar(select(LoginThrottle.blocked_until).where(*pair))
        if waiting is not None and waiting > at:
            session.rollback()  # nothing was written, nothing to commit
            return None
        if good:
            session.execute(delete(LoginThrottle).where(*pair))
            return user
        insert = dialect_insert(session)(LoginThrottle).values(
            user_id=user.id, address=address, failures=1, last_failure_at=at)
        failures = session.execute(insert.on_conflict_do_update(
            index_elements=["user_id", "address"],
            set_={"failures": LoginThrottle.failures + 1, "last_failure_at": at},
        ).returning(LoginThrottle.failures)).scalar_one()
        wait = wait_after(failures, max_failures, first_wait, longest_wait)
        if wait is not None:
            until = at + wait
            session.execute(update(LoginThrottle).where(*pair).values(blocked_until=until))
            audit.record(session, "login_throttled", detail={
                "user_id": user.id, "username": user.username, "address": address,
                "failures": failures, "until": until.isoformat()})
        # Forget old pairs whose wait is over, so the table holds only recent guessing.
        session.execute(delete(LoginThrottle).where(
            LoginThrottle.last_failure_at < at - FORGET_AFTER,
            (LoginThrottle.blocked_until.is_(None)) | (LoginThrottle.blocked_until <= at)))
        return None



def throttled(session: Session, actor: User) -> dict[int, list[LoginThrottle]]:
    """For the administrators' page: each account's addresses that are waiting now, by user id
    (Forbidden for anyone else)."""
    if not policy.can_administer(actor):
        raise Forbidden("only administrators see login throttling")
    rows = session.scalars(select(LoginThrottle).where(LoginThrottle.blocked_until > now(session))
                           .order_by(LoginThrottle.user_id, LoginThrottle.address)).all()
    found: dict[int, list[LoginThrottle]] = {}
    for row in rows:
        found.setdefault(row.user_id, []).append(row)
    return found


def unlock_user(session: Session, actor: User | None, user: User) -> int:
    """Clear every address's count and wait for `user`'s account (administrators, or the
    operator with actor None); audited as `user_unlocked`. Returns how many addresses it cleared."""
    require_administrator(actor)
    with transaction(session):
        cleared = cast("CursorResult[Any]", session.execute(
            delete(LoginThrottle).where(LoginThrottle.user_id == user.id))).rowcount
        audit.record(session, "user_unlocked", actor=actor, detail={
            "user_id": user.id, "username": user.username, "addresses": cleared})
    return cleared
