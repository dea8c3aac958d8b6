"""Writing and verifying the tamper-evident audit trail.

Each case has its own chain; events without a case (deploys, user administration) go to the
system chain. An event's hash covers its content and the previous event's hash, so editing,
deleting or reordering rows breaks the chain at that point.

Events are written per transaction: `record` queues an event, and when the transaction commits
the chains it appended to are locked (SELECT ... FOR UPDATE, in name order), its events are
placed on them (seq, previous hash, hash) and inserted together, and each chain's head gets its
new seq and hash. On PostgreSQL the events' INSERT rides in the head's UPDATE as a data-modifying
CTE, the events given as the rows of one JSON parameter, so a transaction appending a step's few
events to one chain writes its audit in two statements (lock, write); on SQLite, for several
chains or for many events, the INSERT is a statement of its own. A case opened in the
transaction (`open_chain`) has no head to lock: its head row is inserted with its first events,
one statement. So the events are in the database exactly when the change they describe is, and
a chain's head is locked only for the commit, after every row lock of the change itself (the
same order in every transaction, so appends to one chain queue up instead of deadlocking).
`write` does it earlier for a transaction that reads its own events back.

A transaction that read its chain's head without a lock in a statement it ran anyway (a step's
lock, a claim: `expect_head`) skips the lock: its events are placed after that head and inserted
from an UPDATE of the head that moves it only if it is still what was read, one statement on
PostgreSQL (`_write_expected`). If another transaction appended meanwhile, that UPDATE waits for
its lock, matches nothing and writes nothing, and the commit locks the head and places the events
again, so chains never fork and the head is still locked only at commit.

Keyed chains: with an audit key in the session's info (`AUDIT_KEY`, from configuration, never in
the database) an event's hash is an HMAC-SHA256 under that key, so whoever can write to the
database still cannot recompute the hashes after editing an event. A chain is sealed with the
key when it is first appended to under it (`keyed_from`, `key_mac` on its head): a new chain
from its first event, an older one from its next (its earlier, plain SHA-256 events are vouched
for by the first keyed event's link; `seal` does it for every chain at once). A transaction
without the key, or with another one, is refused before it appends to a sealed chain, so a
misconfigured process cannot leave events no one can verify. Hashing and sealing: audit_hash.py;
verifying: audit_verify.py.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Insert, bindparam, column, event, func, insert, select, true, update
from sqlalchemy.orm import Session

from engine.access.audit_hash import GENESIS, HASHED, check_seal, hash_values, seal_mac
from engine.runtime.sql import dialect_insert
from engine.time.clock import now
from models import SYSTEM_CHAIN, AuditChain, AuditEvent, User, UTCDateTime, case_chain

# Where a session factory keeps the audit key (bytes): `sessionmaker(info={AUDIT_KEY: ...})`.
AUDIT_KEY = "audit_key"
_STATE_KEY = "_audit_chains"
_EVENTS = AuditEvent.__table__
_HEADS = AuditChain.__table__
# Built once: every write transaction runs them, and building one costs more than running it.
_WRITE_HEAD = (update(_HEADS).where(_HEADS.c.name == bindparam("chain"))
               .values(last_seq=bindparam("seq"), last_hash=bindparam("head"),
                       keyed_from=bindparam("keyed_from"), key_mac=bindparam("key_mac")))
_INSERT_EVENTS = insert(_EVENTS)
_EVENT_COLUMNS = (*HASHED, "hash")
_NEW_HEAD = insert(_HEADS).values(name=bindparam("chain"), last_seq=bindparam("seq"), last_hash=bindparam("head"),
                                  keyed_from=bindparam("keyed_from"), key_mac=bindparam("key_mac"))
# A head read earlier in the transaction without a lock (`expect_head`) moves forward only if it
# is still what was read: the events are inserted from the UPDATE's result, so on PostgreSQL a
# stale guess writes nothing (and the commit falls back to locking the head).
_MOVE_HEAD = (update(_HEADS)
              .where(_HEADS.c.name == bindparam("chain"), _HEADS.c.last_seq == bindparam("old_seq"),
                     _HEADS.c.last_hash == bindparam("old_hash"),
                     _HEADS.c.key_mac.is_not_distinct_from(bindparam("old_mac", type_=_HEADS.c.key_mac.type)))
              .values(last_seq=bindparam("seq"), last_hash=bindparam("head"),
                      keyed_from=bindparam("keyed_from"), key_mac=bindparam("key_mac")))
_READ_HEADS = select(_HEADS.c.name, _HEADS.c.last_seq, _HEADS.c.last_hash, _HEADS.c.keyed_from, _HEADS.c.key_mac)
_LOCK_HEADS = (_READ_HEADS.where(_HEADS.c.name.in_(bindparam("chains", expanding=True)))
               .order_by(_HEADS.c.name).with_for_update())
# The usual case, one chain: a plain parameter, where an expanding one has the compiled statement
# rendered again for every execution.
_LOCK_HEAD = _READ_HEADS.where(_HEADS.c.name == bindparam("chain")).with_for_update()


def audit_key(session: Session) -> bytes | None:
    """The audit key of the session's factory, if one is configured."""
    return session.info.get(AUDIT_KEY)


