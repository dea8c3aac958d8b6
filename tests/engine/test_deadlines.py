"""engine/runtime/deadlines.py: moving the due time of an open task and its escalation timer, audited."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from engine import Conflict, create_case, verify_audit
from engine.runtime.deadlines import extend_open_task
from models import Timer
from tests.conftest import SHANGHAI
from tests.helpers import APPROVE_TRANSFER, FACTS_500K, act, event_types, open_task


def opened(session, users):
    case = create_case(session, users["samr_handler"], "期限顺延")
    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    return case, open_task(session, case.id, "decide_transfer")


def test_the_task_and_its_timer_move_together(session, users):
    case, task = opened(session, users)
    due = extend_open_task(session, users["samr_head"], task, "10d", "测试顺延")
    session.commit()
    assert due.at == datetime(2026, 3, 12, 23, 59, 59, tzinfo=SHANGHAI) == open_task(session, case.id, "decide_transfer").due_at
    timer = session.scalars(select(Timer).where(Timer.case_id == case.id)).one()
    assert (timer.due_at, timer.rule, timer.status) == (due.at, "10d", "pending")
    assert event_types(session, case.id)[-1] == "deadline_extended"
    assert verify_audit(session, case.id) == []


def test_only_an_open_task_with_a_real_rule_moves(session, users):
    case, task = opened(session, users)
    with pytest.raises(ValueError):
        extend_open_task(session, users["samr_head"], task, "ten days", "x")
    session.rollback()
    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    session.refresh(task)
    with pytest.raises(Conflict):
        extend_open_task(session, users["samr_head"], task, "10d", "x")
