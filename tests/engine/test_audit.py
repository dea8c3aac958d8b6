"""The tamper-evident audit trail: untouched chains verify, and every kind of tampering done
behind the engine's back (raw SQL) is reported at the first broken event of its chain.
"""
from __future__ import annotations

import itertools
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import JSON, bindparam, event, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import engine
from engine.access import audit as engine_audit
from engine.access.audit import ChainProblem
from engine.access.audit_hash import GENESIS, event_hash
from models import (
    SYSTEM_CHAIN,
    AuditChain,
    AuditEvent,
    User,
    UTCDateTime,
    case_chain,
    make_engine,
    make_session_factory,
)
from tests.conftest import SHANGHAI
from tests.helpers import APPROVE_TRANSFER, FACTS_500K, act


def drive(session, users, title: str = "审计测试案件"):
    """Open a case and take it two steps: registered facts, head's approval to transfer."""
    case = engine.create_case(session, users["samr_handler"], title)
    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    return case


def chain_events(session, chain: str) -> list[AuditEvent]:
    events = list(session.scalars(
        select(AuditEvent).where(AuditEvent.chain == chain).order_by(AuditEvent.seq)
        .execution_options(populate_existing=True)
    ))
    session.commit()  # end the read transaction (SQLite takes its write lock at BEGIN)
    for e in events:  # detached copies: they keep what was read, whatever is tampered later
        session.expunge(e)
    return events


def tamper(session, sql: str, **params) -> None:
    statement = text(sql)
    if isinstance(params.get("value"), dict):
        statement = statement.bindparams(bindparam("value", type_=JSON))
    elif isinstance(params.get("value"), datetime):
        statement = statement.bindparams(bindparam("value", type_=UTCDateTime()))
    session.execute(statement, params)
    session.commit()
    session.expire_all()


@pytest.fixture
def case(session, users):
    case = drive(session, users)
    assert len(chain_events(session, case_chain(case.id))) >= 8
    return case


def test_untouched_trail_verifies(session, users, case):
    assert engine.verify_audit(session) == []
    assert engine.verify_audit(session, case.id) == []
    events = chain_events(session, case_chain(case.id))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(events))
    assert [e.event_type for e in events[:3]] == ["case_created", "instance_started", "task_created"]
    head = session.get(AuditChain, case_chain(case.id))
    assert (head.last_seq, head.last_hash) == (events[-1].seq, events[-1].hash)


@pytest.mark.parametrize("column, value", [
    ("detail", {"bpmn_id": "register_facts", "title": "登记案件事实", "note": "改过"}),
    ("detail", {}),
    ("event_type", "task_cancelled"),
    ("occurred_at", datetime(2026, 3, 2, 9, 0, 1, tzinfo=SHANGHAI)),
    ("actor_id", "other user"),
], ids=["detail", "detail_emptied", "event_type", "occurred_at", "actor_id"])
def test_editing_an_event_is_detected_at_that_event(session, users, case, column, value):
    events = chain_events(session, case_chain(case.id))
    victim = events[3]
    if value == "other user":
        value = users["samr_handler2"].id
        assert victim.actor_id != value

    tamper(session, f"UPDATE audit_event SET {column} = :value WHERE id = :id", value=value, id=victim.id)

    problems = engine.verify_audit(session)
    assert problems == [ChainProblem(case_chain(case.id), victim.seq, victim.id, problems[0].reason)]
    assert "hash" in problems[0].reason
    assert engine.verify_audit(session, case.id) == problems


def test_editing_and_rehashing_an_event_breaks_the_next_link(session, users, case):
    events = chain_events(session, case_chain(case.id))
    victim, following = events[3], events[4]
    victim.detail = {**victim.detail, "note": "改过"}
    forged = event_hash(victim)

    tamper(session, "UPDATE audit_event SET detail = :value, hash = :hash WHERE id = :id",
           value=victim.detail, hash=forged, id=victim.id)

    [problem] = engine.verify_audit(session, case.id)
    assert (problem.chain, problem.seq, problem.event_id) == (case_chain(case.id), following.seq, following.id)
    assert "previous-hash" in problem.reason


def test_deleting_an_event_in_the_middle_is_detected(session, users, case):
    events = chain_events(session, case_chain(case.id))
    victim = events[4]

    tamper(session, "DELETE FROM audit_event WHERE id = :id", id=victim.id)

    assert engine.verify_audit(session) == [
        ChainProblem(case_chain(case.id), victim.seq, None, f"event {victim.seq} is missing")
    ]


