"""Timers fire at business-calendar due times on the test's clock, once each."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import event, select, text

import engine
from engine import claim_task, complete_task, create_case
from engine.bootstrap import deploy_folder
from engine.casework.cases import start_mechanism
from engine.runtime.deploy import deploy_paths
from engine.runtime.instances import start_instance
from engine.worker.timers import fire_due_timers
from models import HumanTask, ProcessInstance, Timer
from tests.conftest import SHANGHAI
from tests.helpers import event_types, open_task, open_tasks

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bpmn"
BATCH_FIXTURES = FIXTURES.parent / "bpmn_timer_batch"


@pytest.fixture
def started(session, users):
    deploy_folder(session, FIXTURES)
    handler = users["samr_handler"]
    case = create_case(session, handler, "期限")
    instance = start_mechanism(session, handler, case.id, "timer_escalation")
    return case, instance


def timers(session, instance_id):
    return {t.bpmn_id: t for t in session.scalars(
        select(Timer).where(Timer.instance_id == instance_id).execution_options(populate_existing=True))}


def test_due_times_follow_the_calendar(session, started):
    case, instance = started
    rows = timers(session, instance.id)
    # Started Monday 2 March 2026 09:00: 2 working days → end of Wed 4 March; 10 → end of Mon 16 March.
    assert rows["remind"].due_at == datetime(2026, 3, 4, 23, 59, 59, tzinfo=SHANGHAI)
    assert rows["expire"].due_at == datetime(2026, 3, 16, 23, 59, 59, tzinfo=SHANGHAI)
    assert {r.status for r in rows.values()} == {"pending"}
    assert open_task(session, case.id, "work").due_at == datetime(2026, 3, 5, 23, 59, 59, tzinfo=SHANGHAI)


def test_reminder_escalates_without_interrupting(session, users, clock, started):
    case, instance = started
    assert fire_due_timers(session) == 0
    clock.set(datetime(2026, 3, 4, 23, 59, 58, tzinfo=SHANGHAI))
    assert fire_due_timers(session) == 0, "not due one second early"
    clock.advance(seconds=2)
    assert fire_due_timers(session) == 1
    assert fire_due_timers(session) == 0, "fired once"
    escalate = open_task(session, case.id, "escalate")
    assert escalate.lane == "samr.head"
    assert open_task(session, case.id, "work").state == "open"
    assert timers(session, instance.id)["remind"].status == "fired"
    assert "timer_fired" in event_types(session, case.id)


def test_completing_the_task_cancels_its_timers_and_arms_the_next(session, users, clock, started):
    case, instance = started
    work = open_task(session, case.id, "work")
    claim_task(session, users["samr_handler"], work.id)
    complete_task(session, users["samr_handler"], work.id, {"note": "办结"})
    rows = timers(session, instance.id)
    assert rows["remind"].status == "cancelled" and rows["expire"].status == "cancelled"
    assert rows["cooldown"].status == "pending"
    assert rows["cooldown"].due_at == datetime(2026, 3, 3, 9, 0, tzinfo=SHANGHAI)  # 24 wall-clock hours
    clock.advance(days=30)
    assert fire_due_timers(session) == 1  # cooldown; the cancelled ones never fire
    assert [t.bpmn_id for t in open_tasks(session, case.id) if t.instance_id == instance.id] == ["followup"]


def test_deadline_passes_and_the_task_is_withdrawn(session, clock, started):
    case, instance = started
    clock.set(datetime(2026, 3, 17, 0, 0, tzinfo=SHANGHAI))
    assert fire_due_timers(session) == 2  # the reminder and the expiry, in due order
    work = session.scalars(select(HumanTask).where(HumanTask.bpmn_id == "work")
                           .execution_options(populate_existing=True)).one()
    assert work.state == "cancelled"
    session.refresh(instance)
    assert instance.status == "running", "the escalation task opened by the reminder is still open"
    assert [t.bpmn_id for t in open_tasks(session, case.id) if t.instance_id == instance.id] == ["escalate"]


# --- a worker pass fires several due timers per transaction ------------------------------------

@pytest.fixture
def waiting_instances(session, users):
    """Three instances of one case waiting on a one-hour timer; the second divides by zero when
    its timer fires."""
    deploy_paths(session, [BATCH_FIXTURES / "timer_then_script.bpmn"])
    handler = users["samr_handler"]
    case = create_case(session, handler, "批量定时")
    instances = [start_instance(session, case, "timer_then_script", handler, {"divisor": divisor})[0]
                 for divisor in (4, 0, 5)]
    session.commit()
    return case, instances


def commits(sql) -> list[int]:
    """Counts the engine's commits while a test runs (an observer, not a stand-in)."""
    seen = [0]

    def count(_connection) -> None:
        seen[0] += 1

    event.listen(sql, "commit", count)
    return seen


def test_due_timers_fire_together_and_a_failing_script_keeps_the_others(session, db, clock, waiting_instances):
    case, instances = waiting_instances
    seen = commits(db[0])
    clock.advance(hours=2)

    assert fire_due_timers(session) == 3
    assert seen[0] == 1, "one transaction for the batch"
    statuses = dict(session.execute(
        select(ProcessInstance.id, ProcessInstance.status).where(ProcessInstance.case_id == case.id)).all())
    assert [statuses[i.id] for i in instances] == ["completed", "error", "completed"]
    assert {t.status for t in session.scalars(select(Timer))} == {"fired"}
    types = event_types(session, case.id)
    assert types.count("timer_fired") == 3 and types.count("instance_failed") == 1
    assert types.count("instance_completed") == 2
    assert engine.verify_audit(session) == []
    assert fire_due_timers(session) == 0


def test_a_timer_that_raises_fails_alone(session, clock, waiting_instances):
    case, instances = waiting_instances
    broken = instances[1]
    # Damage behind the engine's back: the instance's state no longer loads.
    session.execute(text("UPDATE process_instance SET state_json = '{broken' WHERE id = :id"), {"id": broken.id})
    session.commit()
    clock.advance(hours=2)

    with pytest.raises(ValueError):
        fire_due_timers(session)

    rows = {t.instance_id: t.status for t in session.scalars(
        select(Timer).execution_options(populate_existing=True))}
    assert rows == {instances[0].id: "fired", broken.id: "pending", instances[2].id: "fired"}
    assert event_types(session, case.id).count("timer_fired") == 2
    assert engine.verify_audit(session) == []
