"""立案监督 driven through the engine on the real diagram with the demo users: every path.

立案协助 asks for it with the `filing_supervision_requested` message (written here to the outbox as
case_transfer's throw would write it, then delivered); a prosecutor may also open it on a case the
procuratorate takes part in. Only a SAMR request is answered with `filing_supervision_concluded`,
thrown from SAMR's pool once SAMR's liaison has signed for what ends it. Liaisons have 24 hours.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from engine import Forbidden, NotFound, create_case, deliver_pending, start_mechanism, verify_audit
from engine.casework.cases import startable_mechanisms
from engine.casework.documents import case_documents
from engine.worker.timers import fire_due_timers
from models import Agency, CaseParticipant, HumanTask, Message, ProcessInstance, Timer
from tests.conftest import SHANGHAI
from tests.helpers import (
    APPROVE_HANDOFF,
    APPROVE_TRANSFER,
    FACTS_500K,
    RECEIPT,
    act,
    event_types,
    instance_of,
    open_task,
    open_tasks,
)
from tests.workflows.test_filing_supervision_diagram import (  # the same form data as the diagram's paths
    CLOSE,
    ESCALATE,
    EXAMINE,
    EXPLAIN,
    FAIL,
    FILED,
    FILED_SUMMARY,
    HOLD,
    NOTICE,
    ORDER,
    OUTCOME,
    RECEIVED,
    RELEASE,
    REVIEW_OVERDUE,
    SAMR_REQUEST,
)

# The test clock starts on Monday 2 March 2026, 09:00 in Shanghai.
SEVEN_DAYS = datetime(2026, 3, 9, 23, 59, 59, tzinfo=SHANGHAI)
FIFTEEN_DAYS_FROM_THURSDAY = datetime(2026, 3, 20, 23, 59, 59, tzinfo=SHANGHAI)
TEN_DAYS_FROM_THURSDAY = datetime(2026, 3, 16, 23, 59, 59, tzinfo=SHANGHAI)  # 15 March is a Sunday


@pytest.fixture
def case(session, users):
    return create_case(session, users["samr_handler"], "某公司技术秘密被侵犯案")


def supervision(session, case_id) -> ProcessInstance:
    return session.scalars(
        select(ProcessInstance).where(ProcessInstance.case_id == case_id).order_by(ProcessInstance.id)
        .execution_options(populate_existing=True)
    ).all()[-1]


def request_supervision(session, case, clock, payload) -> ProcessInstance:
    """What case_transfer's throw leaves in the outbox, delivered by the worker's pass."""
    transfer = instance_of(session, case.id)
    session.add(Message(name="filing_supervision_requested", case_id=case.id, correlation={},
                        payload=payload, source_instance_id=transfer.id, status="pending",
                        created_at=clock.now(), available_at=clock.now()))
    session.commit()
    assert deliver_pending(session) == 1
    started = supervision(session, case.id)
    assert started.process_model.key == "filing_supervision" and started.id != transfer.id
    return started


def timer_status(session, instance, bpmn_id: str = "filing_overdue") -> str:
    [timer] = session.scalars(select(Timer).where(Timer.instance_id == instance.id, Timer.bpmn_id == bpmn_id)
                              .execution_options(populate_existing=True))
    return timer.status


def concluded(session, case_id) -> list[Message]:
    return list(session.scalars(select(Message).where(
        Message.case_id == case_id, Message.name == "filing_supervision_concluded")))


def liaison_step(session, case_id, bpmn_id: str, lane: str, handoff: str, clock) -> HumanTask:
    """The open liaison task: in its lane, a handoff in its direction, due 24 hours after it opened."""
    task = open_task(session, case_id, bpmn_id)
    assert (task.lane, task.handoff, task.deadline_rule, task.due_at) == (
        lane, handoff, "24h", clock.now() + timedelta(hours=24)), bpmn_id
    return task


def samr_takes_note(session, users, case, instance) -> Message:
    """SAMR's liaison signs for the notice, its handler takes note: only then is the transfer
    answered, and the supervision ends. The answer, still in the outbox."""
    act(session, users["samr_liaison"], case.id, "accept_supervision_notice", RECEIVED)
    assert concluded(session, case.id) == [], "SAMR's handler has not taken note yet"
    act(session, users["samr_handler"], case.id, "acknowledge_supervision_notice", {"acknowledged": True})
    session.refresh(instance)
    assert instance.status == "completed"
    [message] = concluded(session, case.id)
    return message


def ask_police(session, users, case, clock) -> None:
    """The prosecutor asks, both liaisons pass it on, the police explain after three days."""
    examine = open_task(session, case.id, "examine_supervision")
    assert (examine.lane, examine.due_at) == ("procuratorate.handler", None)
    act(session, users["procuratorate_handler"], case.id, "examine_supervision", EXAMINE)
    liaison_step(session, case.id, "send_explain_request", "procuratorate.liaison", "outgoing", clock)
    act(session, users["procuratorate_liaison"], case.id, "send_explain_request", RELEASE)
    liaison_step(session, case.id, "accept_explain_request", "police.liaison", "incoming", clock)
    act(session, users["police_liaison"], case.id, "accept_explain_request", RECEIVED)
    explain = open_task(session, case.id, "explain_non_filing")
    assert (explain.lane, explain.deadline_rule, explain.due_at) == ("police.handler", "7d", SEVEN_DAYS)
    clock.advance(days=3)
    act(session, users["police_handler"], case.id, "explain_non_filing", EXPLAIN)
    act(session, users["police_liaison"], case.id, "send_explanation", RELEASE)
    act(session, users["procuratorate_liaison"], case.id, "receive_explanation", RECEIVED)
    assert open_task(session, case.id, "assess_explanation").lane == "procuratorate.handler"


def order_filing(session, users, case, clock) -> HumanTask:
    ask_police(session, users, case, clock)
    act(session, users["procuratorate_handler"], case.id, "assess_explanation", FAIL)
    order = open_task(session, case.id, "issue_filing_order")
    assert order.lane == "procuratorate.head"
    act(session, users["procuratorate_head"], case.id, "issue_filing_order", ORDER)
    act(session, users["procuratorate_liaison"], case.id, "send_filing_order", RELEASE)
    act(session, users["police_liaison"], case.id, "accept_filing_order", RECEIVED)
    filing = open_task(session, case.id, "file_on_notice")
    assert (filing.title, filing.lane, filing.deadline_rule, filing.due_at) == (
        "立案", "police.head", "15d", FIFTEEN_DAYS_FROM_THURSDAY)
    return filing


def test_samr_request_filing_order_and_police_file(session, users, case, clock):
    instance = request_supervision(session, case, clock, SAMR_REQUEST)
    order_filing(session, users, case, clock)
    docs = {d.kind: d for d in case_documents(session, users["procuratorate_handler"], case.id)}
    request, order = docs["explain_request"], docs["filing_order"]
    assert (request.number, request.issuing_agency.code, request.recipient_agency.code) == (
        "东检要说〔2026〕1号", "procuratorate", "police")
    assert set(request.content["steps"]) == {"examine_supervision"}
    assert (order.number, order.recipient_agency.code, order.content["signed_by"]) == (
        "东检通立〔2026〕1号", "police", users["procuratorate_head"].display_name)
    assert order.content["steps"]["issue_filing_order"]["order_reasons"] == ORDER["order_reasons"]
    assert {d.kind for d in case_documents(session, users["police_head"], case.id)} >= {"explain_request", "filing_order"}

    filed = act(session, users["police_head"], case.id, "file_on_notice", FILED)
    # The 立案决定书 is numbered by the system from the police's own series, recorded on the decision...
    [decision] = [d for d in case_documents(session, users["police_head"], case.id)
                  if d.kind == "filing_decision_record"]
    assert (decision.number, decision.issuing_agency.code, decision.recipient_agency) == (
        "东公立字〔2026〕1号", "police", None)
    assert filed.result == {**FILED, "filing_number": "东公立字〔2026〕1号"}
    # ...and quoted by the police's 立案通知书 to SAMR, the organ that transferred the case.
    [notice] = [d for d in case_documents(session, users["samr_handler"], case.id) if d.kind == "filing_notice"]
    assert (notice.number, notice.issuing_agency.code, notice.recipient_agency.code) == (
        "东公立〔2026〕1号", "police", "samr")
    assert list(notice.content["steps"]) == ["file_on_notice"], "SAMR reads the filing, not the supervision"
    assert notice.content["steps"]["file_on_notice"]["filing_number"] == "东公立字〔2026〕1号"
    liaison_step(session, case.id, "send_filing_report", "police.liaison", "outgoing", clock)
    act(session, users["police_liaison"], case.id, "send_filing_report", RELEASE)
    liaison_step(session, case.id, "receive_filing_report", "procuratorate.liaison", "incoming", clock)
    liaison_step(session, case.id, "send_filing_notice", "police.liaison", "outgoing", clock)
    act(session, users["procuratorate_liaison"], case.id, "receive_filing_report", RECEIVED)
    record = open_task(session, case.id, "record_outcome")
    assert record.lane == "procuratorate.handler"
    act(session, users["procuratorate_handler"], case.id, "record_outcome", OUTCOME)
    assert concluded(session, case.id) == [], "the transfer hears it from SAMR, not from the procuratorate"

    clock.advance(hours=2)
    act(session, users["police_liaison"], case.id, "send_filing_notice", RELEASE)
    liaison_step(session, case.id, "accept_police_filing_notice", "samr.liaison", "incoming", clock)
    assert concluded(session, case.id) == []
    clock.advance(hours=1)
    signed = clock.now()
    act(session, users["samr_liaison"], case.id, "accept_police_filing_notice", RECEIVED)

    session.refresh(instance)
    assert instance.status == "completed"
    [message] = concluded(session, case.id)
    # The time SAMR received the police's 立案通知书 goes along: 立案协助's handover runs from it.
    assert (message.source_instance_id, message.status, message.payload) == (
        instance.id, "pending", {"supervision_outcome": "filed_on_notice", "supervision_summary": FILED_SUMMARY,
                                 "legal_events": {"filing_notice_received": signed.isoformat()}})
    session.refresh(case)
    assert {p.agency.code for p in case.participants} == {"samr", "police", "procuratorate"}
    events = event_types(session, case.id)
    assert events.count("handoff_approved") == 10  # five crossings, each passed by two liaisons
    assert events.count("document_generated") == 4
    assert "document_number_entered" not in events
    assert "message_delivered" in events and events[-2:] == ["message_sent", "instance_completed"]
    assert verify_audit(session, case.id) == []


def test_fifteen_days_without_filing_are_escalated(session, users, case, clock):
    instance = request_supervision(session, case, clock, SAMR_REQUEST)
    filing = order_filing(session, users, case, clock)
    clock.set(FIFTEEN_DAYS_FROM_THURSDAY - timedelta(seconds=1))
    fire_due_timers(session)  # the transfer's own timers may be due by now
    assert timer_status(session, instance) == "pending", "the fifteenth day is the police's to the end"
    clock.advance(seconds=1)
    assert fire_due_timers(session) == 1
    assert timer_status(session, instance) == "fired"
    session.refresh(filing)
    assert filing.state == "cancelled"
    escalation = open_task(session, case.id, "record_escalation")
    assert (escalation.lane, escalation.agency.code) == ("procuratorate.handler", "procuratorate")
    act(session, users["procuratorate_handler"], case.id, "record_escalation", ESCALATE)
    # SAMR is told through both liaisons, and its handler takes note, before the transfer hears it.
    liaison_step(session, case.id, "send_outcome_notice", "procuratorate.liaison", "outgoing", clock)
    act(session, users["procuratorate_liaison"], case.id, "send_outcome_notice", RELEASE)
    liaison_step(session, case.id, "accept_supervision_notice", "samr.liaison", "incoming", clock)
    message = samr_takes_note(session, users, case, instance)
    assert message.payload == {"supervision_outcome": "not_filed_on_notice",
                               "supervision_summary": ESCALATE["supervision_summary"]}
    events = event_types(session, case.id)
    assert {"timer_fired", "task_cancelled"} <= set(events)
    assert verify_audit(session, case.id) == []


def test_reasons_hold_on_an_overdue_review_tell_samr_within_ten_days(session, users, case, clock):
    instance = request_supervision(session, case, clock, REVIEW_OVERDUE)
    ask_police(session, users, case, clock)
    act(session, users["procuratorate_handler"], case.id, "assess_explanation", HOLD)
    notify = open_task(session, case.id, "notify_samr")
    assert (notify.lane, notify.deadline_rule, notify.due_at) == (
        "procuratorate.handler", "10d", TEN_DAYS_FROM_THURSDAY)
    act(session, users["procuratorate_handler"], case.id, "notify_samr", NOTICE)
    act(session, users["procuratorate_liaison"], case.id, "send_supervision_notice", RELEASE)
    receipts = {t.bpmn_id: t.lane for t in open_tasks(session, case.id) if t.handoff == "incoming"}
    assert receipts == {"accept_assessment": "police.liaison", "accept_supervision_notice": "samr.liaison"}
    act(session, users["police_liaison"], case.id, "accept_assessment", RECEIVED)
    act(session, users["samr_liaison"], case.id, "accept_supervision_notice", RECEIVED)
    ack = open_task(session, case.id, "acknowledge_supervision_notice")
    assert ack.lane == "samr.handler"
    act(session, users["samr_handler"], case.id, "acknowledge_supervision_notice", {"acknowledged": True})
    session.refresh(instance)
    assert instance.status == "completed"
    assert concluded(session, case.id) == [], "the transfer asked nothing, it is told nothing"
    assert [d.kind for d in case_documents(session, users["samr_handler"], case.id)] == ["explain_request"]
    assert verify_audit(session, case.id) == []


def test_closing_a_samr_request_answers_samr_and_the_transfer(session, users, case, clock):
    instance = request_supervision(session, case, clock, SAMR_REQUEST)
    act(session, users["procuratorate_handler"], case.id, "examine_supervision", CLOSE)
    notify = open_task(session, case.id, "notify_samr")
    assert notify.due_at == datetime(2026, 3, 12, 23, 59, 59, tzinfo=SHANGHAI)
    act(session, users["procuratorate_handler"], case.id, "notify_samr", NOTICE)
    act(session, users["procuratorate_liaison"], case.id, "send_supervision_notice", RELEASE)
    assert [t.bpmn_id for t in open_tasks(session, case.id) if t.instance_id == instance.id] == [
        "accept_supervision_notice"], "the police were never asked"
    message = samr_takes_note(session, users, case, instance)
    assert message.payload == {"supervision_outcome": "reasons_hold",
                               "supervision_summary": NOTICE["supervision_summary"]}
    assert case_documents(session, users["samr_handler"], case.id) == []


def join(session, case, code: str) -> None:
    """The case has reached another agency (the procuratorate: e.g. the copy of the transfer letter)."""
    agency = session.scalar(select(Agency).where(Agency.code == code))
    case.participants.append(CaseParticipant(agency_id=agency.id, joined_at=case.created_at))
    session.commit()


def test_a_prosecutor_opens_and_closes_a_supervision(session, users, case, clock):
    with pytest.raises(NotFound):  # not before the case reached the procuratorate
        start_mechanism(session, users["procuratorate_handler"], case.id, "filing_supervision")
    join(session, case, "procuratorate")
    assert "filing_supervision" in [m.key for m in startable_mechanisms(session, users["procuratorate_handler"], case)]
    assert "filing_supervision" not in [m.key for m in startable_mechanisms(session, users["samr_handler"], case)]
    with pytest.raises(Forbidden):
        start_mechanism(session, users["procuratorate_liaison"], case.id, "filing_supervision")
    instance = start_mechanism(session, users["procuratorate_handler"], case.id, "filing_supervision")
    act(session, users["procuratorate_handler"], case.id, "examine_supervision", CLOSE)
    session.refresh(instance)
    assert instance.status == "completed"
    assert concluded(session, case.id) == []
    assert session.scalars(select(Message).where(Message.source_instance_id == instance.id)).all() == []


def test_a_prosecutors_filing_order_is_followed_without_telling_the_transfer(session, users, case, clock):
    join(session, case, "procuratorate")
    instance = start_mechanism(session, users["procuratorate_handler"], case.id, "filing_supervision")
    order_filing(session, users, case, clock)
    clock.advance(days=2)
    act(session, users["police_head"], case.id, "file_on_notice", FILED)
    act(session, users["police_liaison"], case.id, "send_filing_report", RELEASE)
    act(session, users["procuratorate_liaison"], case.id, "receive_filing_report", RECEIVED)
    act(session, users["procuratorate_handler"], case.id, "record_outcome", OUTCOME)
    session.refresh(instance)
    assert instance.status == "completed"
    assert concluded(session, case.id) == []
    assert "filing_notice" not in {d.kind for d in case_documents(session, users["police_head"], case.id)}
    [timer] = session.scalars(select(Timer).where(Timer.instance_id == instance.id, Timer.bpmn_id == "filing_overdue"))
    assert (timer.bpmn_id, timer.rule, timer.due_at, timer.status) == (
        "filing_overdue", "15d", FIFTEEN_DAYS_FROM_THURSDAY, "cancelled")


def test_the_transfers_overdue_review_opens_a_supervision(session, users, case, clock):
    """The real case_transfer throws the request when the police review runs late."""
    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    act(session, users["samr_liaison"], case.id, "approve_outgoing_handoff", APPROVE_HANDOFF)
    act(session, users["police_liaison"], case.id, "accept_receipt", RECEIPT)
    # The police's period to decide sits on the head's decision, from acceptance.
    clock.set(open_task(session, case.id, "decide_filing").due_at)
    fire_due_timers(session)
    [request] = session.scalars(select(Message).where(Message.name == "filing_supervision_requested"))
    assert request.payload == REVIEW_OVERDUE
    assert deliver_pending(session) >= 1
    started = supervision(session, case.id)
    assert started.process_model.key == "filing_supervision"
    examine = open_task(session, case.id, "examine_supervision")
    assert (examine.lane, examine.agency.code) == ("procuratorate.handler", "procuratorate")
    assert open_task(session, case.id, "review_case").state == "open", "the review goes on"
