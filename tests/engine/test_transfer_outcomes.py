"""立案协助 after the police decide, on the real diagram through the engine: reconsideration,
SAMR's request for filing supervision and its conclusion, the handover of seized items, and the
reverse linkage back to an administrative penalty.

The procuratorate's side (workflows/filing_supervision.bpmn) is tested with its own diagram; here
its answer `filing_supervision_concluded` is put in the outbox as that mechanism would.
"""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from engine import deliver_pending, verify_audit
from models import Document, Message
from tests.conftest import SHANGHAI
from tests.helpers import (
    ACK,
    FILE,
    HANDOVER,
    NOT_FILE,
    RECEIVED,
    RELEASE,
    act,
    event_types,
    hand_over,
    instance_of,
    open_task,
    open_tasks,
    police_decide,
    transferred,
)

RECONSIDER = {"acknowledged": True, "request_reconsideration": True,
              "reconsideration_grounds": "鉴定意见证明损失已达50万元",
              "request_supervision": False, "samr_request_reasons": "", "note": ""}
UPHELD = {"reconsideration_outcome": "upheld", "reconsideration_reasons": "损失数额计算依据不足"}
FILED = {"reconsideration_outcome": "filed", "reconsideration_reasons": "经复议，符合立案条件"}
ASK_SUPERVISION = {"request_supervision": True, "samr_request_reasons": "复议理由不能成立，请依法监督"}
PENALTY = {"administrative_measures": "依法立案调查，拟作出行政处罚"}


def end_of(day: int) -> datetime:
    return datetime(2026, 3, day, 23, 59, 59, tzinfo=SHANGHAI)


def not_filed(session, users):
    case = transferred(session, users, "某公司技术秘密案")
    police_decide(session, users, case.id, NOT_FILE)
    return case


def mine(session, case_id):
    """The transfer instance's open tasks (a filing_supervision instance may run beside it)."""
    instance = instance_of(session, case_id)
    return sorted((t.bpmn_id, t.lane) for t in open_tasks(session, case_id) if t.instance_id == instance.id)


def kinds(session, case_id):
    return [d.kind for d in session.scalars(select(Document).where(Document.case_id == case_id).order_by(Document.id))]


def reconsidered(session, users, clock, decision):
    case = not_filed(session, users)
    ack = open_task(session, case.id, "acknowledge_decision")
    assert (ack.lane, ack.deadline_rule, ack.due_at) == ("samr.handler", "3d", end_of(5))
    act(session, users["samr_handler"], case.id, "acknowledge_decision", RECONSIDER)
    act(session, users["samr_liaison"], case.id, "approve_reconsideration_handoff", RELEASE)
    clock.set(datetime(2026, 3, 3, 10, 0, tzinfo=SHANGHAI))
    act(session, users["police_liaison"], case.id, "accept_reconsideration_request", RECEIVED)
    decide = open_task(session, case.id, "decide_reconsideration")
    assert (decide.lane, decide.deadline_rule, decide.due_at) == ("police.head", "3d", end_of(6))
    act(session, users["police_head"], case.id, "decide_reconsideration", decision)
    assert kinds(session, case.id)[-1] == "reconsideration_decision"
    act(session, users["police_liaison"], case.id, "approve_reconsideration_decision_handoff", RELEASE)
    act(session, users["samr_liaison"], case.id, "accept_reconsideration_decision", RECEIVED)
    return case


def test_not_filed_documents_and_reverse_linkage(session, users):
    case = not_filed(session, users)
    assert kinds(session, case.id) == ["transfer_letter", "receipt", "non_filing_notice", "returned_materials_receipt"]
    act(session, users["samr_handler"], case.id, "acknowledge_decision", ACK)
    assert mine(session, case.id) == [("record_administrative_penalty", "samr.handler")]
    act(session, users["samr_handler"], case.id, "record_administrative_penalty", PENALTY)
    assert instance_of(session, case.id).status == "completed"


def test_reconsideration_needs_grounds(session, users):
    from engine import InvalidInput, claim_task, complete_task

    case = not_filed(session, users)
    task = open_task(session, case.id, "acknowledge_decision")
    claim_task(session, users["samr_handler"], task.id)
    with pytest.raises(InvalidInput) as err:
        complete_task(session, users["samr_handler"], task.id, {**RECONSIDER, "reconsideration_grounds": ""})
    assert "reconsideration_grounds" in err.value.errors


def test_reconsideration_files_the_case_and_items_are_handed_over(session, users, clock):
    case = reconsidered(session, users, clock, FILED)
    # Filing on reconsideration is a 立案决定书 too, numbered by the system; the 复议决定书 quotes it.
    record, decision = (session.scalars(select(Document).where(Document.case_id == case.id, Document.kind == kind)).one()
                        for kind in ("filing_decision_record", "reconsideration_decision"))
    assert record.number == "东公立字〔2026〕1号"
    assert decision.content["steps"]["decide_reconsideration"] == {**FILED, "filing_number": record.number}
    handover = open_task(session, case.id, "prepare_handover")
    assert (handover.lane, handover.deadline_rule) == ("samr.handler", "3d")
    hand_over(session, users, case.id, {"discrepancies_found": True, "discrepancies": "配方打印件实收14页"})
    assert instance_of(session, case.id).status == "completed"
    [listing] = session.scalars(select(Document).where(Document.case_id == case.id, Document.kind == "handover_list"))
    assert listing.content["steps"] == {
        "prepare_handover": HANDOVER,
        "confirm_handover": {"discrepancies_found": True, "discrepancies": "配方打印件实收14页"}}
    assert verify_audit(session, case.id) == []


