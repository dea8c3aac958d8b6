"""Exactly-once timers with several worker processes on PostgreSQL, including one killed mid-way.

Each worker fires its timers in batches (engine/worker/timers.py), and ten instances share each case, so
the workers' batches append to the same audit chains: the chains must still verify."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from engine import FixedClock, create_case, verify_audit
from engine.bootstrap import deploy_folder
from engine.runtime.instances import start_instance
from engine.worker.passes import drain
from models import AuditEvent, ProcessInstance, Timer, User, make_engine, make_session_factory

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "bpmn"
CASES, PER_CASE = 100, 10
WORKER = ("from engine.worker.passes import drain; from models import *; import sys; "
          "drain(make_session_factory(make_engine(sys.argv[1]))(), batch=50)")


@pytest.fixture
def due_timers(pg_database_url):
    """1,000 instances each waiting on a timer that fell due an hour ago (real time)."""
    engine = make_engine(pg_database_url)
    factory = make_session_factory(engine)
    factory.configure(info={"clock": FixedClock(datetime.now(timezone.utc) - timedelta(hours=2))})
    with factory() as s:
        deploy_folder(s, FIXTURES)
        handler = s.scalars(select(User).where(User.username == "samr_handler")).one()
        for _ in range(CASES):
            case = create_case(s, handler, "批量期限")
            for _ in range(PER_CASE):
                start_instance(s, case, "timer_only", handler)
            s.commit()
        assert s.scalar(select(func.count()).select_from(Timer).where(Timer.status == "pending")) == CASES * PER_CASE
    yield pg_database_url, factory
    engine.dispose()


def start_workers(url, count):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return [subprocess.Popen([sys.executable, "-c", WORKER, url], cwd=ROOT, env=env,
                             stderr=subprocess.PIPE) for _ in range(count)]


def assert_each_fired_once(factory):
    with factory() as s:
        statuses = dict(s.execute(select(Timer.status, func.count()).group_by(Timer.status)).all())
        assert statuses == {"fired": CASES * PER_CASE}
        fired_events = s.scalar(select(func.count()).select_from(AuditEvent)
                                .where(AuditEvent.event_type == "timer_fired"))
        assert fired_events == CASES * PER_CASE
        per_timer = s.execute(text(
            "SELECT detail->>'bpmn_id', instance_id, count(*) FROM audit_event "
            "WHERE event_type = 'timer_fired' GROUP BY 1, 2 HAVING count(*) > 1")).all()
        assert per_timer == []
        done = s.scalar(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.status == "completed"))
        assert done == CASES * PER_CASE
        assert verify_audit(s) == []


@pytest.mark.parametrize("count", [2, 4])
def test_workers_fire_each_timer_once(due_timers, count):
    url, factory = due_timers
    workers = start_workers(url, count)
    for w in workers:
        _, err = w.communicate(timeout=300)
        assert w.returncode == 0, err.decode()
        # Batches lock instances and chain heads in one order, so they never deadlock.
        assert b"one by one" not in err, err.decode()
    assert_each_fired_once(factory)


def test_a_killed_worker_loses_nothing(due_timers):
    url, factory = due_timers
    workers = start_workers(url, 4)
    victim = workers[0]
    with factory() as s:
        deadline = time.monotonic() + 120
        while s.scalar(select(func.count()).select_from(Timer).where(Timer.status == "fired")) < 100:
            assert time.monotonic() < deadline, "workers made no progress"
            time.sleep(0.05)
            s.rollback()
    victim.send_signal(signal.SIGKILL)
    for w in workers:
        w.communicate(timeout=300)
    assert victim.returncode == -signal.SIGKILL
    # Whatever the victim held was rolled back with its connection; the next worker takes it.
    with factory() as s:
        drain(s)
    assert_each_fired_once(factory)
