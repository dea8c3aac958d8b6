"""A transaction that read its chain's head without a lock (engine/access/audit.py expect_head)
writes its events after that head in one statement (two on SQLite), and only if the head is still
what it read: a head that moved meanwhile costs the lock it would have taken anyway, never a
fork or a gap in the chain."""
from __future__ import annotations

import threading

from sqlalchemy import select

import engine
from engine.access import audit as engine_audit
from models import AuditChain, AuditEvent, User, case_chain, make_engine, make_session_factory

from .test_audit import audit_statements, chain_events


def _head(session, case_id: int) -> tuple:
    head = session.get(AuditChain, case_chain(case_id), populate_existing=True)
    return head.last_seq, head.last_hash, head.keyed_from, head.key_mac


def test_events_follow_the_head_read_in_one_statement(session, users, backend):
    case = engine.create_case(session, users["samr_handler"], "预读链头")
    before = chain_events(session, case_chain(case.id))

    def two_events():
        engine_audit.expect_head(session, case_chain(case.id), _head(session, case.id))
        engine_audit.record(session, "note_added", actor=users["admin"], case_id=case.id, detail={"n": 1})
        engine_audit.record(session, "note_added", actor=users["admin"], case_id=case.id, detail={"n": 2})

    _, ran = audit_statements(session, two_events)
    assert not any("FOR UPDATE" in s for s in ran), ran
    assert len([s for s in ran if not s.startswith("SELECT audit_chain.name")]) == {"postgres": 1, "sqlite": 2}[backend]
    after = chain_events(session, case_chain(case.id))
    assert [e.detail.get("n") for e in after[len(before):]] == [1, 2]
    assert after[len(before)].prev_hash == before[-1].hash
    assert _head(session, case.id)[:2] == (after[-1].seq, after[-1].hash)
    assert engine.verify_audit(session, case.id) == []


def test_a_head_that_moved_is_locked_and_read_again(session, users):
    case = engine.create_case(session, users["samr_handler"], "链头已变")
    seq, _last, keyed_from, mac = _head(session, case.id)
    session.commit()
    before = chain_events(session, case_chain(case.id))
    # What a transaction would have read before another one appended an event.
    engine_audit.expect_head(session, case_chain(case.id), (seq - 1, before[-2].hash, keyed_from, mac))
    engine_audit.record(session, "note_added", actor=users["admin"], case_id=case.id, detail={"late": True})
    session.commit()
    after = chain_events(session, case_chain(case.id))
    assert len(after) == len(before) + 1
    assert (after[-1].seq, after[-1].prev_hash) == (before[-1].seq + 1, before[-1].hash)
    assert engine.verify_audit(session, case.id) == []


def test_appends_racing_on_a_head_both_read_stay_one_chain(pg_database_url, clock):
    """Two transactions read the same head; the first to commit moves it, the second finds it
    moved, waits for nothing more than the lock and appends after the first one's events."""
    sql = make_engine(pg_database_url)
    factory = make_session_factory(sql)
    factory.configure(info={"clock": clock})
    try:
        with factory() as setup:
            handler = setup.scalars(select(User).where(User.username == "samr_handler")).one()
            case_id = engine.create_case(setup, handler, "并发预读").id
        first, second = factory(), factory()
        for session in (first, second):
            engine_audit.expect_head(session, case_chain(case_id), _head(session, case_id))
        engine_audit.record(first, "note_added", case_id=case_id, detail={"by": "first"})
        engine_audit.write(first)  # moves the head and holds its row lock
        done = threading.Event()

        def append_second():
            engine_audit.record(second, "note_added", case_id=case_id, detail={"by": "second"})
            second.commit()
            done.set()

        thread = threading.Thread(target=append_second)
        thread.start()
        assert not done.wait(1.0), "the second transaction must wait for the head the first moved"
        first.commit()
        thread.join(30)
        assert done.is_set()
        first.close(), second.close()
        with factory() as check:
            notes = check.scalars(select(AuditEvent).where(
                AuditEvent.chain == case_chain(case_id), AuditEvent.event_type == "note_added")
                .order_by(AuditEvent.seq)).all()
            assert [e.detail["by"] for e in notes] == ["first", "second"]
            assert notes[1].seq == notes[0].seq + 1 and notes[1].prev_hash == notes[0].hash
            assert engine.verify_audit(check) == []
    finally:
        sql.dispose()
