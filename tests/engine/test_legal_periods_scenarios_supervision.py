"""The procuratorate's periods (立案监督, 检察意见) across May Day and National Day 2026, through the
engine on the real diagrams, with what a missed period leads to.

Official calendar: 1-5 May rest, Saturday 9 May worked; 1-7 October rest, Saturday 10 October
worked. Day and month periods follow Criminal Procedure Law art. 105 (the start day is not counted;
a period that ends on a rest day ends on the next working day). Every expected date is counted by
hand in the comment beside it, never by the code under test.
"""
from __future__ import annotations

from datetime import datetime

from engine import create_case, start_mechanism
from engine.worker.timers import fire_due_timers
from tests.conftest import SHANGHAI
from tests.engine.test_filing_supervision import join
from tests.helpers import act, open_task
from tests.workflows.test_filing_supervision_diagram import EXAMINE, EXPLAIN, FAIL, ORDER, RECEIVED, RELEASE
from tests.workflows.test_procuratorial_opinion_diagram import DRAFT, REPLY


def bj(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def end(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 23, 59, 59, tzinfo=SHANGHAI)


def rule_of(task) -> tuple:
    return task.deadline_rule_id, task.deadline_rule, task.due_at, task.deadline_trigger_at


def supervision_case(session, users, clock, when: datetime):
    clock.set(when)
    case = create_case(session, users["samr_handler"], "立案监督期限案")
    join(session, case, "procuratorate")
    start_mechanism(session, users["procuratorate_handler"], case.id, "filing_supervision")
    act(session, users["procuratorate_handler"], case.id, "examine_supervision", EXAMINE)
    act(session, users["procuratorate_liaison"], case.id, "send_explain_request", RELEASE)
    return case


def test_the_police_seven_days_cross_may_day_and_a_late_explanation_is_pressed(session, users, clock):
    case = supervision_case(session, users, clock, bj(4, 27, 9))
    clock.set(bj(4, 27, 10))  # Monday 27 April, 10:00: the police liaison signs for the notice
    act(session, users["police_liaison"], case.id, "accept_explain_request", RECEIVED)
    explain = open_task(session, case.id, "explain_non_filing")
    # 7 days: Monday 4 May, inside the holiday (1-5 May): Wednesday 6 May.
    assert rule_of(explain) == ("reasons_reply", "7d", end(5, 6), bj(4, 27, 10))

    clock.set(datetime(2026, 5, 6, 23, 59, 58, tzinfo=SHANGHAI))
    assert fire_due_timers(session) == 0
    clock.set(bj(5, 7))  # Thursday 7 May: nothing has come
    assert fire_due_timers(session) == 1
    press = open_task(session, case.id, "press_explanation")
    # The procuratorate is told and presses the police: 3 working days from Thursday 7 May:
    # Fri 8, Sat 9 (worked for the holiday), Mon 11.
    assert (press.lane, press.deadline_rule_id, press.due_at) == (
        "procuratorate.handler", "supervision_follow_up", end(5, 11))
    assert open_task(session, case.id, "explain_non_filing").state == "open", "the police still explain"

    act(session, users["procuratorate_handler"], case.id, "press_explanation", {"note": "已发函督促说明理由。"})
    clock.set(bj(5, 8, 10))
    act(session, users["police_handler"], case.id, "explain_non_filing", EXPLAIN)
    act(session, users["police_liaison"], case.id, "send_explanation", RELEASE)
    assert open_task(session, case.id, "receive_explanation").lane == "procuratorate.liaison", "still awaited"


def test_fifteen_days_to_file_cross_national_day_and_then_the_violation_is_corrected(session, users, clock):
    case = supervision_case(session, users, clock, bj(9, 14, 9))
    act(session, users["police_liaison"], case.id, "accept_explain_request", RECEIVED)
    act(session, users["police_handler"], case.id, "explain_non_filing", EXPLAIN)
    act(session, users["police_liaison"], case.id, "send_explanation", RELEASE)
    act(session, users["procuratorate_liaison"], case.id, "receive_explanation", RECEIVED)
    act(session, users["procuratorate_handler"], case.id, "assess_explanation", FAIL)
    act(session, users["procuratorate_head"], case.id, "issue_filing_order", ORDER)
    act(session, users["procuratorate_liaison"], case.id, "send_filing_order", RELEASE)
    clock.set(bj(9, 16, 10))  # Wednesday 16 September: the police liaison signs for the 通知立案书
    act(session, users["police_liaison"], case.id, "accept_filing_order", RECEIVED)
    filing = open_task(session, case.id, "file_on_notice")
    # 15 days: Thursday 1 October, National Day (1-7 October rest): Thursday 8 October.
    assert rule_of(filing) == ("file_after_notice", "15d", end(10, 8), bj(9, 16, 10))

    clock.set(bj(10, 9))  # Friday 9 October: not filed
    assert fire_due_timers(session) == 1
    session.refresh(filing)
    assert filing.state == "cancelled"
    # SPP Rules art. 561: a notice to correct the violation, reported to the next level.
    escalation = open_task(session, case.id, "record_escalation")
    assert (escalation.lane, escalation.title) == ("procuratorate.handler", "纠正违法并报告上级检察院")


def test_two_months_to_answer_an_opinion_cross_national_day_then_the_procuratorate_presses(session, users, clock):
    clock.set(bj(8, 3, 9))
    case = create_case(session, users["samr_handler"], "检察意见期限案")
    join(session, case, "procuratorate")
    start_mechanism(session, users["procuratorate_handler"], case.id, "procuratorial_opinion")
    act(session, users["procuratorate_handler"], case.id, "record_non_prosecution", DRAFT)
    act(session, users["procuratorate_head"], case.id, "approve_procuratorial_opinion", {"opinion_approved": True})
    act(session, users["procuratorate_liaison"], case.id, "send_procuratorial_opinion", {"released": True})
    clock.set(bj(8, 6, 15))  # Thursday 6 August, 15:00: SAMR's liaison signs for the 检察意见书
    act(session, users["samr_liaison"], case.id, "accept_procuratorial_opinion", {"received": True})
    decide = open_task(session, case.id, "decide_administrative_handling")
    # Two months: Tuesday 6 October, National Day: the next working day, Thursday 8 October.
    assert rule_of(decide) == ("opinion_reply", "2m", end(10, 8), bj(8, 6, 15))

    clock.set(bj(10, 9))  # Friday 9 October: no reply yet
    assert fire_due_timers(session) == 1
    press = open_task(session, case.id, "press_opinion_reply")
    # 3 working days from Friday 9 October: Sat 10 (worked), Mon 12, Tue 13.
    assert (press.lane, press.deadline_rule_id, press.due_at) == (
        "procuratorate.handler", "supervision_follow_up", end(10, 13))
    assert open_task(session, case.id, "decide_administrative_handling").state == "open"
    act(session, users["samr_handler"], case.id, "decide_administrative_handling", REPLY)
    act(session, users["samr_liaison"], case.id, "send_opinion_reply", {"released": True})
    assert open_task(session, case.id, "receive_opinion_reply").lane == "procuratorate.liaison"
