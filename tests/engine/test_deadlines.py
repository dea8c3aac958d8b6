"""engine/runtime/deadlines.py: moving the due time of an open task and its escalation timer, audited.

An extension is one the task's catalog rule allows, counted from the rule's legal event (the
police's acceptance of the case), not from when the task opened.
"""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from engine import Conflict, verify_audit
from engine.runtime.deadlines import extend_open_task
from models import Timer
from tests.conftest import SHANGHAI
from tests.helpers import FILE, RECEIPT, REVIEW_FILE, act, event_types, open_task, transferred


def accepted(session, users, clock):
    """Transferred Monday 2 March 09:00; the police liaison signs on Tuesday 3 March 16:30."""
    case = transferred(session, users)
    clock.set(datetime(2026, 3, 3, 16, 30, tzinfo=SHANGHAI))
    act(session, users["police_liaison"], case.id, "accept_receipt", RECEIPT)
    return case, open_task(session, case.id, "decide_filing")


def test_the_task_and_its_timer_move_together_counted_from_the_event(session, users, clock):
    case, task = accepted(session, users, clock)
    # Three days from acceptance on Tuesday 3 March end on Friday 6 March.
    assert task.due_at == datetime(2026, 3, 6, 23, 59, 59, tzinfo=SHANGHAI)
    clock.set(datetime(2026, 3, 5, 11, 0, tzinfo=SHANGHAI))  # extended on Thursday
    due = extend_open_task(session, users["police_head"], task, "10d", "测试顺延")
    session.commit()
    # Ten days from Tuesday 3 March (not from Thursday, nor from when the task opened): Friday 13 March.
    assert due.at == datetime(2026, 3, 13, 23, 59, 59, tzinfo=SHANGHAI) == open_task(session, case.id, "decide_filing").due_at
    timer = session.scalars(select(Timer).where(Timer.case_id == case.id, Timer.bpmn_id == "decide_filing_overdue")).one()
    assert (timer.due_at, timer.rule, timer.status) == (due.at, "10d", "pending")
    assert event_types(session, case.id)[-1] == "deadline_extended"
    assert verify_audit(session, case.id) == []


@pytest.mark.parametrize("period", ["ten days", "20d", "10wd"])
def test_only_a_period_the_rule_allows_moves_it(session, users, clock, period):
    case, task = accepted(session, users, clock)
    with pytest.raises(ValueError):
        extend_open_task(session, users["police_head"], task, period, "x")
    session.rollback()
    assert open_task(session, case.id, "decide_filing").due_at == datetime(2026, 3, 6, 23, 59, 59, tzinfo=SHANGHAI)


def test_a_rule_without_extensions_cannot_be_extended(session, users):
    case = transferred(session, users)
    act(session, users["police_liaison"], case.id, "accept_receipt", RECEIPT)
    act(session, users["police_handler"], case.id, "review_case", REVIEW_FILE)
    act(session, users["police_head"], case.id, "decide_filing", FILE)
    # The liaison's 24 hours are local practice without extensions.
    handoff = open_task(session, case.id, "approve_filing_notice_handoff")
    with pytest.raises(ValueError, match="not a period rule liaison_handoff allows"):
        extend_open_task(session, users["police_liaison"], handoff, "48h", "x")


def test_only_an_open_task_moves(session, users, clock):
    case, task = accepted(session, users, clock)
    act(session, users["police_handler"], case.id, "review_case", REVIEW_FILE)
    act(session, users["police_head"], case.id, "decide_filing", FILE)
    session.refresh(task)
    with pytest.raises(Conflict):
        extend_open_task(session, users["police_head"], task, "10d", "x")