def test_deleting_the_first_event_is_detected(session, users, case):
    events = chain_events(session, case_chain(case.id))

    tamper(session, "DELETE FROM audit_event WHERE id = :id", id=events[0].id)

    [problem] = engine.verify_audit(session)
    assert (problem.chain, problem.seq, problem.event_id) == (case_chain(case.id), 1, None)


def test_deleting_the_last_event_is_caught_by_the_chain_head(session, users, case):
    events = chain_events(session, case_chain(case.id))
    last = events[-1]

    tamper(session, "DELETE FROM audit_event WHERE id = :id", id=last.id)

    [problem] = engine.verify_audit(session)
    assert (problem.chain, problem.seq) == (case_chain(case.id), last.seq)
    assert "head" in problem.reason


def test_deleting_the_whole_chain_is_caught_by_the_chain_head(session, users, case):
    tamper(session, "DELETE FROM audit_event WHERE chain = :chain", chain=case_chain(case.id))

    [problem] = engine.verify_audit(session)
    assert problem.chain == case_chain(case.id)


@pytest.mark.parametrize("first, second", [(2, 3), (3, 6)], ids=["adjacent", "apart"])
def test_reordering_events_is_detected(session, users, case, first, second):
    events = {e.seq: e for e in chain_events(session, case_chain(case.id))}
    a, b = events[first], events[second]

    # Through a free seq value, since (chain, seq) is unique.
    tamper(session, "UPDATE audit_event SET seq = -1 WHERE id = :id", id=a.id)
    tamper(session, "UPDATE audit_event SET seq = :seq WHERE id = :id", seq=first, id=b.id)
    tamper(session, "UPDATE audit_event SET seq = :seq WHERE id = :id", seq=second, id=a.id)

    [problem] = engine.verify_audit(session)
    assert (problem.chain, problem.seq, problem.event_id) == (case_chain(case.id), first, b.id)


def test_cases_have_separate_chains_and_can_be_verified_alone(session, users, case):
    other = drive(session, users, "另一个案件")
    for c in (case, other):
        events = chain_events(session, case_chain(c.id))
        assert events and all(e.case_id == c.id for e in events)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        in_other_chains = session.scalar(
            select(AuditEvent.id).where(AuditEvent.case_id == c.id, AuditEvent.chain != case_chain(c.id))
        )
        assert in_other_chains is None
    session.commit()

    tamper(session, "UPDATE audit_event SET event_type = 'forged' WHERE chain = :chain AND seq = 2",
           chain=case_chain(case.id))

    assert engine.verify_audit(session, other.id) == []
    [problem] = engine.verify_audit(session, case.id)
    assert (problem.chain, problem.seq) == (case_chain(case.id), 2)
    assert engine.verify_audit(session) == [problem]
    assert engine.verify_audit(session, 999_999) == []


def test_user_creation_is_on_the_system_chain(session, users):
    head_before = session.get(AuditChain, SYSTEM_CHAIN).last_seq
    session.commit()
    user = engine.create_user(session, "police_handler2", "pw-police_handler2-2026", "钱侦查员",
                              "police", ["handler"], actor=users["admin"])

    [created] = [e for e in chain_events(session, SYSTEM_CHAIN) if e.seq > head_before]
    assert created.event_type == "user_created"
    assert created.seq == head_before + 1
    assert created.case_id is None and created.actor_id == users["admin"].id
    assert created.detail["user_id"] == user.id and created.detail["username"] == "police_handler2"
    seeded = [e for e in chain_events(session, SYSTEM_CHAIN) if e.event_type == "user_created"]
    assert len(seeded) == len(users) + 1
    assert engine.verify_audit(session) == []