class AuditKeyError(RuntimeError):
    """A transaction would append to a keyed chain without the key that sealed it."""


def record(
    session: Session,
    event_type: str,
    *,
    actor: User | None = None,
    case_id: int | None = None,
    instance_id: int | None = None,
    task_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one event to its chain in the caller's transaction: written when it commits (or
    by `write`), and gone with it if it rolls back."""
    agency = actor.agency if actor is not None else None
    _state(session).queued.append({
        "chain": case_chain(case_id) if case_id is not None else SYSTEM_CHAIN,
        "case_id": case_id, "instance_id": instance_id, "task_id": task_id,
        "actor_id": actor.id if actor else None, "actor_agency_id": agency.id if agency else None,
        "occurred_at": now(session), "event_type": event_type, "detail": detail or {},
    })


def lock_chains(session: Session, case_ids: Iterable[int]) -> None:
    """Lock the chain heads of these cases now, in name order, for a transaction about to append
    to all of them (a worker firing a batch of timers): one statement for the batch, taken before
    any of its steps can lock a chain in another order."""
    state = _state(session)
    _check(state)
    _lock_heads(session, state, {case_chain(case_id) for case_id in case_ids})


def open_chain(session: Session, case_id: int) -> None:
    """The case was created in this transaction, so its chain starts here: its head row is
    inserted when the events are written, instead of looked up and locked. (Should the row exist
    after all, the insert fails and the transaction with it, rather than fork the chain.)"""
    state = _state(session)
    _check(state)
    chain = case_chain(case_id)
    if chain not in state.heads:
        state.heads[chain] = (0, GENESIS)
        state.seals[chain] = _new_seal(session, chain)
        state.new.add(chain)


def write(session: Session) -> None:
    """Write the events recorded so far and their chains' heads now, inside the transaction (the
    commit does it by itself): for a transaction that reads its own events or chain heads."""
    state = session.info.get(_STATE_KEY)
    if state is None:
        return
    _check(state)
    session.flush()
    queued, state.queued = state.queued, []
    if queued and _write_expected(session, state, queued):
        queued = []
    if queued:
        _lock_heads(session, state, {entry["chain"] for entry in queued})
        key = audit_key(session)
        for entry in queued:
            seq, prev = state.heads[entry["chain"]]
            entry["seq"], entry["prev_hash"] = seq + 1, prev
            entry["hash"] = hash_values(entry, key if state.seals[entry["chain"]][1] else None)
            state.heads[entry["chain"]] = (entry["seq"], entry["hash"])
            state.unwritten.add(entry["chain"])
    if not state.unwritten:
        return
    heads = [{"chain": chain, "seq": state.heads[chain][0], "head": state.heads[chain][1],
              "keyed_from": state.seals[chain][0], "key_mac": state.seals[chain][1]}
             for chain in sorted(state.unwritten)]
    created = [head for head in heads if head["chain"] in state.new]
    updated = [head for head in heads if head["chain"] not in state.new]
    # The transaction's connection, flushed above: these Core statements have nothing to autoflush.
    connection = session.connection()
    if (0 < len(queued) <= _EVENTS_IN_ONE_STATEMENT and len(heads) == 1
            and connection.dialect.name == "postgresql"):
        connection.execute(_NEW_HEAD_WITH_EVENTS if created else _WRITE_HEAD_WITH_EVENTS,
                           {**heads[0], "events": _records(queued, connection.dialect)})
    else:
        if queued:
            connection.execute(_INSERT_EVENTS, queued)
        if created:
            connection.execute(_NEW_HEAD, created)
        if updated:
            connection.execute(_WRITE_HEAD, updated)
    for chain in state.unwritten:
        _expire_head(session, chain)
    state.new -= state.unwritten
    state.unwritten.clear()


def expect_head(session: Session, chain: str, head: tuple | None) -> None:
    """What a statement the transaction ran anyway read of the chain's head, without a lock
    (last_seq, last_hash, keyed_from, key_mac): at commit the events are placed after it and
    written with the head's move in one statement that moves it only if it is still the same
    (`_write_expected`); if another transaction appended meanwhile, the commit locks the head and
    places them again. A head sealed with another key is ignored here and refused at commit."""
    state = _state(session)
    if head is None or chain in state.heads or check_seal(chain, head[2], head[3], audit_key(session)):
        return
    state.expected[chain] = (int(head[0]), head[1], head[2], head[3])


def _write_expected(session: Session, state: _ChainState, queued: list[dict[str, Any]]) -> bool:
    """Write a transaction's events on one chain after the head `expect_head` read, moving the
    head in the same statement on condition that it is unchanged (two on SQLite, whose write
    transaction is exclusive anyway). False, having written nothing, if there is no such head
    or it has moved."""
    chain = queued[0]["chain"]
    expected = state.expected.pop(chain, None)
    if (expected is None or chain in state.heads or state.unwritten or len(queued) > _EVENTS_IN_ONE_STATEMENT
            or any(entry["chain"] != chain for entry in queued)):
        return False
    seq, last, keyed_from, mac = expected
    seal = (keyed_from, mac) if mac else _new_seal(session, chain, seq + 1)
    key = audit_key(session) if seal[1] else None
    for entry in queued:
        entry["seq"], entry["prev_hash"] = seq + 1, last
        entry["hash"] = last = hash_values(entry, key)
        seq += 1
    values = {"chain": chain, "seq": seq, "head": last, "keyed_from": seal[0], "key_mac": seal[1],
              "old_seq": expected[0], "old_hash": expected[1], "old_mac": mac}
    connection = session.connection()  # flushed by `write`: nothing to autoflush
    if connection.dialect.name == "postgresql":
        # The events' INSERT, which inserts their rows only if the head moved.
        values["events"] = _records(queued, connection.dialect)
        moved = connection.execute(_MOVED_WITH_EVENTS, values).rowcount
    else:
        moved = connection.execute(_MOVE_HEAD, values).rowcount
        if moved:
            connection.execute(_INSERT_EVENTS, queued)
    if not moved:
        return False
    state.heads[chain], state.seals[chain] = (seq, last), seal
    _expire_head(session, chain)
    return True


def _expire_head(session: Session, chain: str) -> None:
    """A head row the session has loaded no longer says what this transaction wrote to it. (Its
    identity key built directly: `identity_key` resolves the mapper on every call.)"""
    loaded = session.identity_map.get((AuditChain, (chain,), None))
    if loaded is not None:
        session.expire(loaded)


# Up to this many events (what one task step records) ride in the head's write; more (a step
# opening a multi-instance task's thousand rows) go in a batch of their own.
_EVENTS_IN_ONE_STATEMENT = 8


# The column type of `occurred_at`, built once: its conversion puts the time in UTC and refuses a
# naive one.
_AT = UTCDateTime()


def _records(queued: list[dict[str, Any]], dialect) -> list[dict[str, Any]]:
    """The events as the rows of `_QUEUED`: their column values, the time as ISO text in UTC."""
    return [{**entry, "occurred_at": _AT.process_bind_param(entry["occurred_at"], dialect).isoformat()}
            for entry in queued]


# The events of a statement as the rows of one JSON parameter (PostgreSQL's json_to_recordset),
# inserted in seq order: psycopg adapts each parameter one by one, some 12 Python calls each, and
# an event has 12 columns.
_QUEUED = (func.json_to_recordset(bindparam("events", type_=JSON))
           .table_valued(*(column(name, _EVENTS.c[name].type) for name in _EVENT_COLUMNS))
           .render_derived(name="queued", with_types=True))


def _insert_queued(after=None) -> Insert:
    """The INSERT of `_QUEUED`'s events; with `after`, one row for each of its rows (none if it
    has none)."""
    rows = select(*_QUEUED.c).select_from(_QUEUED if after is None else after.join(_QUEUED, true()))
    return insert(_EVENTS).from_select(list(_EVENT_COLUMNS), rows.order_by(_QUEUED.c.seq))


# A head's write with its events' INSERT as a data-modifying CTE: one statement, one round trip.
_WRITE_HEAD_WITH_EVENTS = _WRITE_HEAD.add_cte(_insert_queued().cte("events"))
_NEW_HEAD_WITH_EVENTS = _NEW_HEAD.add_cte(_insert_queued().cte("events"))
# `_MOVE_HEAD` as a CTE and the events selected from the moved head (no row if it did not move):
# the statement's row count (the events, or 0) says whether the head moved, with no result rows
# to read. An INSERT's row count is read before its cursor is closed only when asked for.
_MOVED_WITH_EVENTS = (_insert_queued(_MOVE_HEAD.returning(_HEADS.c.name).cte("moved_head"))
                      .execution_options(preserve_rowcount=True))


@dataclass
class _ChainState:
    """What one transaction knows about the chains it appends to.

    `heads`: the chains whose head row this transaction has locked (or will create), with the seq
    and hash of their last event so far (including events this transaction wrote); `seals`, their
    seal as it is to be written (audit key). `unwritten`:
    chains whose head row does not have that yet. `new`: chains whose head row is still to be
    inserted (`open_chain`). `queued`: events recorded and not yet written.
    """

    heads: dict[str, tuple[int, str]] = field(default_factory=dict)
    # The seal (keyed_from, key_mac) each head gets written with; (None, None) for unkeyed.
    seals: dict[str, tuple[int | None, str | None]] = field(default_factory=dict)
    unwritten: set[str] = field(default_factory=set)
    new: set[str] = field(default_factory=set)
    queued: list[dict[str, Any]] = field(default_factory=list)
    # Heads read without a lock (`expect_head`): (last_seq, last_hash, keyed_from, key_mac).
    expected: dict[str, tuple[int, str, int | None, str | None]] = field(default_factory=dict)
    broken: bool = False


def _state(session: Session) -> _ChainState:
    """This transaction's chain state (dropped when the transaction ends, see below)."""
    state = session.info.get(_STATE_KEY)
    if state is None:
        state = session.info[_STATE_KEY] = _ChainState()
    return state


