"""Timers fire at business-calendar due times on the test's clock, once each."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import claim_task, complete_task, create_case
from engine.bootstrap import deploy_folder
from engine.cases import start_mechanism
from engine.timers import fire_due_timers
from models import HumanTask, Timer
from tests.conftest import SHANGHAI
from tests.helpers import event_types, open_task, open_tasks

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bpmn"


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
