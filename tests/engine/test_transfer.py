"""The 立案协助 first cut driven through the engine on the real diagram, every path."""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from engine import create_case, verify_audit
from tests.conftest import SHANGHAI
from tests.helpers import (
    ACK,
    APPROVE_HANDOFF,
    APPROVE_TRANSFER,
    FACTS_500K,
    FILE,
    NOT_FILE,
    RECEIPT,
    REVIEW_FILE,
    act,
    event_types,
    hand_over,
    instance_of,
    notify_filing,
    open_task,
    open_tasks,
    police_decide,
    transferred,
)


def lanes(session, case_id):
    return [(t.bpmn_id, t.lane) for t in open_tasks(session, case_id)]


def test_transfer_to_filing(session, users, clock):
    case = create_case(session, users["samr_handler"], "某公司配方被盗案")
    assert case.number.startswith("LD2026-")
    assert lanes(session, case.id) == [("register_facts", "samr.handler")]

    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    decide = open_task(session, case.id, "decide_transfer")
    assert decide.lane == "samr.head"
    # Decree 310: 3 days, start day not counted: Monday 2 March → end of Thursday 5 March.
    assert decide.due_at == datetime(2026, 3, 5, 23, 59, 59, tzinfo=SHANGHAI)
    workflow_data = json.loads(instance_of(session, case.id).state_json)
    assert "summary" not in json.dumps(workflow_data, ensure_ascii=False)
    assert "criminal" in json.dumps(workflow_data)  # the DMN's verdict travels, the facts do not

    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    clock.advance(hours=1)
    handoff = open_task(session, case.id, "approve_outgoing_handoff")
    assert (handoff.lane, handoff.handoff) == ("samr.liaison", "outgoing")
    act(session, users["samr_liaison"], case.id, "approve_outgoing_handoff", APPROVE_HANDOFF)

    receipt = open_task(session, case.id, "accept_receipt")
    assert (receipt.lane, receipt.handoff) == ("police.liaison", "incoming")
    assert receipt.due_at == clock.now().replace(microsecond=0) + (receipt.due_at - clock.now().replace(microsecond=0))
    participants = {p.agency.code for p in case.participants}
    session.refresh(case)
    # The procuratorate is copied on the transfer letter: it observes the case, works on nothing.
    assert {(p.agency.code, p.role) for p in case.participants} == {
        ("samr", "party"), ("police", "party"), ("procuratorate", "observer")}
    assert participants  # samr from creation

    act(session, users["police_liaison"], case.id, "accept_receipt", RECEIPT)
    act(session, users["police_handler"], case.id, "review_case", REVIEW_FILE)
    act(session, users["police_head"], case.id, "decide_filing", FILE)
    notify_filing(session, users, case.id)
    # Filed: nothing to object to, the handler prepares the handover.
    assert lanes(session, case.id) == [("prepare_handover", "samr.handler")]
    hand_over(session, users, case.id)

    instance = instance_of(session, case.id)
    assert instance.status == "completed" and instance.completed_at is not None
    assert open_tasks(session, case.id) == []
    events = event_types(session, case.id)
    assert events[:3] == ["case_created", "instance_started", "task_created"]
    assert events.count("task_completed") == 14
    assert events.count("task_claimed") == 14
    # Every crossing: the sending liaison releases, the receiving liaison takes in.
    assert events.count("handoff_approved") == 8
    assert events.count("task_cancelled") == 1, "the head's optional extension ends with the review"
    assert events[-1] == "instance_completed"
    assert verify_audit(session, case.id) == []


