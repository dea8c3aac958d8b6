"""Personal API tokens: created by their owner (or an operator), shown once, stored hashed.

A token is 32 random bytes, so SHA-256 of it is as good as a slow password hash and lets the API
find the token with one indexed lookup per request.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from models import ApiToken, User

from . import audit
from .clock import now
from .errors import Conflict, InvalidInput, NotFound
from .transactions import transactional

PREFIX = "ld_"
# A token used again within this long does not write its last-used time again: one write per
# minute at most, instead of a write (and on SQLite the database's write lock) per API request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_NAME = 80


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME or any(ord(c) < 32 for c in name):
        raise InvalidInput("cannot create token",
                           {"name": [f"must be 1 to {MAX_NAME} printable characters"]})
    return name


@transactional
def create_token(session: Session, owner: User, name: str, actor: User | None = None) -> tuple[ApiToken, str]:
    """A new token for `owner`; returns the row and the token itself, which exists only here.

    One transaction with a `token_created` event on the system chain; `actor` is who asked
    (the owner on the profile page, None for an operator's `liandong token create`).
    """
    name = _clean_name(name)
    if not owner.active:
        raise Conflict(f"user {owner.username} is not active")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=owner.id, name=name, token_hash=token_hash(token),
                   prefix=token[:len(PREFIX) + 6], created_at=now(session))
    session.add(row)
    session.flush()
    audit.record(session, "token_created", actor=actor,
                 detail={"token_id": row.id, "user_id": owner.id, "name": name})
    return row, token


@transactional
def revoke_token(session: Session, actor: User | None, token_id: int, owner: User | None = None) -> ApiToken:
    """Revoke a token at once (its next request is refused). With `owner`, only that user's
    token is found, so one user cannot learn or revoke another's. Audited as `token_revoked`."""
    row = session.get(ApiToken, token_id)
    if row is None or (owner is not None and row.user_id != owner.id):
        raise NotFound(f"token {token_id} does not exist")
    if row.revoked_at is None:
        row.revoked_at = now(session)
        audit.record(session, "token_revoked", actor=actor,
                     detail={"token_id": row.id, "user_id": row.user_id, "name": row.name})
    return row


def user_tokens(session: Session, owner: User) -> Sequence[ApiToken]:
    """The owner's tokens, newest first, revoked ones included (they show when it happened)."""
    return session.scalars(
        select(ApiToken).where(ApiToken.user_id == owner.id).order_by(ApiToken.id.desc())
    ).all()


def user_for_token(session: Session, token: str) -> User | None:
    """The active user a valid, unrevoked token belongs to, or None. Records when it was used
    (to the minute) in its own small transaction."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    # The user in the same query: every API request asks this first.
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token))
                         .options(joinedload(ApiToken.user)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    at = now(session)
    if row.last_used_at is None or at - row.last_used_at >= LAST_USED_RESOLUTION:
        # Conditional, so concurrent requests with one token write it once.
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == row.id,
                   (ApiToken.last_used_at.is_(None)) | (ApiToken.last_used_at <= at - LAST_USED_RESOLUTION))
            .values(last_used_at=at)
            .execution_options(synchronize_session=False)
        )
        session.commit()
    return row.user