def test_upheld_then_no_supervision_returns_the_case_to_samr(session, users, clock):
    case = reconsidered(session, users, clock, UPHELD)
    consider = open_task(session, case.id, "consider_supervision")
    assert (consider.lane, consider.deadline_rule) == ("samr.handler", "3d")
    act(session, users["samr_handler"], case.id, "consider_supervision",
        {"request_supervision": False, "samr_request_reasons": ""})
    act(session, users["samr_handler"], case.id, "record_administrative_penalty", PENALTY)
    assert instance_of(session, case.id).status == "completed"
    assert not session.scalars(select(Message).where(Message.name == "filing_supervision_requested")).all()


def conclude(session, case_id, outcome):
    """What filing_supervision sends back when it has concluded a SAMR request."""
    at = datetime(2026, 3, 20, 9, 0, tzinfo=SHANGHAI)
    session.add(Message(name="filing_supervision_concluded", case_id=case_id, correlation={},
                        payload={"supervision_outcome": outcome, "supervision_summary": "检察院审查结论"},
                        status="pending", created_at=at, available_at=at))
    session.commit()


def supervision_requested(session, users, clock):
    case = reconsidered(session, users, clock, UPHELD)
    act(session, users["samr_handler"], case.id, "consider_supervision", ASK_SUPERVISION)
    handoff = open_task(session, case.id, "approve_supervision_handoff")
    assert (handoff.lane, handoff.handoff) == ("samr.liaison", "outgoing")
    act(session, users["samr_liaison"], case.id, "approve_supervision_handoff", RELEASE)
    [sent] = session.scalars(select(Message).where(
        Message.case_id == case.id, Message.name == "filing_supervision_requested"))
    assert sent.payload == {"supervision_trigger": "samr_request", "non_filing_reasons": UPHELD["reconsideration_reasons"],
                            "samr_request_reasons": ASK_SUPERVISION["samr_request_reasons"]}
    assert mine(session, case.id) == [], "SAMR waits for the procuratorate"
    clock.set(datetime(2026, 3, 20, 9, 0, tzinfo=SHANGHAI))
    return case


def test_supervision_finds_the_reasons_hold(session, users, clock):
    case = supervision_requested(session, users, clock)
    conclude(session, case.id, "reasons_hold")
    deliver_pending(session)
    assert mine(session, case.id) == [("record_administrative_penalty", "samr.handler")]
    act(session, users["samr_handler"], case.id, "record_administrative_penalty", PENALTY)
    assert instance_of(session, case.id).status == "completed"
    assert "message_delivered" in event_types(session, case.id)


def test_supervision_gets_the_case_filed(session, users, clock):
    case = supervision_requested(session, users, clock)
    conclude(session, case.id, "filed_on_notice")
    deliver_pending(session)
    assert mine(session, case.id) == [("prepare_handover", "samr.handler")]
    hand_over(session, users, case.id)
    assert instance_of(session, case.id).status == "completed"


def test_police_still_do_not_file_after_the_notice(session, users, clock):
    case = supervision_requested(session, users, clock)
    conclude(session, case.id, "not_filed_on_notice")
    deliver_pending(session)
    assert mine(session, case.id) == [("note_supervision_outcome", "samr.handler")]
    act(session, users["samr_handler"], case.id, "note_supervision_outcome", {"note": "检察院已报上级院纠正"})
    assert instance_of(session, case.id).status == "completed"
    assert verify_audit(session, case.id) == []


def test_filed_directly_then_handover(session, users):
    case = transferred(session, users, "立案移交")
    police_decide(session, users, case.id, FILE)
    act(session, users["samr_handler"], case.id, "prepare_handover", HANDOVER)
    act(session, users["samr_liaison"], case.id, "approve_handover_handoff", RELEASE)
    accept = open_task(session, case.id, "accept_handover")
    assert (accept.lane, accept.handoff) == ("police.liaison", "incoming")
    act(session, users["police_liaison"], case.id, "accept_handover", RECEIVED)
    assert open_task(session, case.id, "confirm_handover").lane == "police.handler"
    act(session, users["police_handler"], case.id, "confirm_handover", {"discrepancies_found": False, "discrepancies": ""})
    act(session, users["police_liaison"], case.id, "approve_handover_confirmation_handoff", RELEASE)
    act(session, users["samr_liaison"], case.id, "accept_handover_confirmation", RECEIVED)
    assert kinds(session, case.id) == ["transfer_letter", "receipt", "filing_decision_record", "filing_notice",
                                       "handover_list"]
    assert instance_of(session, case.id).status == "completed"
