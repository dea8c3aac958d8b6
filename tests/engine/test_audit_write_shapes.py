"""The audit trail's hashes and statements keep their meaning however they are computed: an event
hashes to what the canonical JSON form always gave (chains written before still verify), and every
way of writing a transaction's events (one chain or several, a head read without a lock, more
events than ride in one statement) leaves chains that verify."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

import engine
from engine.access import audit as engine_audit
from engine.access.audit_hash import GENESIS, HASHED, hash_values, seal_mac
from models import SYSTEM_CHAIN, AuditChain, AuditEvent, case_chain

from .test_audit import audit_statements, chain_events


def _reference_hash(values, key=None) -> str:
    """The hash as the first chains were written: `json.dumps` of the canonical form, and an
    `hmac.new` object for a keyed chain."""
    canonical = json.dumps(
        {**{name: values[name] for name in HASHED},
         "occurred_at": values["occurred_at"].isoformat(timespec="microseconds")},
        sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str,
    ).encode("utf-8")
    if key is not None:
        return hmac.new(key, canonical, hashlib.sha256).hexdigest()
    return hashlib.sha256(canonical).hexdigest()


def _event(**detail) -> dict:
    return {"chain": "case:7", "seq": 3, "case_id": 7, "instance_id": None, "task_id": 12, "actor_id": 5,
            "actor_agency_id": None, "event_type": "task_completed", "prev_hash": GENESIS, "detail": detail,
            "occurred_at": datetime(2026, 3, 1, 8, 30, 0, 1234, tzinfo=timezone(timedelta(hours=8)))}


def test_an_event_hashes_as_it_always_did():
    details = [{}, {"n": 1, "文": "字", "nested": {"b": [1, 2.5, None, True], "a": "\u2028"}},
               {"amount": Decimal("500000.10"), "when": datetime(2026, 1, 2, tzinfo=timezone.utc)},
               {"z": 1, "a": 2, "quote": "\"\\"}]
    for detail in details:
        for key in (None, b"audit-key", "钥匙".encode()):
            assert hash_values(_event(**detail), key) == _reference_hash(_event(**detail), key)
    assert seal_mac(b"audit-key", "case:7", 4) == hmac.new(
        b"audit-key", b"liandong-audit-seal:case:7:4", hashlib.sha256).hexdigest()


def test_one_transaction_on_several_chains_locks_them_in_one_statement(session, users, backend):
    first = engine.create_case(session, users["samr_handler"], "两条链之一")
    second = engine.create_case(session, users["samr_handler"], "两条链之二")
    session.commit()

    def on_three_chains():
        engine_audit.lock_chains(session, [second.id, first.id])
        for case in (first, second):
            engine_audit.record(session, "note_added", actor=users["admin"], case_id=case.id, detail={"c": case.id})
        engine_audit.record(session, "note_added", actor=users["admin"], detail={"system": True})

    _, ran = audit_statements(session, on_three_chains)
    locks = [s for s in ran if s.startswith("SELECT audit_chain.name")]
    assert len(locks) == 2  # the two cases' heads together, then the system chain's
    for case in (first, second):
        events = chain_events(session, case_chain(case.id))
        assert events[-1].detail == {"c": case.id}
    assert chain_events(session, SYSTEM_CHAIN)[-1].detail == {"system": True}
    assert engine.verify_audit(session) == []


def test_more_events_than_one_statement_carries_after_a_head_read(session, users, backend):
    case = engine.create_case(session, users["samr_handler"], "多条事件")
    session.commit()
    head = session.get(AuditChain, case_chain(case.id), populate_existing=True)
    engine_audit.expect_head(session, case_chain(case.id), (head.last_seq, head.last_hash, head.keyed_from,
                                                             head.key_mac))
    for n in range(engine_audit._EVENTS_IN_ONE_STATEMENT + 3):
        engine_audit.record(session, "note_added", actor=users["admin"], case_id=case.id, detail={"n": n})
    session.commit()
    events = chain_events(session, case_chain(case.id))
    assert [e.detail.get("n") for e in events[-engine_audit._EVENTS_IN_ONE_STATEMENT - 3:]] == list(
        range(engine_audit._EVENTS_IN_ONE_STATEMENT + 3))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert engine.verify_audit(session, case.id) == []


def test_each_number_of_events_after_a_head_read_is_written_once(session, users, backend):
    case = engine.create_case(session, users["samr_handler"], "逐一计数")
    session.commit()
    for count in range(1, engine_audit._EVENTS_IN_ONE_STATEMENT + 1):
        head = session.get(AuditChain, case_chain(case.id), populate_existing=True)
        engine_audit.expect_head(session, case_chain(case.id), (head.last_seq, head.last_hash, head.keyed_from,
                                                                 head.key_mac))
        for n in range(count):
            engine_audit.record(session, "note_added", case_id=case.id, detail={"count": count, "n": n})
        _, ran = audit_statements(session, lambda: None)
        assert not any("FOR UPDATE" in s for s in ran), ran
    written = session.scalars(select(AuditEvent.detail).where(AuditEvent.chain == case_chain(case.id),
                                                              AuditEvent.event_type == "note_added")).all()
    assert len(written) == sum(range(1, engine_audit._EVENTS_IN_ONE_STATEMENT + 1))
    assert engine.verify_audit(session, case.id) == []


DETAILS = [{}, {"文": "字\u2028", "quote": "\"\\'", "nested": {"b": [1, 2.5, None, True], "a": ""}},
           {"big": 2**53 + 1, "neg": -0.125, "empty": [], "null": None}]


def test_every_value_of_an_event_is_stored_as_recorded(session, users, backend, clock):
    """On PostgreSQL a head's write carries its events as the rows of one JSON parameter: each
    column keeps its value and type (times to the microsecond, JSON details as given), in order,
    on both ways of writing them (after a head read without a lock, and after locking it)."""
    case = engine.create_case(session, users["samr_handler"], "逐值保存")
    session.commit()
    clock.advance(microseconds=123457)
    for read_head in (True, False):
        if read_head:
            head = session.get(AuditChain, case_chain(case.id), populate_existing=True)
            engine_audit.expect_head(session, case_chain(case.id), (head.last_seq, head.last_hash, head.keyed_from,
                                                                     head.key_mac))
        for detail in DETAILS:
            engine_audit.record(session, "note_added", actor=users["police_liaison"], case_id=case.id,
                                task_id=None, detail=detail)
        _, ran = audit_statements(session, lambda: None)
        assert any(s.startswith("SELECT audit_chain") for s in ran) == (not read_head), ran  # the head locked
        events = chain_events(session, case_chain(case.id))[-len(DETAILS):]
        assert [e.detail for e in events] == DETAILS
        liaison = users["police_liaison"]
        assert {(e.actor_id, e.actor_agency_id, e.case_id, e.instance_id, e.task_id, e.event_type) for e in events} == {
            (liaison.id, liaison.agency.id, case.id, None, None, "note_added")}
        assert {e.occurred_at for e in events} == {clock.now()}
        assert clock.now().microsecond == 123457
        assert [e.seq for e in events] == list(range(events[0].seq, events[0].seq + len(DETAILS)))
        assert sorted(events, key=lambda e: e.id) == events  # inserted in seq order
    assert engine.verify_audit(session, case.id) == []
