"""Writing and verifying the tamper-evident audit trail.

Each case has its own chain; events without a case (deploys, user administration) go to the
system chain. An event's hash covers its content and the previous event's hash, so editing,
deleting or reordering rows breaks the chain at that point.

Events are written in batches, per transaction: `record` adds the event to the session, and each
flush places the events recorded since the last one on their chains (seq, previous hash, hash)
and inserts them together. The first flush that appends to a chain locks its head row (SELECT
... FOR UPDATE), so concurrent transactions append to a chain one after the other; the head's
new seq and hash are stored once, when the transaction commits.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, event, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from models import SYSTEM_CHAIN, AuditChain, AuditEvent, User, case_chain

from .clock import now

GENESIS = "0" * 64
_STATE_KEY = "_audit_chains"


def record(
    session: Session,
    event_type: str,
    *,
    actor: User | None = None,
    case_id: int | None = None,
    instance_id: int | None = None,
    task_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to its chain inside the caller's transaction.

    The event is added to the session now and placed on its chain at the next flush (autoflush
    included), so it is visible to queries of the same transaction like any other row, and is
    written by the commit at the latest. Queuing lets one flush write all its events of a chain
    with one multi-row INSERT instead of four statements per event; its `seq` and hashes are
    set from that flush on.
    """
    agency = actor.agency if actor is not None else None
    entry = AuditEvent(
        chain=case_chain(case_id) if case_id is not None else SYSTEM_CHAIN,
        case_id=case_id, instance_id=instance_id, task_id=task_id,
        actor_id=actor.id if actor else None, actor_agency_id=agency.id if agency else None,
        occurred_at=now(session), event_type=event_type, detail=detail or {},
    )
    session.add(entry)
    _state(session).queued.append(entry)
    return entry


def lock_chains(session: Session, case_ids: Iterable[int]) -> None:
    """Lock the chain heads of these cases now, in name order, for a transaction about to append
    to all of them (a worker firing a batch of timers): one statement instead of one per chain,
    and every such transaction takes the locks in the same order."""
    state = _state(session)
    _check(state)
    _lock_heads(session, state, {case_chain(case_id) for case_id in case_ids})


def write_heads(session: Session) -> None:
    """Flush, then store the chains' new heads (seq and hash of their last event). The commit
    does this by itself; call it before reading `audit_chain` inside a transaction that appended."""
    session.flush()
    state = session.info.get(_STATE_KEY)
    if state is None:
        return
    _check(state)
    if not state.unwritten:
        return
    table = AuditChain.__table__
    statement = (update(table).where(table.c.name == bindparam("chain"))
                 .values(last_seq=bindparam("seq"), last_hash=bindparam("head")))
    session.execute(statement, [
        {"chain": chain, "seq": state.heads[chain][0], "head": state.heads[chain][1]}
        for chain in sorted(state.unwritten)
    ])
    for chain in state.unwritten:
        loaded = session.identity_map.get(identity_key(AuditChain, chain))
        if loaded is not None:
            session.expire(loaded)
    state.unwritten.clear()


@dataclass
class _ChainState:
    """What one transaction knows about the chains it appends to.

    `heads`: the chains whose head row this transaction has locked, with the seq and hash of
    their last event so far (including events written by this transaction's flushes, which the
    head row itself only gets at commit: one UPDATE per chain per transaction). `queued`: events
    recorded since the last flush.
    """

    heads: dict[str, tuple[int, str]] = field(default_factory=dict)
    unwritten: set[str] = field(default_factory=set)
    queued: list[AuditEvent] = field(default_factory=list)
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
        # leave a gap in a chain. Nothing in the engine uses savepoints today.
        raise RuntimeError("audit events were written before a savepoint that was rolled back; "
                           "roll back the whole transaction")


def _lock_heads(session: Session, state: _ChainState, chains: set[str]) -> None:
    """Lock and read the heads of `chains` not yet locked by this transaction, creating the
    missing ones (a chain's first event). SELECT ... FOR UPDATE in name order, so two
    transactions appending to one chain are serialised instead of forking it; on SQLite the
    write transaction is already exclusive (BEGIN IMMEDIATE)."""
    wanted = sorted(chains - state.heads.keys())
    if not wanted:
        return
    state.heads.update(_read_locked(session, wanted))
    missing = [chain for chain in wanted if chain not in state.heads]
    if missing:
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(insert(AuditChain).values(
            [{"name": chain, "last_seq": 0, "last_hash": GENESIS} for chain in missing]
        ).on_conflict_do_nothing())
        state.heads.update(_read_locked(session, missing))


