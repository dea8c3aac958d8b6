"""Ending a user's sessions, and switching accounts off and on.

A signed session cookie carries the user's session epoch from when they logged in (web/auth.py);
a cookie whose epoch is no longer the user's is refused. Raising the epoch therefore ends every
session of the user at once, on every server process, with no session store: logging out,
changing the password, being deactivated, or an administrator's "end all sessions" do it.
"""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.access import audit, policy
from engine.access.tokens import token_cache
from engine.errors import Forbidden, NotFound
from engine.runtime.transactions import transaction
from models import User

# Why a user's sessions ended, as recorded on the system chain.
REASONS = ("logout", "password_changed", "password_reset", "deactivated", "administrator")


def bump_epoch(session: Session, user: User) -> None:
    """Raise the user's session epoch in the caller's transaction. In SQL, so two requests doing
    it at once both count; the loaded user is refreshed with the new value."""
    session.execute(update(User).where(User.id == user.id)
                    .values(session_epoch=User.session_epoch + 1)
                    .execution_options(synchronize_session=False))
    session.refresh(user, ["session_epoch"])


def require_administrator(actor: User | None) -> None:
    # None is the operator at the command line, who already holds the database.
    if actor is not None and not policy.can_administer(actor):
        raise Forbidden("only administrators manage other users' accounts")


def end_sessions(session: Session, actor: User | None, user: User, reason: str = "administrator") -> User:
    """End every session of `user` (their cookies are refused from now on); audited as
    `sessions_ended` with the reason. A user ends their own at logout; anyone else's takes an
    administrator (Forbidden) or the command line (actor None)."""
    if reason not in REASONS:
        raise ValueError(f"unknown reason {reason!r}")
    if actor is None or actor.id != user.id:
        require_administrator(actor)
    with transaction(session):
        bump_epoch(session, user)
        audit.record(session, "sessions_ended", actor=actor, detail={
            "user_id": user.id, "username": user.username, "reason": reason})
    return user


def set_active(session: Session, actor: User | None, user: User, active: bool) -> User:
    """Switch an account off (its sessions end and its tokens stop working at once in this
    process, within the token cache's time elsewhere) or on again; audited as
    `user_deactivated` / `user_activated`. Administrators only (Forbidden), and never their own
    account, which would leave the district without one by mistake (Forbidden)."""
    require_administrator(actor)
    if actor is not None and actor.id == user.id and not active:
        raise Forbidden("administrators cannot deactivate their own account")
    with transaction(session):
        if user.active == active:
            return user
        user.active = active
        if not active:
            bump_epoch(session, user)
        audit.record(session, "user_activated" if active else "user_deactivated", actor=actor,
                     detail={"user_id": user.id, "username": user.username})
    cache = token_cache(session)
    if cache is not None and not active:
        cache.forget()
    return user


def user_accounts(session: Session, actor: User) -> Sequence[User]:
    """Every account, by username, for the administrators' page (Forbidden for anyone else)."""
    if not policy.can_administer(actor):
        raise Forbidden("only administrators see the list of accounts")
    return session.scalars(select(User).order_by(User.username)).all()


def user_account(session: Session, actor: User, user_id: int) -> User:
    """One account for an administrator's action (Forbidden for anyone else, NotFound)."""
    if not policy.can_administer(actor):
        raise Forbidden("only administrators manage accounts")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return user
