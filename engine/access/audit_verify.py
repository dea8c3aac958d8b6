"""Verifying the audit trail, and anchoring it outside the database.

`verify` recomputes every chain: each event's hash (an HMAC under the audit key from the chain's
`keyed_from` on, plain SHA-256 before), each link, the head, the seal; and every case has a
chain with events. Whoever can write to the database can still delete a chain's last events and
move its head back, or delete a whole chain with its head and its case's row; a checkpoint, each
chain's head written to a file elsewhere (`checkpoint_lines`, `liandong audit checkpoint`),
catches that: `verify(checkpoint=...)` wants every chain it names to still hold the event it
recorded, with the same hash. Since each hash covers the one before, that vouches for the whole
chain up to there.
"""
from __future__ import annotations

import hmac
import re
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access.audit import ChainProblem, audit_key, write
from engine.access.audit_hash import GENESIS, check_seal, event_hash, seal_mac
from engine.runtime.transactions import transaction
from models import AuditChain, AuditEvent, Case, case_chain

_LINE = re.compile(r"(\S+) (\d+) ([0-9a-f]{64})")
HEADER = "# liandong audit checkpoint"


def verify(
    session: Session, case_id: int | None = None, checkpoint: Mapping[str, tuple[int, str]] | None = None,
) -> list[ChainProblem]:
    """Check every chain (or one case's): the first problem of each broken chain, a case without
    its chain, and with `checkpoint` ({chain: (seq, hash)}, `read_checkpoint`) each chain that no
    longer holds what the checkpoint recorded. Uses the session's audit key."""
    write(session)  # this transaction's own appends count
    key = audit_key(session)
    heads = select(AuditChain)
    if case_id is not None:
        heads = heads.where(AuditChain.name == case_chain(case_id))
    found = {head.name: head for head in session.scalars(heads.order_by(AuditChain.name))}
    checked = (_verify_chain(session, head, key, (checkpoint or {}).get(head.name)) for head in found.values())
    problems = [problem for problem in checked if problem]
    cases = select(Case.id) if case_id is None else select(Case.id).where(Case.id == case_id)
    problems.extend(ChainProblem(missing, None, None, "the chain of an existing case is missing")
                    for missing in sorted(set(map(case_chain, session.scalars(cases))) - found.keys()))
    for name, (seq, _hash) in sorted((checkpoint or {}).items()):
        if name not in found and name not in {p.chain for p in problems} and _in_scope(name, case_id):
            problems.append(ChainProblem(name, seq, None, f"the chain is missing; the checkpoint recorded event {seq}"))
    return sorted(problems, key=lambda p: p.chain)


def _in_scope(chain: str, case_id: int | None) -> bool:
    return case_id is None or chain == case_chain(case_id)


def _verify_chain(
    session: Session, head: AuditChain, key: bytes | None, recorded: tuple[int, str] | None,
) -> ChainProblem | None:
    seal = check_seal(head.name, head.keyed_from, head.key_mac, key)
    if seal:
        return ChainProblem(head.name, None, None, seal)
    if key is not None and head.key_mac is None and head.last_seq:
        return ChainProblem(head.name, None, None, "the chain is not sealed with the audit key (liandong audit seal)")
    keyed_from = head.keyed_from if head.key_mac else None
    prev, expected_seq = GENESIS, 1
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.chain == head.name).order_by(AuditEvent.seq)
    )
    for event in events:
        if event.seq != expected_seq:
            return ChainProblem(head.name, expected_seq, None, f"event {expected_seq} is missing")
        if event.prev_hash != prev:
            return ChainProblem(head.name, event.seq, event.id, "previous-hash link does not match")
        keyed = keyed_from is not None and event.seq >= keyed_from
        if not hmac.compare_digest(event_hash(event, key if keyed else None), event.hash):
            return ChainProblem(head.name, event.seq, event.id, "content does not match its hash")
        if recorded is not None and event.seq == recorded[0] and event.hash != recorded[1]:
            return ChainProblem(head.name, event.seq, event.id, "the hash differs from the checkpoint's")
        prev, expected_seq = event.hash, expected_seq + 1
    if expected_seq - 1 != head.last_seq or prev != head.last_hash:
        return ChainProblem(head.name, head.last_seq, None, "chain ends before its recorded head")
    if recorded is not None and head.last_seq < recorded[0]:
        return ChainProblem(head.name, recorded[0], None,
                            f"the chain ends at event {head.last_seq}; the checkpoint recorded event {recorded[0]}")
    if head.name.startswith("case:") and head.last_seq == 0:
        return ChainProblem(head.name, 1, None, "the chain of a case has no events")
    return None


def seal(session: Session) -> list[str]:
    """Seal every chain not yet sealed with the session's audit key, from its next event on
    (its earlier events are vouched for by that event's link); returns the chains sealed. For
    an installation that had no key before: run once after configuring it. Without a key,
    ValueError."""
    key = audit_key(session)
    if key is None:
        raise ValueError("no audit key is configured (AUDIT_KEY)")
    with transaction(session):
        heads = session.scalars(select(AuditChain).where(AuditChain.key_mac.is_(None))
                                .order_by(AuditChain.name).with_for_update()).all()
        for head in heads:
            head.keyed_from = head.last_seq + 1
            head.key_mac = seal_mac(key, head.name, head.keyed_from)
        return [head.name for head in heads]


def checkpoint_lines(session: Session, at: datetime) -> list[str]:
    """Every chain's head as printable lines: a header with the time, then `name seq hash`."""
    heads = session.execute(select(AuditChain.name, AuditChain.last_seq, AuditChain.last_hash)
                            .order_by(AuditChain.name)).all()
    return [f"{HEADER} {at.isoformat(timespec='seconds')} chains={len(heads)}",
            *(f"{name} {seq} {head}" for name, seq, head in heads)]


def read_checkpoint(lines: Iterable[str]) -> dict[str, tuple[int, str]]:
    """The furthest head each chain had in a checkpoint file (any number of checkpoints appended
    one after another); ValueError naming a line that is not one of ours."""
    heads: dict[str, tuple[int, str]] = {}
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.fullmatch(line)
        if not match:
            raise ValueError(f"line {number} is not 'chain seq hash': {line[:80]!r}")
        name, seq, digest = match.group(1), int(match.group(2)), match.group(3)
        if name not in heads or seq >= heads[name][0]:
            heads[name] = (seq, digest)
    return heads
