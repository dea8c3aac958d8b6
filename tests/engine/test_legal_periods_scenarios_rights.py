"""维权联动's legal periods across National Day 2026, through the engine on the real diagram: a
complaint handed in days before it is registered, the clock stopped for an appraisal and extended
by the head, the complainant told, and the court's 48 hours from the holder's application.

Official calendar: 1-7 October rest, Saturday 10 October worked. Working-day periods skip rest days
and count the worked Saturday; hours are wall-clock hours. Every expected date is counted by hand in
the comment beside it, never by the code under test.
"""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from engine import InvalidInput, claim_task, complete_task, create_case
from models import AuditEvent, case_chain
from tests.conftest import SHANGHAI
from tests.engine.test_rights_protection import APPRAISAL, COMPLAINT, REFERRAL, days_used, verify
from tests.helpers import act, open_task


def bj(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def end(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 23, 59, 59, tzinfo=SHANGHAI)


def rule_of(task) -> tuple:
    return task.deadline_rule_id, task.deadline_rule, task.due_at, task.deadline_trigger_at


def registered(session, users, clock, received_on: str, when: datetime):
    clock.set(when)
    case = create_case(session, users["samr_handler"], "国庆前投诉案", mechanism="rights_protection")
    act(session, users["samr_handler"], case.id, "register_complaint", {**COMPLAINT, "received_on": received_on})
    return case


def test_the_filing_period_runs_from_receipt_stops_for_an_appraisal_and_is_extended(session, users, clock):
    # Handed in at a service station on Monday 28 September, registered on Friday 9 October.
    case = registered(session, users, clock, "2026-09-28", bj(10, 9, 10))
    recorded = session.scalar(select(AuditEvent).where(AuditEvent.chain == case_chain(case.id),
                                                       AuditEvent.event_type == "legal_event_recorded"))
    assert (recorded.detail["event"], recorded.detail["entered_in"]) == ("complaint_received", "received_on")
    verify_task = open_task(session, case.id, "verify_complaint")
    # 15 working days after Mon 28 Sep: 29, 30 Sep (2); 1-7 Oct rest; 8, 9, Sat 10 (5); 12-16 (10);
    # 19-23 (15): Friday 23 October. (Counted from the registration: Thursday 29 October.)
    assert rule_of(verify_task) == ("complaint_filing_decision", "15wd", end(10, 23), bj(9, 28))

    clock.set(bj(10, 14, 10))  # Wednesday 14 October: an appraisal is needed, the clock stops
    act(session, users["samr_handler"], case.id, "verify_complaint", verify("appraisal"))
    # Used: 29, 30 Sep, 8, 9, 10, 12, 13, 14 Oct = 8 working days.
    clock.set(bj(10, 26, 10))  # Monday 26 October: the appraisal's conclusion is in
    act(session, users["samr_handler"], case.id, "await_appraisal", APPRAISAL)
    # 7 left from Mon 26 Oct: 27, 28, 29, 30 Oct, 2, 3, 4 Nov: Wednesday 4 November.
    assert rule_of(open_task(session, case.id, "verify_complaint"))[1:3] == ("7wd", end(11, 4))

    clock.set(bj(10, 28, 10))  # Wednesday 28: special circumstances, the handler asks for more time
    act(session, users["samr_handler"], case.id, "verify_complaint", verify("extension"))
    # Used 8 + 2 (27, 28) = 10; 5 left: 29, 30 Oct, 2, 3, 4 Nov: still Wednesday 4 November.
    assert rule_of(open_task(session, case.id, "decide_extension"))[1:3] == ("5wd", end(11, 4))
    clock.set(bj(10, 29, 10))  # Thursday 29: the head grants 15 more working days
    act(session, users["samr_head"], case.id, "decide_extension", {"extension_granted": True, "reasons": "案情复杂"})
    # Used 11 of 30; 19 left from Thu 29 Oct: 30 Oct (1), 2-6 Nov (6), 9-13 (11), 16-20 (16),
    # 23, 24, 25 (19): Wednesday 25 November.
    assert rule_of(open_task(session, case.id, "verify_complaint"))[1:3] == ("19wd", end(11, 25))

    clock.set(bj(11, 2, 10))  # Monday 2 November: the handler proposes to file
    act(session, users["samr_handler"], case.id, "verify_complaint", verify("file"))
    # Used 11 + 2 (30 Oct, 2 Nov) = 13; 17 left from Mon 2 Nov: Wednesday 25 November.
    decide = open_task(session, case.id, "decide_filing")
    assert rule_of(decide) == ("complaint_filing_decision", "17wd", end(11, 25), bj(9, 28))
    assert days_used(session, case.id) == [8, 10, 11, 13]

    clock.set(bj(11, 3, 10))  # Tuesday 3 November: filed
    act(session, users["samr_head"], case.id, "decide_filing", {"filing_decided": "file", "channels": ["administrative"]})
    # 5 working days from the decision: 4, 5, 6, 9, 10 November.
    assert rule_of(open_task(session, case.id, "notify_complainant")) == (
        "complaint_result_notice", "5wd", end(11, 10), bj(11, 3, 10))
    investigate = open_task(session, case.id, "investigate")
    assert (investigate.deadline_rule_id, investigate.deadline_trigger_at) == ("administrative_investigation",
                                                                               bj(11, 3, 10))


def test_a_complaint_received_in_the_future_is_refused(session, users, clock):
    clock.set(bj(10, 9, 10))
    case = create_case(session, users["samr_handler"], "日期错误的投诉", mechanism="rights_protection")
    task = open_task(session, case.id, "register_complaint")
    claim_task(session, users["samr_handler"], task.id)
    with pytest.raises(InvalidInput) as refused:
        complete_task(session, users["samr_handler"], task.id, {**COMPLAINT, "received_on": "2026-10-10"})
    assert refused.value.errors == {"received_on": ["must not be in the future"]}


def test_the_complainant_is_told_within_five_working_days_across_the_holiday(session, users, clock):
    case = registered(session, users, clock, "2026-09-14", bj(9, 14, 9))
    clock.set(bj(9, 29, 10))
    act(session, users["samr_handler"], case.id, "verify_complaint", verify("file"))
    clock.set(bj(9, 30, 16))  # Wednesday 30 September, 16:00: filed, to the civil channel too
    act(session, users["samr_head"], case.id, "decide_filing", {"filing_decided": "file", "channels": ["civil"]})
    # 5 working days after Wed 30 Sep: 1-7 Oct rest; Thu 8 (1), Fri 9 (2), Sat 10 (3, worked),
    # Mon 12 (4), Tue 13 (5): Tuesday 13 October.
    assert rule_of(open_task(session, case.id, "notify_complainant")) == (
        "complaint_result_notice", "5wd", end(10, 13), bj(9, 30, 16))

    # The holder applied to the court for preservation on Wednesday 30 September at 20:00; the
    # court's liaison registers the referral on Friday 2 October at 09:00.
    clock.set(bj(9, 30, 17))
    act(session, users["samr_liaison"], case.id, "refer_civil", REFERRAL)
    clock.set(bj(10, 2, 9))
    receipt = open_task(session, case.id, "accept_civil_referral")
    claim_task(session, users["court_liaison"], receipt.id)
    with pytest.raises(InvalidInput) as refused:
        complete_task(session, users["court_liaison"], receipt.id, {"received": True, "preservation_applied": True})
    assert refused.value.errors == {"preservation_applied_at": ["required"]}
    with pytest.raises(InvalidInput) as refused:
        complete_task(session, users["court_liaison"], receipt.id, {
            "received": True, "preservation_applied": True, "preservation_applied_at": "2026-10-02 10:00"})
    assert refused.value.errors == {"preservation_applied_at": ["must not be in the future"]}
    complete_task(session, users["court_liaison"], receipt.id, {
        "received": True, "preservation_applied": True, "preservation_applied_at": "2026-09-30 20:00"})
    decide = open_task(session, case.id, "decide_preservation")
    # 48 wall-clock hours from the application, holiday or not: Friday 2 October, 20:00. (From
    # the registration they would end on Sunday 4 October, 09:00.)
    assert rule_of(decide) == ("preservation_decision", "48h", bj(10, 2, 20), bj(9, 30, 20))