def _read_locked(session: Session, chains: list[str]) -> dict[str, tuple[int, str]]:
    rows = session.execute(
        select(AuditChain.name, AuditChain.last_seq, AuditChain.last_hash)
        .where(AuditChain.name.in_(chains)).order_by(AuditChain.name).with_for_update()
    )
    return {row.name: (row.last_seq, row.last_hash) for row in rows}


@event.listens_for(Session, "before_flush")
def _place_queued_events(session: Session, _flush_context, _instances) -> None:
    """Give the events recorded since the last flush their place on their chains (seq, previous
    hash, hash), in the order they were recorded; the flush then inserts them together."""
    state = session.info.get(_STATE_KEY)
    if state is None or not state.queued:
        return
    _check(state)
    queued = [entry for entry in state.queued if entry in session]  # expunged ones are not written
    state.queued = []
    _lock_heads(session, state, {entry.chain for entry in queued})
    for entry in queued:
        seq, prev = state.heads[entry.chain]
        entry.seq, entry.prev_hash = seq + 1, prev
        entry.hash = event_hash(entry)
        state.heads[entry.chain] = (entry.seq, entry.hash)
        state.unwritten.add(entry.chain)


@event.listens_for(Session, "before_commit")
def _write_heads_before_commit(session: Session) -> None:
    if _STATE_KEY in session.info:
        write_heads(session)


@event.listens_for(Session, "after_soft_rollback")
def _refuse_after_savepoint_rollback(session: Session, previous_transaction) -> None:
    state = session.info.get(_STATE_KEY)
    if state is not None and previous_transaction.nested and (state.heads or state.queued):
        state.broken = True


@event.listens_for(Session, "after_transaction_end")
def _forget_ended_transaction(session: Session, transaction) -> None:
    """Committed or rolled back, the transaction's locks are gone and its unflushed events with
    it: the next transaction starts from the heads in the database."""
    if transaction.parent is None:
        session.info.pop(_STATE_KEY, None)


def event_hash(event: AuditEvent) -> str:
    """SHA-256 over a canonical JSON form of everything the event says."""
    canonical = json.dumps(
        {
            "chain": event.chain, "seq": event.seq, "case_id": event.case_id,
            "instance_id": event.instance_id, "task_id": event.task_id,
            "actor_id": event.actor_id, "actor_agency_id": event.actor_agency_id,
            "occurred_at": event.occurred_at.isoformat(timespec="microseconds"),
            "event_type": event.event_type, "detail": event.detail, "prev_hash": event.prev_hash,
        },
        sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    chain: str
    seq: int | None
    event_id: int | None
    reason: str


def verify(session: Session, case_id: int | None = None) -> list[ChainProblem]:
    """Check every chain (or one case's); report the first broken event of each broken chain."""
    write_heads(session)  # this transaction's own appends count
    heads = select(AuditChain)
    if case_id is not None:
        heads = heads.where(AuditChain.name == case_chain(case_id))
    problems = []
    for head in session.scalars(heads.order_by(AuditChain.name)):
        problem = _verify_chain(session, head)
        if problem:
            problems.append(problem)
    return problems


def _verify_chain(session: Session, head: AuditChain) -> ChainProblem | None:
    prev, expected_seq = GENESIS, 1
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.chain == head.name).order_by(AuditEvent.seq)
    )
    for event in events:
        if event.seq != expected_seq:
            return ChainProblem(head.name, expected_seq, None, f"event {expected_seq} is missing")
        if event.prev_hash != prev:
            return ChainProblem(head.name, event.seq, event.id, "previous-hash link does not match")
        if event_hash(event) != event.hash:
            return ChainProblem(head.name, event.seq, event.id, "content does not match its hash")
        prev, expected_seq = event.hash, expected_seq + 1
    if expected_seq - 1 != head.last_seq or prev != head.last_hash:
        return ChainProblem(head.name, head.last_seq, None, "chain ends before its recorded head")
    return None
