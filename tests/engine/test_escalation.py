"""Escalation in 立案协助: late steps reach the task-force office, and a late police decision on
filing is sent to the procuratorate as a filing-supervision request (the filing_supervision mechanism).

The real workflows/case_transfer.bpmn is driven through the engine's service functions; time
moves only on the test's FixedClock, and due timers are fired with engine.worker.timers.fire_due_timers
as the worker would.
"""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import select

from engine import claim_task, complete_task, create_case, verify_audit
from engine.runtime.instances import load
from engine.worker.timers import fire_due_timers
from models import CaseParticipant, Message, Timer
from tests.conftest import SHANGHAI
from tests.helpers import (
    APPROVE_HANDOFF,
    APPROVE_TRANSFER,
    FACTS_500K,
    FILE,
    RECEIPT,
    REVIEW_FILE,
    act,
    event_types,
    hand_over,
    instance_of,
    notify_filing,
    open_task,
    open_tasks,
)

NOTE = {"note": "已电话督促，负责人承诺当日审批。"}
# decide_transfer is created on Monday 2 March 2026 09:00: 3d ends Thursday 5 March.
DECISION_DUE = datetime(2026, 3, 5, 23, 59, 59, tzinfo=SHANGHAI)


def timers(session, case_id) -> dict[str, Timer]:
    return {t.bpmn_id: t for t in session.scalars(
        select(Timer).where(Timer.case_id == case_id).order_by(Timer.id)
        .execution_options(populate_existing=True))}


def opened(session, users):
    case = create_case(session, users["samr_handler"], "某公司技术秘密案")
    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    return case


def to_police_review(session, users):
    case = opened(session, users)
    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    act(session, users["samr_liaison"], case.id, "approve_outgoing_handoff", APPROVE_HANDOFF)
    act(session, users["police_liaison"], case.id, "accept_receipt", RECEIPT)
    return case


def test_the_decision_timer_runs_with_the_decision_deadline(session, users):
    case = opened(session, users)
    decide = open_task(session, case.id, "decide_transfer")
    timer = timers(session, case.id)["decide_transfer_overdue"]
    assert decide.due_at == timer.due_at == DECISION_DUE
    assert (timer.rule, timer.status, timer.due_provisional) == ("3d", "pending", False)


def test_a_late_transfer_decision_is_escalated_to_the_office(session, users, clock):
    case = opened(session, users)
    clock.set(datetime(2026, 3, 5, 23, 59, 58, tzinfo=SHANGHAI))
    assert fire_due_timers(session) == 0, "not before the deadline"
    clock.set(datetime(2026, 3, 6, 0, 0, tzinfo=SHANGHAI))
    assert fire_due_timers(session) == 1
    assert fire_due_timers(session) == 0, "once"

    supervise = open_task(session, case.id, "supervise_transfer_decision")
    assert (supervise.lane, supervise.title) == ("office.supervisor", "移送审批已超期，请督办")
    assert supervise.created_at == datetime(2026, 3, 6, 0, 0, tzinfo=SHANGHAI)
    # 3 working days from Friday 6 March (not counted): Mon 9, Tue 10, Wed 11.
    assert supervise.due_at == datetime(2026, 3, 11, 23, 59, 59, tzinfo=SHANGHAI)
    assert supervise.deadline_rule == "3wd" and not supervise.due_provisional
    # Non-interrupting: the head still has the decision.
    assert open_task(session, case.id, "decide_transfer").lane == "samr.head"
    assert timers(session, case.id)["decide_transfer_overdue"].status == "fired"

    # The office learns ids and the missed deadline, nothing of the case's facts.
    workflow = load(session, instance_of(session, case.id))
    data = workflow.get_task_from_id(UUID(supervise.task_guid)).data
    assert data["overdue"] == {"case_id": case.id, "task": "decide_transfer",
                               "due_at": "2026-03-05T15:59:59+00:00"}
    assert not set(data) & (set(FACTS_500K) | {"threshold", "transfer_approved"})

    office = {p.agency.code for p in session.scalars(
        select(CaseParticipant).where(CaseParticipant.case_id == case.id))}
    assert "office" in office
    claim_task(session, users["office_supervisor"], supervise.id)
    complete_task(session, users["office_supervisor"], supervise.id, NOTE)
    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    assert [t.bpmn_id for t in open_tasks(session, case.id)] == ["approve_outgoing_handoff"]
    assert "timer_fired" in event_types(session, case.id)
    assert verify_audit(session, case.id) == []