def _check(state: _ChainState) -> None:
    if state.broken:
        # The savepoint took back events or heads this state counts on; committing would
        # leave a gap in a chain, or write events of work that was undone. Nothing in the engine
        # uses savepoints today.
        raise RuntimeError("audit events were recorded before a savepoint that was rolled back; "
                           "roll back the whole transaction")


def _lock_heads(session: Session, state: _ChainState, chains: set[str]) -> None:
    """Lock and read the heads of `chains` not yet locked by this transaction, creating the
    missing ones (a chain's first event). SELECT ... FOR UPDATE in name order, so two
    transactions appending to one chain are serialised instead of forking it; on SQLite the
    write transaction is already exclusive (BEGIN IMMEDIATE)."""
    wanted = sorted(chains - state.heads.keys())
    if not wanted:
        return
    _read_locked(session, state, wanted)
    missing = [chain for chain in wanted if chain not in state.heads]
    if missing:
        # A row this transaction inserts is locked by the insert; one a concurrent transaction
        # inserted first is read (and waited for) like any other.
        seals = {chain: _new_seal(session, chain) for chain in missing}
        created = set(session.scalars(
            dialect_insert(session)(_HEADS).values([
                {"name": chain, "last_seq": 0, "last_hash": GENESIS,
                 "keyed_from": seals[chain][0], "key_mac": seals[chain][1]} for chain in missing])
            .on_conflict_do_nothing().returning(_HEADS.c.name)))
        state.heads.update((chain, (0, GENESIS)) for chain in created)
        state.seals.update((chain, seals[chain]) for chain in created)
        taken = [chain for chain in missing if chain not in created]
        if taken:
            _read_locked(session, state, taken)


