"""Personal API tokens: created by their owner (or an operator), shown once, stored hashed.

A token is 32 random bytes, so SHA-256 of it is as good as a slow password hash and lets the API
find the token with one indexed lookup.

Who a token belongs to is asked by every API request, and an API client sends many requests in a
row, so each process remembers the answer for a few seconds (`TokenCache`, bound to the session
factory by the web app). The bound on staleness is that time-to-live: a token revoked, a user
deactivated or a role changed by another process (another server worker, the `liandong` command,
SQL) takes effect in this process within the TTL; a token revoked through `revoke_token` in this
process is forgotten at once.
"""
from __future__ import annotations

import functools
import hashlib
import secrets
import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, bindparam, inspect, select, update
from sqlalchemy.orm import Mapper, Session, joinedload
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from engine.access import audit
from engine.errors import Conflict, InvalidInput, NotFound
from engine.runtime.transactions import transaction, transactional
from engine.time.clock import now
from models import Agency, ApiToken, Membership, User

PREFIX = "ld_"
# A token used again within this long does not write its last-used time again: one write per
# minute at most, instead of a write (and on SQLite the database's write lock) per API request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_NAME = 80
# A new token works for this many days unless its creator chooses fewer (the web app passes its
# configured API_TOKEN_DAYS as both the default and the most allowed).
DEFAULT_DAYS = 365
# Where a session factory keeps its TokenCache (`sessionmaker(info={TOKEN_CACHE: ...})`).
TOKEN_CACHE = "token_cache"

_Copied = TypeVar("_Copied", User, Membership, Agency)


class TokenCache:
    """The users of recently seen valid tokens, each remembered for `ttl` from when it was read
    from the database, as detached copies (never attached to a session, so threads may share
    them); each request gets its own copy in its own session without a query.

    Only valid tokens are remembered: an unknown or revoked token is looked up every time, and
    a new token works at once. At most `size` tokens are kept (the least recently used go first).
    A service that deactivates users or changes memberships calls `forget()` after its commit
    (engine/access/sessions.py `set_active`), so that this process follows at once.
    """

    def __init__(self, ttl: timedelta, size: int = 1024) -> None:
        self.ttl, self.size = ttl, size
        self._entries: OrderedDict[str, tuple[datetime, User, datetime | None]] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0

    @property
    def generation(self) -> int:
        """Read before a database lookup and handed to `put`: a `forget` in between (a
        revocation committed meanwhile) makes that lookup's answer too old to keep."""
        return self._generation

    def get(self, digest: str, at: datetime) -> User | None:
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            read_at, user, expires_at = entry
            # A clock set back is treated as expiry too: the entry's age is then unknown. A
            # token that expires meanwhile is refused at its time, not the entry's.
            if not read_at <= at < read_at + self.ttl or (expires_at is not None and at >= expires_at):
                del self._entries[digest]
                return None
            self._entries.move_to_end(digest)
            return user

    def put(self, digest: str, user: User, read_at: datetime, generation: int,
            expires_at: datetime | None = None) -> None:
        with self._lock:
            if generation != self._generation:
                return
            self._entries[digest] = (read_at, user, expires_at)
            self._entries.move_to_end(digest)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def forget(self, digest: str | None = None) -> None:
        """Drop one token (`digest`) or all of them, and void lookups still in flight."""
        with self._lock:
            self._generation += 1
            if digest is None:
                self._entries.clear()
            else:
                self._entries.pop(digest, None)


def token_cache(session: Session) -> TokenCache | None:
    """The cache bound to the session's factory, if any (the CLI and tests may have none)."""
    return session.info.get(TOKEN_CACHE)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME or any(ord(c) < 32 for c in name):
        raise InvalidInput("cannot create token",
                           {"name": [f"must be 1 to {MAX_NAME} printable characters"]})
    return name


def _check_days(days: int, max_days: int | None) -> int:
    limit = max_days or DEFAULT_DAYS
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= limit:
        raise InvalidInput("cannot create token", {"days": [f"must be a whole number of days from 1 to {limit}"]})
    return days


@transactional
def create_token(
    session: Session, owner: User, name: str, actor: User | None = None,
    days: int = DEFAULT_DAYS, max_days: int | None = None,
) -> tuple[ApiToken, str]:
    """A new token for `owner`, valid for `days` (1 to `max_days`, default DEFAULT_DAYS);
    returns the row and the token itself, which exists only here.

    One transaction with a `token_created` event on the system chain; `actor` is who asked
    (the owner on the profile page, None for an operator's `liandong token create`).
    """
    name = _clean_name(name)
    days = _check_days(days, max_days)
    if not owner.active:
        raise Conflict(f"user {owner.username} is not active")
    token = PREFIX + secrets.token_urlsafe(32)
    created = now(session)
    row = ApiToken(user_id=owner.id, name=name, token_hash=token_hash(token),
                   prefix=token[:len(PREFIX) + 6], created_at=created,
                   expires_at=created + timedelta(days=days))
    session.add(row)
    session.flush()
    audit.record(session, "token_created", actor=actor, detail={
        "token_id": row.id, "user_id": owner.id, "name": name, "expires_at": row.expires_at.isoformat()})
    return row, token


