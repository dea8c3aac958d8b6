"""立案协助's legal periods across the 2026 Spring Festival, through the engine on the real diagram.

The official calendar: 15-23 February are rest days, Saturdays 14 and 28 February are worked.
Day periods follow Criminal Procedure Law art. 105 (the start day is not counted; a period that
ends on a rest day ends on the next working day). Every expected date is counted by hand in the
comment beside it, never by the code under test.
"""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from engine import InvalidInput, claim_task, complete_task, create_case, deliver_pending
from engine.worker.timers import fire_due_timers
from models import Message, Timer
from tests.conftest import SHANGHAI
from tests.helpers import (
    APPROVE_HANDOFF,
    APPROVE_TRANSFER,
    FACTS_500K,
    FILE,
    RECEIPT,
    RECEIVED,
    RELEASE,
    REVIEW_FILE,
    act,
    open_task,
    transferred,
)


def bj(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def end(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 23, 59, 59, tzinfo=SHANGHAI)


def rule_of(task) -> tuple:
    return task.deadline_rule_id, task.deadline_rule, task.due_at, task.deadline_trigger_at


def test_the_heads_three_days_and_the_24_hours_run_from_report_and_approval(session, users, clock):
    clock.set(bj(2, 12, 17))  # Thursday 12 February, 17:00: the officers submit their report
    case = create_case(session, users["samr_handler"], "春节前移送案")
    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    decide = open_task(session, case.id, "decide_transfer")
    # Fri 13, Sat 14, Sun 15: the third day is a rest day; 16-23 February are rest days too:
    # the period ends on Tuesday 24 February.
    assert rule_of(decide) == ("transfer_decision", "3d", end(2, 24), bj(2, 12, 17))
    assert decide.deadline_basis["statute"] == "《行政执法机关移送涉嫌犯罪案件的规定》第五条"

    clock.set(bj(2, 24, 10))  # the head approves on the last day
    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    send = open_task(session, case.id, "approve_outgoing_handoff")
    # Wall-clock hours from the approval: Wednesday 25 February, 10:00.
    assert rule_of(send) == ("transfer_send", "24h", bj(2, 25, 10), bj(2, 24, 10))
    assert fire_due_timers(session) == 0, "decided in time: the office hears nothing"


def test_the_police_decision_runs_from_acceptance_and_extends_from_it(session, users, clock):
    clock.set(bj(2, 11, 9))
    case = transferred(session, users, "春节前受理案")
    clock.set(bj(2, 12, 16))  # Thursday 12 February, 16:00: the police liaison signs the receipt
    act(session, users["police_liaison"], case.id, "accept_receipt", RECEIPT)
    decide = open_task(session, case.id, "decide_filing")
    # Fri 13, Sat 14, Sun 15 (rest, the holiday until Mon 23): Tuesday 24 February.
    assert rule_of(decide) == ("police_filing_decision", "3d", end(2, 24), bj(2, 12, 16))
    assert (decide.lane, open_task(session, case.id, "review_case").due_at) == ("police.head", None)

    # After the holiday the head asks for 10 days: counted from acceptance they end on Sunday 22,
    # a holiday, so on Tuesday 24 as well; that extends nothing and is refused.
    clock.set(bj(2, 24, 9))
    extend = open_task(session, case.id, "extend_review")
    claim_task(session, users["police_head"], extend.id)
    with pytest.raises(InvalidInput) as refused:
        complete_task(session, users["police_head"], extend.id,
                      {"review_period": "10d", "extension_reasons": "需调取银行流水"})
    assert "can only be extended" in refused.value.errors["review_period"][0]

    # 30 days from Thursday 12 February: Saturday 14 March, a rest day: Monday 16 March. (From the
    # day of the extension they would end on Thursday 26 March.)
    complete_task(session, users["police_head"], extend.id,
                  {"review_period": "30d", "extension_reasons": "案情重大复杂，涉及多地"})
    decide = open_task(session, case.id, "decide_filing")
    assert rule_of(decide) == ("police_filing_decision", "30d", end(3, 16), bj(2, 12, 16))
    [timer] = session.scalars(select(Timer).where(Timer.case_id == case.id, Timer.bpmn_id == "decide_filing_overdue"))
    assert (timer.rule, timer.due_at, timer.status) == ("30d", end(3, 16), "pending")

    # Not decided by then: the procuratorate's filing supervision starts on the next pass.
    clock.set(datetime(2026, 3, 16, 23, 59, 58, tzinfo=SHANGHAI))
    assert fire_due_timers(session) == 0
    clock.set(bj(3, 17))
    assert fire_due_timers(session) == 1
    [request] = session.scalars(select(Message).where(Message.case_id == case.id,
                                                      Message.name == "filing_supervision_requested"))
    assert request.payload == {"supervision_trigger": "review_overdue", "non_filing_reasons": ""}
    assert deliver_pending(session) == 1
    assert open_task(session, case.id, "examine_supervision").lane == "procuratorate.handler"
    assert open_task(session, case.id, "decide_filing").state == "open", "the decision is still the police's"


def test_the_handover_and_the_reconsideration_run_from_receipt_of_the_decision(session, users, clock):
    clock.set(bj(2, 9, 9))  # Monday 9 February
    case = transferred(session, users, "春节前立案案")
    act(session, users["police_liaison"], case.id, "accept_receipt", RECEIPT)
    clock.set(bj(2, 11, 10))
    act(session, users["police_handler"], case.id, "review_case", REVIEW_FILE)
    act(session, users["police_head"], case.id, "decide_filing", FILE)
    act(session, users["police_liaison"], case.id, "approve_filing_notice_handoff", RELEASE)
    clock.set(bj(2, 12, 15))  # Thursday 12 February, 15:00: SAMR's liaison signs for the notice
    act(session, users["samr_liaison"], case.id, "accept_filing_notice", RECEIVED)
    # Filed: no reconsideration to ask for, the handler goes straight to the handover.
    handover = open_task(session, case.id, "prepare_handover")
    # Decree 310 art. 12: 3 days from receipt of the 立案通知书 (Thu 12 February): Tuesday 24
    # February, already past. (Counted from this task, Saturday 28 February, a worked day.)
    assert rule_of(handover) == ("handover_items", "3d", end(2, 24), bj(2, 12, 15))
    clock.set(bj(2, 25, 10))  # the handler comes back to it on Wednesday 25 February
    assert handover.due_at < clock.now(), "overdue by then"


def test_a_returned_approval_is_still_due_three_days_from_the_report(session, users, clock):
    clock.set(bj(2, 12, 17))
    case = create_case(session, users["samr_handler"], "退回重批案")
    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    clock.set(bj(2, 24, 10))
    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    clock.set(bj(2, 25, 9))
    act(session, users["samr_liaison"], case.id, "approve_outgoing_handoff",
        {**APPROVE_HANDOFF, "handoff_approved": False, "comment": "缺涉案物品清单"})
    again = open_task(session, case.id, "decide_transfer")
    # The statute's 3 days run from the report (Thu 12 February): Tuesday 24 February, past.
    assert rule_of(again) == ("transfer_decision", "3d", end(2, 24), bj(2, 12, 17))
    assert fire_due_timers(session) == 1
    assert open_task(session, case.id, "supervise_transfer_decision").lane == "office.supervisor"
