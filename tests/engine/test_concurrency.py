"""Concurrent claims and completions on PostgreSQL: exactly one winner, nothing half-written."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine import Conflict, FixedClock, claim_task, complete_task, create_case
from engine.bootstrap import deploy_folder
from engine.casework.cases import start_mechanism
from models import AuditEvent, HumanTask, User, make_engine, make_session_factory
from tests.conftest import START
from tests.helpers import FACTS_500K, instance_of, open_task, open_tasks

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bpmn"
THREADS = 20


@pytest.fixture
def factory(pg_database_url):
    engine = make_engine(pg_database_url, pool_size=THREADS, max_overflow=5)
    factory = make_session_factory(engine)
    factory.configure(info={"clock": FixedClock(START)})
    yield factory
    engine.dispose()


def run_at_once(count, fn):
    """Run fn(i) in `count` threads released together; return results or exceptions."""
    barrier = threading.Barrier(count)

    def call(i):
        barrier.wait()
        try:
            return fn(i)
        except Exception as exc:  # noqa: BLE001 - collected, asserted by the caller
            return exc

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(call, range(count)))


def user(session, name) -> User:
    return session.scalars(select(User).where(User.username == name)).one()


def test_twenty_simultaneous_claims_have_one_winner(factory):
    with factory() as s:
        case = create_case(s, user(s, "samr_handler"), "并发认领")
        task_id = open_task(s, case.id, "register_facts").id
    names = ["samr_handler", "samr_handler2"]

    def claim(i):
        with factory() as s:
            return claim_task(s, user(s, names[i % 2]), task_id).assignee_id

    results = run_at_once(THREADS, claim)
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, Exception))
    with factory() as s:
        assert s.get(HumanTask, task_id).assignee_id == winners[0]
        claims = s.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.task_id == task_id, AuditEvent.event_type == "task_claimed"))
        assert claims == 1


def test_simultaneous_completions_of_one_task_apply_once(factory):
    with factory() as s:
        handler = user(s, "samr_handler")
        case = create_case(s, handler, "并发办结")
        task_id = open_task(s, case.id, "register_facts").id
        claim_task(s, handler, task_id)
        version = instance_of(s, case.id).version

    def complete(_):
        with factory() as s:
            return complete_task(s, user(s, "samr_handler"), task_id, FACTS_500K).state

    results = run_at_once(8, complete)
    assert [r for r in results if not isinstance(r, Exception)] == ["completed"]
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, Exception))
    with factory() as s:
        assert [t.bpmn_id for t in open_tasks(s, case.id)] == ["decide_transfer"]
        assert instance_of(s, case.id).version == version + 1
        done = s.scalar(select(func.count()).select_from(AuditEvent)
                        .where(AuditEvent.task_id == task_id, AuditEvent.event_type == "task_completed"))
        assert done == 1


def test_parallel_branches_completed_at_once_both_apply(factory):
    """Two tasks of one instance completed concurrently: the loser of the version race retries
    on fresh state, so neither completion is lost and the join fires once."""
    with factory() as s:
        deploy_folder(s, FIXTURES)
        handler, other = user(s, "samr_handler"), user(s, "samr_handler2")
        case = create_case(s, handler, "并行分支")
        start_mechanism(s, handler, case.id, "parallel_review")
        a = open_task(s, case.id, "a").id
        b = open_task(s, case.id, "b").id
        claim_task(s, handler, a)
        claim_task(s, other, b)
    pairs = [("samr_handler", a), ("samr_handler2", b)]

    def complete(i):
        with factory() as s:
            name, task_id = pairs[i]
            return complete_task(s, user(s, name), task_id, {"note": name}).state

    assert run_at_once(2, complete) == ["completed", "completed"]
    with factory() as s:
        assert [t.bpmn_id for t in open_tasks(s, case.id) if t.bpmn_id in {"a", "b", "done"}] == ["done"]