def test_deciding_in_time_cancels_the_escalation(session, users, clock):
    case = opened(session, users)
    clock.set(datetime(2026, 3, 5, 12, 0, tzinfo=SHANGHAI))
    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    assert timers(session, case.id)["decide_transfer_overdue"].status == "cancelled"
    clock.set(datetime(2026, 3, 31, tzinfo=SHANGHAI))
    assert fire_due_timers(session) == 0
    assert [t.bpmn_id for t in open_tasks(session, case.id)] == ["approve_outgoing_handoff"]
    assert "timer_fired" not in event_types(session, case.id)


def test_each_late_decision_round_is_escalated(session, users, clock):
    # The liaison sends the transfer back: the head's second decision is still due three days from
    # the officers' report (Decree 310 art. 5), so a return after that is reported at once.
    case = opened(session, users)
    clock.set(datetime(2026, 3, 6, 9, 0, tzinfo=SHANGHAI))
    assert fire_due_timers(session) == 1
    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    act(session, users["samr_liaison"], case.id, "approve_outgoing_handoff",
        {"handoff_approved": False, "comment": "缺涉案物品清单"})
    second = open_task(session, case.id, "decide_transfer")
    assert second.due_at == DECISION_DUE
    clock.set(datetime(2026, 3, 10, 0, 0, tzinfo=SHANGHAI))
    assert fire_due_timers(session) == 1
    supervising = [t for t in open_tasks(session, case.id) if t.bpmn_id == "supervise_transfer_decision"]
    assert len(supervising) == 2


def test_a_late_police_decision_asks_the_procuratorate_for_filing_supervision(session, users, clock):
    case = to_police_review(session, users)
    # Three days from the police's acceptance (Monday 2 March), on the head's decision.
    decide = open_task(session, case.id, "decide_filing")
    assert decide.due_at == DECISION_DUE == timers(session, case.id)["decide_filing_overdue"].due_at
    clock.set(datetime(2026, 3, 6, 8, 30, tzinfo=SHANGHAI))
    assert fire_due_timers(session) == 1

    # The clue leaves the collaboration: filing_supervision (its own mechanism) takes it, on
    # this case, with the trigger and no facts.
    [sent] = session.scalars(select(Message).where(
        Message.case_id == case.id, Message.name == "filing_supervision_requested"))
    assert sent.payload == {"supervision_trigger": "review_overdue", "non_filing_reasons": ""}
    assert sent.source_instance_id == instance_of(session, case.id).id
    assert "message_sent" in event_types(session, case.id)
    # Non-interrupting: the police still review, in the police handler's lane.
    assert open_task(session, case.id, "review_case").state == "open"
    assert not [t for t in open_tasks(session, case.id) if t.lane.startswith("procuratorate")
                and t.instance_id == instance_of(session, case.id).id]

    act(session, users["police_handler"], case.id, "review_case", REVIEW_FILE)
    act(session, users["police_head"], case.id, "decide_filing", FILE)
    notify_filing(session, users, case.id)
    hand_over(session, users, case.id)
    assert instance_of(session, case.id).status == "completed"
    assert verify_audit(session, case.id) == []


def test_deciding_in_time_sends_no_clue(session, users, clock):
    case = to_police_review(session, users)
    act(session, users["police_handler"], case.id, "review_case", REVIEW_FILE)
    assert timers(session, case.id)["decide_filing_overdue"].status == "pending", "the review alone decides nothing"
    clock.set(datetime(2026, 3, 5, 23, 59, 59, tzinfo=SHANGHAI))  # the last second still counts
    act(session, users["police_head"], case.id, "decide_filing", FILE)
    assert timers(session, case.id)["decide_filing_overdue"].status == "cancelled"
    clock.set(datetime(2026, 4, 1, tzinfo=SHANGHAI))
    assert fire_due_timers(session) == 0
    # The head's optional extension stays open until the decision is sent.
    assert sorted(t.bpmn_id for t in open_tasks(session, case.id)) == ["approve_filing_notice_handoff", "extend_review"]


def test_deadlines_past_the_official_calendar_are_provisional(session, users, clock):
    clock.set(datetime(2026, 12, 30, 9, 0, tzinfo=SHANGHAI))
    case = opened(session, users)
    decide = open_task(session, case.id, "decide_transfer")
    timer = timers(session, case.id)["decide_transfer_overdue"]
    # 30 Dec + 3 days = Saturday 2 January 2027, a rest day by the weekend guess: Monday the 4th.
    assert decide.due_at == timer.due_at == datetime(2027, 1, 4, 23, 59, 59, tzinfo=SHANGHAI)
    assert decide.due_provisional and timer.due_provisional