def test_hashes_survive_the_round_trip_through_the_database(db, database_url, session, users, clock):
    # Instants with microseconds, set in a non-UTC zone, and non-ASCII details.
    clock.set(datetime(2026, 3, 2, 23, 59, 59, 999_999, tzinfo=SHANGHAI))
    case = engine.create_case(session, users["samr_handler"], "时区与精度：某公司配方被盗案")
    clock.advance(microseconds=1)
    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    clock.advance(days=1, microseconds=123_457)
    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    clock.advance(seconds=1, microseconds=500_001)
    engine.create_user(session, "round_trip", "pw-round-trip-2026", "往返测试", "court", ["head"])
    recorded = {e.id: (e.hash, e.occurred_at) for e in session.scalars(select(AuditEvent))}
    session.commit()
    session.close()

    # Read back on a fresh connection whose database session uses another time zone.
    reader = make_engine(database_url)
    if reader.dialect.name == "postgresql":
        @event.listens_for(reader, "connect")
        def _other_zone(dbapi_connection, _record):
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET TIME ZONE 'America/New_York'")
            dbapi_connection.commit()
    try:
        with Session(reader) as fresh:
            events = list(fresh.scalars(select(AuditEvent).order_by(AuditEvent.chain, AuditEvent.seq)))
            assert len(events) == len(recorded)
            for e in events:
                assert event_hash(e) == e.hash, f"{e.chain} #{e.seq} {e.event_type}"
                assert e.hash == recorded[e.id][0]
                assert e.occurred_at == recorded[e.id][1]
                assert e.occurred_at.utcoffset() == timedelta(0)
            stamps = {e.occurred_at.microsecond for e in events if e.case_id == case.id}
            assert {999_999, 0, 123_457} <= stamps
            assert engine.verify_audit(fresh) == []
    finally:
        reader.dispose()


# --- events are queued per transaction and written together -----------------------------------

def test_one_transaction_appending_to_two_chains_verifies(session, users, case):
    admin = users["admin"]
    before = {e.seq for e in chain_events(session, case_chain(case.id))}
    statements = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(session.get_bind(), "before_cursor_execute", listen)
    engine_audit.record(session, "note_added", actor=admin, case_id=case.id, detail={"n": 1})
    engine_audit.record(session, "setting_changed", actor=admin, detail={"n": 1})
    engine_audit.record(session, "note_added", actor=admin, case_id=case.id, detail={"n": 2})
    session.flush()
    assert not any("audit_event" in s for s in statements), "recorded, not yet written"
    # Interleaved, read back inside the transaction before it commits.
    engine_audit.write(session)
    event.remove(session.get_bind(), "before_cursor_execute", listen)
    inserts = [s for s in statements if s.startswith("INSERT INTO audit_event")]
    assert len(inserts) == 1, "one statement for the events of both chains"
    seen = session.scalars(select(AuditEvent).where(AuditEvent.event_type == "note_added")
                           .order_by(AuditEvent.seq)).all()
    assert [e.detail["n"] for e in seen] == [1, 2]
    assert seen[1].seq == seen[0].seq + 1 == max(before) + 2
    assert seen[1].prev_hash == seen[0].hash
    engine_audit.record(session, "note_added", actor=admin, case_id=case.id, detail={"n": 3})
    engine_audit.record(session, "setting_changed", actor=admin, detail={"n": 2})
    assert engine.verify_audit(session) == [], "consistent inside the transaction too"
    session.commit()

    assert engine.verify_audit(session) == []
    events = chain_events(session, case_chain(case.id))
    assert [e.detail.get("n") for e in events if e.event_type == "note_added"] == [1, 2, 3]
    system = [e for e in chain_events(session, SYSTEM_CHAIN) if e.event_type == "setting_changed"]
    assert [e.detail["n"] for e in system] == [1, 2] and system[1].seq == system[0].seq + 1
    head = session.get(AuditChain, case_chain(case.id))
    assert (head.last_seq, head.last_hash) == (events[-1].seq, events[-1].hash)


def test_a_new_chain_starts_at_genesis(session, users):
    case = engine.create_case(session, users["samr_handler"], "新链")
    events = chain_events(session, case_chain(case.id))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].event_type == "case_created" and events[0].prev_hash == GENESIS
    assert engine.verify_audit(session, case.id) == []


def audit_statements(session, work) -> list[str]:
    """The statements touching the audit tables while `work` runs and the transaction commits."""
    seen = []
    listen = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(session.get_bind(), "before_cursor_execute", listen)
    try:
        result = work()
        session.commit()
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", listen)
    return result, [s for s in seen if "audit_" in s]


def test_appending_to_one_chain_takes_one_statement_after_the_lock(session, users, case, backend):
    before = chain_events(session, case_chain(case.id))

    def two_events():
        engine_audit.record(session, "note_added", actor=users["admin"], case_id=case.id, detail={"n": 1})
        engine_audit.record(session, "note_added", actor=users["admin"], case_id=case.id, detail={"n": 2})

    _, ran = audit_statements(session, two_events)
    assert "FOR UPDATE" in ran[0] or backend == "sqlite"
    # PostgreSQL: the events' INSERT is a CTE of the head's UPDATE; SQLite: two statements.
    assert len(ran) == {"postgres": 2, "sqlite": 3}[backend], ran
    after = chain_events(session, case_chain(case.id))
    assert [e.detail.get("n") for e in after[len(before):]] == [1, 2]
    head = session.get(AuditChain, case_chain(case.id))
    session.refresh(head)
    assert (head.last_seq, head.last_hash) == (after[-1].seq, after[-1].hash)
    assert engine.verify_audit(session, case.id) == []


