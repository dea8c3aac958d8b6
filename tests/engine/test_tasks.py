"""Claim, unclaim, reassign and complete: who may, and what a refused action leaves behind."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    claim_task,
    complete_task,
    create_case,
    inbox,
    reassign_task,
    unclaim_task,
)
from models import AuditEvent, HumanTask
from tests.helpers import FACTS_500K, act, instance_of, open_task


@pytest.fixture
def case(session, users):
    return create_case(session, users["samr_handler"], "配方泄露案")


def audit_count(session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent))


def test_claim_is_exclusive(session, users, case):
    task = open_task(session, case.id, "register_facts")
    claim_task(session, users["samr_handler"], task.id)
    with pytest.raises(Conflict, match="claimed by someone else"):
        claim_task(session, users["samr_handler2"], task.id)
    with pytest.raises(Conflict, match="already claimed"):
        claim_task(session, users["samr_handler"], task.id)
    session.refresh(task)
    assert task.assignee_id == users["samr_handler"].id


def test_claim_needs_the_lane(session, users, case):
    task = open_task(session, case.id, "register_facts")
    with pytest.raises(Forbidden):
        claim_task(session, users["samr_head"], task.id)  # same agency, other role
    with pytest.raises(NotFound):
        claim_task(session, users["police_handler"], task.id)  # the case has not reached police


def test_complete_requires_claim_by_the_actor(session, users, case):
    task = open_task(session, case.id, "register_facts")
    with pytest.raises(Forbidden, match="claimed by you"):
        complete_task(session, users["samr_handler"], task.id, FACTS_500K)
    claim_task(session, users["samr_handler"], task.id)
    with pytest.raises(Forbidden):
        complete_task(session, users["samr_handler2"], task.id, FACTS_500K)


def test_invalid_form_data_changes_nothing(session, users, case):
    task = open_task(session, case.id, "register_facts")
    claim_task(session, users["samr_handler"], task.id)
    instance = instance_of(session, case.id)
    version, state, events = instance.version, instance.state_json, audit_count(session)
    bad = {**FACTS_500K, "loss_amount": "很多", "unknown": 1}
    del bad["summary"]
    with pytest.raises(InvalidInput) as err:
        complete_task(session, users["samr_handler"], task.id, bad)
    assert set(err.value.errors) == {"loss_amount", "summary", "unknown"}
    assert err.value.errors["summary"] == ["required"]
    instance = instance_of(session, case.id)
    assert (instance.version, instance.state_json) == (version, state)
    assert audit_count(session) == events
    assert open_task(session, case.id, "register_facts").state == "open"


def test_completed_task_cannot_be_completed_again(session, users, case):
    done = act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    with pytest.raises(Conflict, match="already completed"):
        complete_task(session, users["samr_handler"], done.id, FACTS_500K)
    with pytest.raises(Conflict):
        claim_task(session, users["samr_handler"], done.id)


def test_completion_stores_the_form_but_only_variables_in_the_workflow(session, users, case):
    done = act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    assert done.result == FACTS_500K
    assert done.completed_by_id == users["samr_handler"].id
    state = instance_of(session, case.id).state_json
    assert "500000" in state and FACTS_500K["summary"] not in state and "party_name" not in state


def test_unclaim_and_reassign(session, users, case):
    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    act(session, users["samr_head"], case.id, "decide_transfer", {"transfer_approved": True, "administrative_penalty": False})
    task = open_task(session, case.id, "approve_outgoing_handoff")
    claim_task(session, users["samr_liaison"], task.id)
    with pytest.raises(Forbidden):
        unclaim_task(session, users["samr_head"], task.id)
    unclaim_task(session, users["samr_liaison"], task.id)
    assert session.get(HumanTask, task.id).assignee_id is None

    handling = open_task(session, case.id, "approve_outgoing_handoff")
    with pytest.raises(Forbidden, match="liaison"):
        reassign_task(session, users["samr_handler"], handling.id, users["samr_handler2"])
    with pytest.raises(Forbidden, match="does not work in lane"):
        reassign_task(session, users["samr_liaison"], handling.id, users["samr_handler2"])
    events = session.scalars(select(AuditEvent.event_type).where(AuditEvent.task_id == task.id)).all()
    assert events == ["task_created", "task_claimed", "task_unclaimed"]


def test_liaison_reassigns_within_the_lane(session, users, case):
    task = open_task(session, case.id, "register_facts")
    claim_task(session, users["samr_handler"], task.id)
    # samr_liaison is not in the handler lane but manages the agency's work.
    reassign_task(session, users["samr_liaison"], task.id, users["samr_handler2"])
    session.refresh(task)
    assert task.assignee_id == users["samr_handler2"].id
    event = session.scalars(select(AuditEvent).where(AuditEvent.event_type == "task_reassigned")).one()
    assert event.detail["before"] == users["samr_handler"].id
    assert event.detail["after"] == users["samr_handler2"].id


def test_inbox_lists_claimable_and_mine_soonest_first(session, users, clock):
    first = create_case(session, users["samr_handler"], "一")
    clock.advance(days=1)
    second = create_case(session, users["samr_handler"], "二")
    handler, other = users["samr_handler"], users["samr_handler2"]
    assert [t.case_id for t in inbox(session, handler).items] == [first.id, second.id]
    claim_task(session, other, open_task(session, first.id, "register_facts").id)
    assert [t.case_id for t in inbox(session, handler).items] == [second.id]
    assert [t.case_id for t in inbox(session, other, view="mine").items] == [first.id]
    assert inbox(session, users["police_head"]).total == 0
    page = inbox(session, other, per_page=1, page=2)
    assert page.total == 2 and page.pages == 2 and len(page.items) == 1

    act(session, handler, second.id, "register_facts", FACTS_500K)
    head_inbox = inbox(session, users["samr_head"]).items
    assert [(t.bpmn_id, t.case_id) for t in head_inbox] == [("decide_transfer", second.id)]
    assert head_inbox[0].due_at is not None
