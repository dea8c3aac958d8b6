"""维权联动 driven through the engine on the real diagram with the demo users: every path, with the
filing period's clock stopped during an appraisal and re-armed by an extension."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from engine import create_case, deliver_pending, verify_audit
from engine.casework.documents import case_documents
from engine.worker.timers import fire_due_timers
from models import AuditEvent, Message, ProcessInstance, Timer, case_chain
from tests.conftest import SHANGHAI
from tests.helpers import act, event_types, open_task, open_tasks

COMPLAINT = {
    "complainant": "某精密机械有限公司", "complainant_contact": "法务部 张经理 0635-1234567",
    "received_on": "2026-03-02", "suspected_infringer": "某新材料有限公司",
    "secret_described": "主轴热处理工艺参数表（绝密）", "evidence_offered": "保密协议、邮件截图。",
}
APPRAISAL = {"appraisal_kind": "appraisal", "institution": "某司法鉴定所", "commissioned_on": "2026-03-05",
             "completed_on": "2026-03-16", "conclusion": "涉案参数不为公众所知悉。"}
NOTIFIED = {"notified_person": "张经理", "channel": "written", "notified_on": "2026-03-26"}
REFERRAL = {"parties": "某精密机械有限公司；某新材料有限公司", "holder_contact": "0635-1234567",
            "preservation_expected": True}


def verify(outcome: str) -> dict:
    return {"verification_outcome": outcome, "opinion": "经核查，提出意见。"}


def at(month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=SHANGHAI)


def end_of(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 23, 59, 59, tzinfo=SHANGHAI)


@pytest.fixture
def case(session, users):
    # Started Monday 2 March 2026, 09:00, the day the complaint was received: 15 working days end on
    # Monday 23 March.
    return create_case(session, users["samr_handler"], "某精密机械公司投诉案", mechanism="rights_protection")


def instance_of(session, case_id) -> ProcessInstance:
    return session.scalars(select(ProcessInstance).where(ProcessInstance.case_id == case_id)
                           .order_by(ProcessInstance.id).execution_options(populate_existing=True)).first()


def due(session, case_id, bpmn_id) -> tuple:
    task = open_task(session, case_id, bpmn_id)
    return task.lane, task.deadline_rule, task.due_at


def timer(session, instance_id, bpmn_id) -> Timer:
    rows = session.scalars(select(Timer).where(Timer.instance_id == instance_id, Timer.bpmn_id == bpmn_id)
                           .order_by(Timer.id).execution_options(populate_existing=True)).all()
    return rows[-1]


def days_used(session, case_id) -> list[int]:
    """The working days of the filing period used, as each counting task was completed."""
    events = session.scalars(select(AuditEvent).where(
        AuditEvent.chain == case_chain(case_id), AuditEvent.event_type == "task_completed").order_by(AuditEvent.seq))
    return [e.detail["variables"]["filing_days_used"] for e in events
            if "filing_days_used" in e.detail.get("variables", {})]


def test_the_period_stops_for_an_appraisal_and_an_extension_rearms_it(session, users, case, clock):
    instance = instance_of(session, case.id)
    # Registering records the complaint's receipt: the period runs from that date, not from here.
    assert due(session, case.id, "register_complaint") == ("samr.handler", None, None)
    act(session, users["samr_handler"], case.id, "register_complaint", COMPLAINT)
    assert due(session, case.id, "verify_complaint") == ("samr.handler", "15wd", end_of(3, 23))
    assert (timer(session, instance.id, "verify_overdue").due_at,
            timer(session, instance.id, "verify_overdue").rule) == (end_of(3, 23), "15wd")

    # Thursday: an appraisal is needed. Tue, Wed, Thu are used; the clock stops.
    clock.set(at(3, 5))
    act(session, users["samr_handler"], case.id, "verify_complaint", verify("appraisal"))
    assert due(session, case.id, "await_appraisal") == ("samr.handler", None, None)
    assert timer(session, instance.id, "verify_overdue").status == "cancelled"
    assert session.scalars(select(Timer).where(Timer.instance_id == instance.id,
                                               Timer.status == "pending")).all() == []

    # The opinion arrives eleven days later: 12 working days are left, counted from today.
    clock.set(at(3, 16))
    act(session, users["samr_handler"], case.id, "await_appraisal", APPRAISAL)
    assert due(session, case.id, "verify_complaint") == ("samr.handler", "12wd", end_of(4, 1))
    assert timer(session, instance.id, "verify_overdue").due_at == end_of(4, 1)

    # The extension request and the head's decision run on the same clock: the end stays put.
    clock.set(at(3, 18))
    act(session, users["samr_handler"], case.id, "verify_complaint", verify("extension"))
    assert due(session, case.id, "decide_extension") == ("samr.head", "10wd", end_of(4, 1))
    clock.set(at(3, 19))
    act(session, users["samr_head"], case.id, "decide_extension", {"extension_granted": True, "reasons": "案情复杂"})
    # Re-armed for 30 working days minus the 6 used; Qingming (6 April) is not a working day.
    assert due(session, case.id, "verify_complaint") == ("samr.handler", "24wd", end_of(4, 23))
    assert timer(session, instance.id, "verify_overdue").due_at == end_of(4, 23)

    clock.set(at(3, 23))
    act(session, users["samr_handler"], case.id, "verify_complaint", verify("file"))
    assert due(session, case.id, "decide_filing") == ("samr.head", "22wd", end_of(4, 23))
    assert days_used(session, case.id) == [3, 5, 6, 8]

    clock.set(at(3, 24))
    act(session, users["samr_head"], case.id, "decide_filing",
        {"filing_decided": "file", "channels": ["administrative", "criminal", "civil"]})
    assert due(session, case.id, "notify_complainant") == ("samr.handler", "5wd", end_of(3, 31))
    assert due(session, case.id, "investigate")[:2] == ("samr.handler", "90d")
    assert due(session, case.id, "refer_civil") == ("samr.liaison", "24h", at(3, 25))
    [request] = session.scalars(select(Message).where(Message.name == "transfer_requested"))
    assert request.payload == {"case_id": case.id, "requested_by": "rights_protection"}

    act(session, users["samr_liaison"], case.id, "refer_civil", REFERRAL)
    [letter] = case_documents(session, users["court_liaison"], case.id)
    assert (letter.kind, letter.issuing_agency.code, letter.recipient_agency.code) == (
        "civil_referral_letter", "samr", "court")
    assert set(letter.content["steps"]) == {"refer_civil"}, "the secret stays at SAMR"
    assert due(session, case.id, "accept_civil_referral") == ("court.liaison", "24h", at(3, 25))
    clock.set(at(3, 24, 15))
    # The holder applied at 09:30, before the referral reached the court: the 48 hours run from then.
    act(session, users["court_liaison"], case.id, "accept_civil_referral",
        {"received": True, "preservation_applied": True, "preservation_applied_at": "2026-03-24 09:30"})
    assert due(session, case.id, "decide_preservation") == ("court.handler", "48h", at(3, 26, 9, 30))
    act(session, users["court_handler"], case.id, "decide_preservation",
        {"preservation_granted": True, "ruling_reasons": "存在泄密的紧迫危险。"})
    act(session, users["samr_liaison"], case.id, "record_court_reply", {"acknowledged": True})
    act(session, users["samr_handler"], case.id, "notify_complainant", NOTIFIED)
    act(session, users["samr_handler"], case.id, "investigate",
        {"outcome": "penalty", "fine_yuan": 300000, "summary": "罚款30万元。"})
    session.refresh(instance)
    assert instance.status == "completed"
    assert COMPLAINT["secret_described"] not in instance.state_json
    events = event_types(session, case.id)
    assert events.count("handoff_approved") == 3  # SAMR sends, the court receives, SAMR receives
    assert verify_audit(session, case.id) == []

    # The criminal channel starts 立案协助 on the case.
    assert deliver_pending(session) == 1
    assert open_task(session, case.id, "register_facts").lane == "samr.handler"


def test_a_missed_filing_period_goes_to_the_office_and_the_step_stays_open(session, users, case, clock):
    instance = instance_of(session, case.id)
    act(session, users["samr_handler"], case.id, "register_complaint", COMPLAINT)
    clock.set(end_of(3, 23) - timedelta(seconds=1))
    assert fire_due_timers(session) == 0
    clock.advance(seconds=2)
    assert fire_due_timers(session) == 1
    assert due(session, case.id, "supervise_filing") == ("office.supervisor", "3wd", end_of(3, 27))
    assert open_task(session, case.id, "verify_complaint").state == "open"
    assert timer(session, instance.id, "verify_overdue").status == "fired"
    session.refresh(case)
    assert "office" in {p.agency.code for p in case.participants}
    act(session, users["office_supervisor"], case.id, "supervise_filing", {"note": "已发督办函。"})
    act(session, users["samr_handler"], case.id, "verify_complaint", verify("not_file"))
    # Late already: the head's share of the period ended with it.
    assert due(session, case.id, "decide_filing")[1:] == ("0wd", end_of(3, 23))


def test_a_late_verification_leaves_the_decision_overdue_and_reported(session, users, case, clock):
    act(session, users["samr_handler"], case.id, "register_complaint", COMPLAINT)
    clock.set(at(3, 25))  # two working days past the end
    act(session, users["samr_handler"], case.id, "verify_complaint", verify("file"))
    assert due(session, case.id, "decide_filing") == ("samr.head", "0wd", end_of(3, 23))
    assert fire_due_timers(session) == 1  # the decision's own timer is already due
    assert open_task(session, case.id, "supervise_filing").lane == "office.supervisor"


def test_not_filed_only_the_complainant_is_told(session, users, case):
    act(session, users["samr_handler"], case.id, "register_complaint", COMPLAINT)
    act(session, users["samr_handler"], case.id, "verify_complaint", verify("not_file"))
    act(session, users["samr_head"], case.id, "decide_filing",
        {"filing_decided": "not_file", "channels": [], "reasons": "不属于商业秘密纠纷。"})
    assert [t.bpmn_id for t in open_tasks(session, case.id)] == ["notify_complainant"]
    act(session, users["samr_handler"], case.id, "notify_complainant", NOTIFIED)
    assert instance_of(session, case.id).status == "completed"
    assert session.scalars(select(Message)).all() == []
    session.refresh(case)
    assert {p.agency.code for p in case.participants} == {"samr"}


def test_no_preservation_application_is_reported_back(session, users, case):
    act(session, users["samr_handler"], case.id, "register_complaint", COMPLAINT)
    act(session, users["samr_handler"], case.id, "verify_complaint", verify("file"))
    act(session, users["samr_head"], case.id, "decide_filing", {"filing_decided": "file", "channels": ["civil"]})
    act(session, users["samr_liaison"], case.id, "refer_civil", {**REFERRAL, "preservation_expected": False})
    act(session, users["court_liaison"], case.id, "accept_civil_referral",
        {"received": True, "preservation_applied": False})
    assert sorted(t.bpmn_id for t in open_tasks(session, case.id)) == ["notify_complainant", "record_court_reply"]
    assert "court_reply" in instance_of(session, case.id).state_json