def test_a_new_case_starts_its_chain_without_looking_it_up(session, users, backend):
    case, ran = audit_statements(session, lambda: engine.create_case(session, users["samr_handler"], "新链一句"))
    assert not any("FOR UPDATE" in s or s.startswith("SELECT") for s in ran), ran
    assert len(ran) == {"postgres": 1, "sqlite": 2}[backend], ran
    events = chain_events(session, case_chain(case.id))
    head = session.get(AuditChain, case_chain(case.id))
    assert [e.event_type for e in events][:2] == ["case_created", "instance_started"]
    assert (head.last_seq, head.last_hash) == (events[-1].seq, events[-1].hash)
    assert engine.verify_audit(session, case.id) == []


def test_opening_a_chain_that_exists_fails_and_writes_nothing(session, users, case):
    events = chain_events(session, case_chain(case.id))
    engine_audit.open_chain(session, case.id)
    engine_audit.record(session, "note_added", actor=users["admin"], case_id=case.id)
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    assert [e.hash for e in chain_events(session, case_chain(case.id))] == [e.hash for e in events]
    assert engine.verify_audit(session) == []


def test_a_rolled_back_transaction_leaves_its_chains_as_they_were(session, users, case):
    events = chain_events(session, case_chain(case.id))
    engine_audit.record(session, "note_added", actor=users["admin"], case_id=case.id)
    engine_audit.write(session)
    session.rollback()
    engine_audit.record(session, "note_added", actor=users["admin"], case_id=case.id, detail={"kept": True})
    session.commit()

    after = chain_events(session, case_chain(case.id))
    assert len(after) == len(events) + 1 and after[-1].detail == {"kept": True}
    assert after[-1].seq == events[-1].seq + 1 and after[-1].prev_hash == events[-1].hash
    assert engine.verify_audit(session) == []


def test_concurrent_appends_to_one_chain_are_serialised(pg_database_url, clock):
    """Writing events locks the chain head: a second transaction appending to the chain waits
    for the first to commit and continues after its last event, whatever it appended later."""
    sql = make_engine(pg_database_url)
    factory = make_session_factory(sql)
    factory.configure(info={"clock": clock})
    try:
        with factory() as setup:
            handler = setup.scalars(select(User).where(User.username == "samr_handler")).one()
            case_id = engine.create_case(setup, handler, "并发审计").id
        first, second = factory(), factory()
        engine_audit.record(first, "note_added", case_id=case_id, detail={"by": "first", "n": 1})
        engine_audit.write(first)
        committed = threading.Event()

        def append_second():
            engine_audit.record(second, "note_added", case_id=case_id, detail={"by": "second"})
            second.commit()
            committed.set()

        thread = threading.Thread(target=append_second)
        thread.start()
        assert not committed.wait(1.0), "the second transaction must wait for the chain head"
        engine_audit.record(first, "note_added", case_id=case_id, detail={"by": "first", "n": 2})
        first.commit()
        thread.join(30)
        assert committed.is_set()
        first.close(), second.close()

        with factory() as check:
            notes = check.scalars(select(AuditEvent).where(
                AuditEvent.chain == case_chain(case_id), AuditEvent.event_type == "note_added")
                .order_by(AuditEvent.seq)).all()
            assert [e.detail["by"] for e in notes] == ["first", "first", "second"]
            assert [e.seq for e in notes] == [notes[0].seq, notes[0].seq + 1, notes[0].seq + 2]
            assert engine.verify_audit(check) == []
    finally:
        sql.dispose()


def test_a_rolled_back_savepoint_after_appending_refuses_to_commit(session, users, case):
    events = chain_events(session, case_chain(case.id))
    engine_audit.record(session, "note_added", actor=users["admin"], case_id=case.id)
    session.flush()
    savepoint = session.begin_nested()
    engine_audit.record(session, "note_added", actor=users["admin"], case_id=case.id)
    session.flush()
    savepoint.rollback()

    with pytest.raises(RuntimeError, match="savepoint"):
        session.commit()
    session.rollback()
    assert len(chain_events(session, case_chain(case.id))) == len(events)
    assert engine.verify_audit(session) == []
