"""A rights holder's request for reconsideration received after the 7 days (MPS Provisions art. 179),
through the engine on the real diagram: registered on the path after the window's timer with the
date it was received, marked late by the days over the period, then accepted for good cause (the
reconsideration decision's 30 days run from its receipt) or refused as out of time with a
generated notice whose service is the notice's delivery record; every step audited."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from engine import (
    InvalidInput,
    add_rights_holder,
    claim_task,
    complete_task,
    holder_notices,
    start_mechanism,
    task_context,
    verify_audit,
)
from engine.mechanisms.remedies import LateRequestLine
from engine.worker.timers import fire_due_timers
from models import AuditEvent, ProcessInstance
from tests.conftest import SHANGHAI
from tests.helpers import act, open_task, open_tasks, transferred

HOLDER = {"name": "某精密机械有限公司", "kind": "company", "contact": "法务部 张经理 0635-1234567"}
LATE = {"late_request_received": True, "requested_on": "2026-03-12", "request_reasons": "已有审计报告。",
        "delay_reasons": "法定代表人住院治疗。", "materials": "复议申请书1份；住院证明1份"}
SERVED = {"served_at": "2026-03-13T10:00:00+08:00", "method": "in_person", "served_by": "民警王某",
          "recipient": "张经理"}


def end_of(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 23, 59, 59, tzinfo=SHANGHAI)


def window_closed(session, users, clock):
    """A holder's report not filed, its notice served on Monday 2 March; the 7 days end on Monday
    9 March with no request, and the registration moves to the late request."""
    case = transferred(session, users)
    holder = add_rights_holder(session, users["samr_handler"], case.id, HOLDER)
    act(session, users["police_liaison"], case.id, "accept_receipt", {
        "received": True, "receipt_outcome": "accepted", "missing_materials": "", "forwarded_to": "",
        "receipt_note": "已签收"})
    start_mechanism(session, users["police_handler"], case.id, "rights_holder_remedies")
    act(session, users["police_handler"], case.id, "register_holder_report",
        {"holder_id": holder.id, "received_on": "2026-03-02", "report_kind": "accusation", "summary": "控告事实"})
    act(session, users["police_head"], case.id, "decide_holder_report",
        {"report_decision": "not_file", "reasons": "损失未达到立案追诉标准。"})
    clock.set(datetime(2026, 3, 2, 12, 0, tzinfo=SHANGHAI))
    act(session, users["police_handler"], case.id, "serve_non_filing_notice",
        {"served_at": "2026-03-02T11:00:00+08:00", "method": "post", "served_by": "民警王某", "recipient": "张经理"})
    clock.set(end_of(3, 9) + timedelta(seconds=2))
    fire_due_timers(session)
    assert "record_late_request" in [t.bpmn_id for t in open_tasks(session, case.id) if t.lane == "police.handler"]
    clock.set(datetime(2026, 3, 13, 9, 0, tzinfo=SHANGHAI))
    return case


def attempt(session, user, case_id: int, bpmn_id: str, data: dict) -> None:
    """Complete the open task `bpmn_id` as `user`, claiming it first unless they hold it already
    (a refused completion leaves it claimed)."""
    task = open_task(session, case_id, bpmn_id)
    if task.assignee_id != user.id:
        claim_task(session, user, task.id)
    complete_task(session, user, task.id, data)


def late_events(session, case_id: int) -> list[dict]:
    return [e.detail for e in session.scalars(select(AuditEvent).where(
        AuditEvent.case_id == case_id, AuditEvent.event_type == "late_reconsideration_request_registered"))]


def instance_status(session, case_id: int) -> str:
    return session.scalars(select(ProcessInstance.status).where(ProcessInstance.case_id == case_id)
                           .order_by(ProcessInstance.id.desc())).first()


def test_a_late_request_accepted_for_good_cause_goes_to_the_decision(session, users, clock):
    case = window_closed(session, users, clock)
    act(session, users["police_handler"], case.id, "record_late_request", LATE)
    # Received Thursday 12 March, three days after the period ended on Monday 9 March.
    assert late_events(session, case.id) == [
        {"requested_on": "2026-03-12", "period_ended_on": "2026-03-09", "days_late": 3}]
    decide = open_task(session, case.id, "decide_late_request")
    assert task_context(session, users["police_head"], decide) == [
        (LateRequestLine.REQUESTED_ON, "2026-03-12"), (LateRequestLine.PERIOD_ENDED_ON, "2026-03-09"),
        (LateRequestLine.DAYS_LATE, "3"), (LateRequestLine.DELAY_REASONS, "法定代表人住院治疗。")]
    act(session, users["police_head"], case.id, "decide_late_request",
        {"late_request_decision": "accept", "reasons": "住院治疗，逾期有正当理由。"})
    reconsider = open_task(session, case.id, "decide_holder_reconsideration")
    # 30 days from the receipt on 12 March end on Saturday 11 April: the next working day, Monday 13.
    assert (reconsider.deadline_rule_id, reconsider.due_at) == ("holder_reconsideration_decision", end_of(4, 13))
    act(session, users["police_head"], case.id, "decide_holder_reconsideration",
        {"reconsideration_result": "maintain", "reasons": "维持原决定。"})
    kinds = [n.kind for n in holder_notices(session, users["police_handler"], case.id)]
    assert kinds == ["holder_non_filing_notice", "holder_reconsideration_decision"]
    assert instance_status(session, case.id) == "completed"
    assert verify_audit(session) == []


def test_a_late_request_refused_as_out_of_time_is_served_on_the_holder(session, users, clock):
    case = window_closed(session, users, clock)
    act(session, users["police_handler"], case.id, "record_late_request", LATE)
    act(session, users["police_head"], case.id, "decide_late_request",
        {"late_request_decision": "refuse", "reasons": "逾期未说明正当理由"})
    notices = holder_notices(session, users["police_handler"], case.id)
    assert [(n.kind, n.state) for n in notices] == [("holder_non_filing_notice", "delivered"),
                                                   ("holder_late_request_refusal", "generated")]
    refusal = notices[1].document
    assert refusal.content["lateness"] == {"requested_on": "2026-03-12", "period_ended_on": "2026-03-09",
                                           "days_late": 3}
    assert refusal.content["holders"][0]["name"] == "某精密机械有限公司"
    assert refusal.content["steps"]["decide_late_request"]["reasons"] == "逾期未说明正当理由"
    assert "控逾〔2026〕" in refusal.number
    clock.set(datetime(2026, 3, 13, 12, 0, tzinfo=SHANGHAI))
    with pytest.raises(InvalidInput) as future:
        attempt(session, users["police_handler"], case.id, "serve_late_refusal",
                {**SERVED, "served_at": "2026-03-14T10:00:00+08:00"})
    assert "served_at" in future.value.errors
    attempt(session, users["police_handler"], case.id, "serve_late_refusal", SERVED)
    [_, served] = holder_notices(session, users["police_handler"], case.id)
    assert served.state == "delivered"
    assert (served.deliveries[0].delivered_at, served.deliveries[0].recipient) == (
        datetime(2026, 3, 13, 10, 0, tzinfo=SHANGHAI), "张经理")
    assert instance_status(session, case.id) == "completed"
    assert verify_audit(session) == []


def test_a_request_received_within_the_period_is_not_refused_as_late(session, users, clock):
    """Received on the last day, registered only after the window closed: 0 days over, and the
    head may not refuse it as out of time."""
    case = window_closed(session, users, clock)
    act(session, users["police_handler"], case.id, "record_late_request", {**LATE, "requested_on": "2026-03-09"})
    assert late_events(session, case.id)[0]["days_late"] == 0
    decide = claim_task(session, users["police_head"], open_task(session, case.id, "decide_late_request").id)
    before = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    with pytest.raises(InvalidInput) as refused:
        complete_task(session, users["police_head"], decide.id, {"late_request_decision": "refuse", "reasons": "逾期"})
    assert "within the period" in refused.value.errors["late_request_decision"][0]
    assert session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) == before
    assert open_task(session, case.id, "decide_late_request").state == "open"
    attempt(session, users["police_head"], case.id, "decide_late_request",
            {"late_request_decision": "accept", "reasons": "申请在期限内收到。"})
    assert open_task(session, case.id, "decide_holder_reconsideration")


def test_a_received_date_before_the_service_or_in_the_future_is_refused(session, users, clock):
    case = window_closed(session, users, clock)
    for day in ("2026-03-01", "2026-03-14"):
        with pytest.raises(InvalidInput) as bad:
            attempt(session, users["police_handler"], case.id, "record_late_request", {**LATE, "requested_on": day})
        assert "requested_on" in bad.value.errors
    assert late_events(session, case.id) == []


def test_no_late_request_ends_the_run(session, users, clock):
    case = window_closed(session, users, clock)
    act(session, users["police_handler"], case.id, "record_late_request", {"late_request_received": False})
    assert late_events(session, case.id) == []
    assert instance_status(session, case.id) == "completed"