def _new_seal(session: Session, chain: str, keyed_from: int = 1) -> tuple[int | None, str | None]:
    key = audit_key(session)
    return (keyed_from, seal_mac(key, chain, keyed_from)) if key else (None, None)


def _read_locked(session: Session, state: _ChainState, chains: list[str]) -> None:
    """Lock and read these heads into `state`, refusing a chain sealed with another key (or with
    one when this session has none); an unsealed chain is sealed from its next event when this
    session has a key."""
    key = audit_key(session)
    connection = session.connection()  # a Core statement: no autoflush either way
    rows = (connection.execute(_LOCK_HEAD, {"chain": chains[0]}) if len(chains) == 1
            else connection.execute(_LOCK_HEADS, {"chains": chains}))
    for name, seq, head, keyed_from, mac in rows:
        problem = check_seal(name, keyed_from, mac, key)
        if problem:
            raise AuditKeyError(f"{name}: {problem}")
        state.heads[name] = (seq, head)
        state.seals[name] = (keyed_from, mac) if mac else _new_seal(session, name, seq + 1)


@event.listens_for(Session, "before_commit")
def _write_before_commit(session: Session) -> None:
    if _STATE_KEY in session.info:
        write(session)


@event.listens_for(Session, "after_soft_rollback")
def _refuse_after_savepoint_rollback(session: Session, previous_transaction) -> None:
    state = session.info.get(_STATE_KEY)
    if state is not None and previous_transaction.nested and (state.heads or state.queued):
        state.broken = True


@event.listens_for(Session, "after_transaction_end")
def _forget_ended_transaction(session: Session, transaction) -> None:
    """Committed or rolled back, the transaction's locks are gone and its unwritten events with
    it: the next transaction starts from the heads in the database."""
    if transaction.parent is None:
        session.info.pop(_STATE_KEY, None)


@dataclass(frozen=True)
class ChainProblem:
    chain: str
    seq: int | None
    event_id: int | None
    reason: str


def verify(session: Session, case_id: int | None = None, checkpoint=None) -> list[ChainProblem]:
    """The chains' problems (engine/access/audit_verify.py, which this forwards to)."""
    # Imported here: audit_verify reads this module's chain functions, so it cannot be imported at the top.
    from engine.access.audit_verify import verify as verify_chains

    return verify_chains(session, case_id, checkpoint)