def test_police_side_never_sees_the_facts(session, users):
    case = create_case(session, users["samr_handler"], "保密测试")
    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    act(session, users["samr_liaison"], case.id, "approve_outgoing_handoff", APPROVE_HANDOFF)
    from engine.runtime.instances import load

    workflow = load(session, instance_of(session, case.id))
    police = [sp for sp in workflow.subprocesses.values() if sp.spec.name == "police_transfer"]
    assert len(police) == 1, "the police pool was started by the transfer message"
    data_seen = [task.data for task in police[0].tasks.values()]
    assert any("transfer" in data for data in data_seen)
    for data in data_seen:
        assert set(data) <= {"transfer", "case_id", "supplement_rounds", "review_extensions"}, \
            f"police data holds {sorted(data)}"
        if "transfer" in data:
            assert set(data["transfer"]) == {"case_id", "threshold", "especially_serious"}
            assert data["transfer"]["threshold"] == "criminal"


def test_head_refuses_transfer(session, users):
    case = create_case(session, users["samr_handler"], "不移送")
    act(session, users["samr_handler"], case.id, "register_facts", {**FACTS_500K, "loss_amount": 1000})
    act(session, users["samr_head"], case.id, "decide_transfer",
        {"transfer_approved": False, "reasons": "未达到追诉标准", "administrative_penalty": False})
    assert instance_of(session, case.id).status == "completed"
    assert open_tasks(session, case.id) == []
    assert "document_generated" not in event_types(session, case.id), "no transfer letter"
    session.refresh(case)
    # The police never saw the case; the procuratorate is told of the refusal and observes it.
    assert {(p.agency.code, p.role) for p in case.participants} == {("samr", "party"), ("procuratorate", "observer")}
    assert "transfer_refused_reported" in event_types(session, case.id)
    decision = next(t for t in case_tasks_done(session, case.id) if t.bpmn_id == "decide_transfer")
    assert decision.result["reasons"] == "未达到追诉标准"


def case_tasks_done(session, case_id):
    from engine import case_tasks
    from models import Case

    return [t for t in case_tasks(session, session.get(Case, case_id)) if t.state == "completed"]


def test_refusal_needs_reasons(session, users):
    from engine import InvalidInput, claim_task, complete_task

    case = create_case(session, users["samr_handler"], "缺理由")
    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    task = open_task(session, case.id, "decide_transfer")
    claim_task(session, users["samr_head"], task.id)
    with pytest.raises(InvalidInput) as err:
        complete_task(session, users["samr_head"], task.id, {"transfer_approved": False, "administrative_penalty": False})
    assert "reasons" in err.value.errors


def returned_to_head(session, users, times: int):
    case = create_case(session, users["samr_handler"], "退回")
    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    for _ in range(times):
        act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
        act(session, users["samr_liaison"], case.id, "approve_outgoing_handoff",
            {"handoff_approved": False, "comment": "材料不全，退回"})
    return case


def test_the_liaison_return_loop_is_bounded(session, users):
    case = returned_to_head(session, users, 5)
    assert open_tasks(session, case.id) == []
    assert instance_of(session, case.id).status == "completed"
    assert event_types(session, case.id).count("handoff_rejected") == 5
    assert "document_generated" not in event_types(session, case.id)


def test_liaison_returns_transfer_to_head(session, users):
    case = returned_to_head(session, users, 3)
    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    act(session, users["samr_liaison"], case.id, "approve_outgoing_handoff", APPROVE_HANDOFF)
    assert lanes(session, case.id) == [("accept_receipt", "police.liaison")]
    events = event_types(session, case.id)
    assert events.count("handoff_rejected") == 3 and events.count("handoff_approved") == 1


def test_police_do_not_file(session, users):
    case = transferred(session, users, "不予立案")
    police_decide(session, users, case.id, NOT_FILE)
    state = json.loads(instance_of(session, case.id).state_json)
    assert '"decision":"not_file"' in json.dumps(state, separators=(",", ":"))
    act(session, users["samr_handler"], case.id, "acknowledge_decision", ACK)
    # Reverse linkage: no reconsideration asked, the case returns to SAMR for a penalty.
    penalty = open_task(session, case.id, "record_administrative_penalty")
    assert penalty.lane == "samr.handler"
    act(session, users["samr_handler"], case.id, "record_administrative_penalty",
        {"administrative_measures": "依法立案调查，拟作出行政处罚"})
    assert instance_of(session, case.id).status == "completed"
