"""Writing and verifying the tamper-evident audit trail.

Each case has its own chain; events without a case (deploys, user administration) go to the
system chain. An event's hash covers its content and the previous event's hash, so editing,
deleting or reordering rows breaks the chain at that point.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import SYSTEM_CHAIN, AuditChain, AuditEvent, User, case_chain

from .clock import now
from .sql import insert_if_absent

GENESIS = "0" * 64


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

    The chain head row is locked by an UPDATE before the previous hash is read, so two
    transactions appending to one chain are serialised instead of forking it.
    """
    chain = case_chain(case_id) if case_id is not None else SYSTEM_CHAIN
    session.flush()
    advance_head = (update(AuditChain).where(AuditChain.name == chain)
                    .values(last_seq=AuditChain.last_seq + 1)
                    .returning(AuditChain.last_seq, AuditChain.last_hash))
    # The head exists for every event but a chain's first: try it before creating it.
    head = session.execute(advance_head).first()
    if head is None:
        insert_if_absent(session, AuditChain, name=chain, last_seq=0, last_hash=GENESIS)
        head = session.execute(advance_head).one()
    agency = actor.agency if actor is not None else None
    event = AuditEvent(
        chain=chain, seq=head.last_seq, case_id=case_id, instance_id=instance_id, task_id=task_id,
        actor_id=actor.id if actor else None, actor_agency_id=agency.id if agency else None,
        occurred_at=now(session), event_type=event_type, detail=detail or {},
        prev_hash=head.last_hash,
    )
    event.hash = event_hash(event)
    session.add(event)
    session.execute(update(AuditChain).where(AuditChain.name == chain).values(last_hash=event.hash))
    return event


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