def revoke_token(session: Session, actor: User | None, token_id: int, owner: User | None = None) -> ApiToken:
    """Revoke a token: its next request to this process is refused, to other processes within
    the token cache's TTL. With `owner`, only that user's token is found, so one user cannot
    learn or revoke another's. Audited as `token_revoked`."""
    row = _revoke(session, actor, token_id, owner)
    # After the commit: a lookup that starts now reads the revocation.
    cache = token_cache(session)
    if cache is not None:
        cache.forget(row.token_hash)
    return row


@transactional
def _revoke(session: Session, actor: User | None, token_id: int, owner: User | None) -> ApiToken:
    """One transaction: the revocation and its `token_revoked` event."""
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
    """The active user a valid (unrevoked, unexpired) token belongs to, or None; the user is attached to
    `session`. From the session factory's TokenCache when it read the token less than its TTL
    ago (no query); otherwise one query for the token, its user and their memberships, and
    the token's last-used time recorded (to the minute) in its own small transaction."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    digest, cache, at = token_hash(token), token_cache(session), now(session)
    if cache is not None:
        cached = cache.get(digest, at)
        if cached is not None:
            # A copy of the cached user and memberships for this session, without SQL.
            return _attached_copy(session, cached)
        generation = cache.generation
    row = session.scalars(_token_with_user(), {"digest": digest}).unique().one_or_none()
    if row is None or not row.usable_at(at) or not row.user.active:
        return None
    if row.last_used_at is None or at - row.last_used_at >= LAST_USED_RESOLUTION:
        # Conditional, so concurrent requests with one token write it once.
        with transaction(session):
            session.execute(
                update(ApiToken)
                .where(ApiToken.id == row.id,
                       (ApiToken.last_used_at.is_(None)) | (ApiToken.last_used_at <= at - LAST_USED_RESOLUTION))
                .values(last_used_at=at)
                .execution_options(synchronize_session=False)
            )
    if cache is not None:
        cache.put(digest, _detached_copy(row.user), at, generation, row.expires_at)
    return row.user


@functools.cache
def _token_with_user() -> Select[ApiToken]:
    """The token by its hash, with its user and their memberships: built once, as each cache
    miss would build the same statement again."""
    return (select(ApiToken).where(ApiToken.token_hash == bindparam("digest"))
            .options(joinedload(ApiToken.user).joinedload(User.memberships)))


def _detached_copy(user: User) -> User:
    """A copy of the user with their memberships and agencies, in no session: what the cache
    shares between requests, each of which gets its own copy (`_attached_copy`). Nothing ever
    changes it or attaches it."""
    return _copy_graph(user, None)


def _attached_copy(session: Session, cached: User) -> User:
    """A copy of the cached user with their memberships and agencies, persistent in `session`
    and unchanged there (nothing to flush), made without SQL.

    What `session.merge(cached, load=False)` makes, at half its Python calls: merge walks
    every attribute of every mapped class in the graph, generically, on every API request. A
    session that already holds one of these objects (not a request's new session) gets merge's
    own treatment of what it holds."""
    identity_map = session.identity_map
    if len(identity_map) and any(key in identity_map for key in _identity_keys(cached)):
        return session.merge(cached, load=False)
    return _copy_graph(cached, session)


def _identity_keys(user: User) -> list[Any]:
    keys: list[Any] = [instance_state(user).key]
    for membership in user.memberships:
        keys += (instance_state(membership).key, instance_state(membership.agency).key)
    return keys


def _copy_graph(user: User, session: Session | None) -> User:
    """New objects with the identity and the loaded column values of the user, of each
    membership and of its agency (one copy per agency), joined as the originals are; attached
    to `session` as persistent objects loaded from the database are, or to none.

    The column values are shared, not copied: those of these three tables are immutable
    (strings, numbers, datetimes). Nothing but column values and these relationships is copied;
    anything else is loaded by `session` when it is first read, as for a merged copy."""
    copy_user = _copy(user, session)
    agencies: dict[int, Agency] = {}
    memberships = []
    for membership in user.memberships:
        agency = membership.agency
        copy_agency = agencies.get(agency.id)
        if copy_agency is None:
            copy_agency = agencies[agency.id] = _copy(agency, session)
        copy_membership = _copy(membership, session)
        # Straight into the object's dict: loaded values, not changes to flush (no events).
        copy_membership.__dict__.update(user=copy_user, agency=copy_agency)
        memberships.append(copy_membership)
    set_committed_value(copy_user, "memberships", memberships)
    return copy_user


def _copy(original: _Copied, session: Session | None) -> _Copied:
    """One object of `_copy_graph`, without its relationships."""
    state = instance_state(original)
    copy = state.manager.new_instance()
    copy_state = instance_state(copy)
    copy_state.key = state.key
    loaded = original.__dict__
    copy.__dict__.update({name: loaded[name] for name in _column_names(type(original)) if name in loaded})
    if session is not None:
        # What merge does to attach each object it makes: into the identity map, persistent.
        session._update_impl(copy_state)
    return copy


@functools.cache
def _column_names(cls: type) -> tuple[str, ...]:
    mapper: Mapper = inspect(cls)
    return tuple(column.key for column in mapper.column_attrs)
