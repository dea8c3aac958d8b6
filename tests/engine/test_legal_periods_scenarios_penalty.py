"""信息共享's standing duties after a penalty decision, counted from the dates on paper, across the
2026 Spring Festival and May Day, through the engine on the real diagrams.

Official calendar: 15-23 February rest, Saturdays 14 and 28 February worked; 1-5 May rest, Saturday
9 May worked. Day periods end on the next working day when they end on a rest day; working-day
periods skip rest days and count worked Saturdays. Every expected date is counted by hand in the
comment beside it, never by the code under test.
"""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

import engine
from engine import InvalidInput, claim_task, complete_task
from engine.worker.passes import drain
from models import Timer
from tests.conftest import SHANGHAI
from tests.engine.test_penalty_disclosure import DECISION, PUBLICATION, QUASH
from tests.helpers import act, open_task


def bj(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def end(month: int, day: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, 23, 59, 59, tzinfo=SHANGHAI)


def rule_of(task) -> tuple:
    return task.deadline_rule_id, task.deadline_rule, task.due_at, task.deadline_trigger_at


@pytest.fixture
def case(session, users):
    return engine.create_case(session, users["samr_handler"], "某公司侵犯商业秘密行政处罚案")


def recorded(session, users, case, clock, decided_on: str, when: datetime, trade_secret: bool = True):
    clock.set(when)
    engine.start_mechanism(session, users["samr_handler"], case.id, "penalty_disclosure")
    act(session, users["samr_handler"], case.id, "record_penalty_decision",
        {**DECISION, "decided_on": decided_on, "trade_secret_matter": trade_secret})


def test_copy_and_publication_run_from_the_decision_across_the_spring_festival(session, users, case, clock):
    # Decided on Friday 13 February; registered after the holiday, on Wednesday 25 February.
    recorded(session, users, case, clock, "2026-02-13", bj(2, 25, 10))
    copy = open_task(session, case.id, "copy_penalty_decision")
    # 10 days: Monday 23 February, still the holiday: Tuesday 24 February, already past.
    # (Counted from the registration: Saturday 7 March, a rest day: Monday 9 March.)
    assert rule_of(copy) == ("penalty_copy", "10d", end(2, 24), bj(2, 13))
    assert copy.due_at < clock.now(), "overdue the moment it is registered"
    publish = open_task(session, case.id, "publish_penalty_information")
    # 20 working days after Fri 13 Feb: Sat 14 (1); 15-23 rest; 24, 25, 26, 27 (5), Sat 28 (6);
    # 2-6 Mar (11); 9-13 (16); 16, 17, 18, 19 (20): Thursday 19 March.
    assert rule_of(publish) == ("penalty_publication", "20wd", end(3, 19), bj(2, 13))

    # Publication dated before the decision is refused, naming the field and the decision's date.
    clock.set(bj(3, 2, 10))
    claim_task(session, users["samr_handler"], publish.id)
    with pytest.raises(InvalidInput) as refused:
        complete_task(session, users["samr_handler"], publish.id, {**PUBLICATION, "published_on": "2026-02-12"})
    assert refused.value.errors == {"published_on": ["must not be before 作出行政处罚决定 (2026-02-13)"]}
    # Published on Friday 27 February (entered on Monday 2 March): three years from that day.
    complete_task(session, users["samr_handler"], publish.id, {**PUBLICATION, "published_on": "2026-02-27"})
    [period] = session.scalars(select(Timer).where(Timer.bpmn_id == "publication_period_over"))
    # 36 months: Tuesday 27 February 2029, past the official calendar data (hence provisional).
    assert (period.rule, period.due_at, period.due_provisional) == ("36m", end(2, 27, 2029), True)


def test_a_quashed_decision_is_withdrawn_within_three_working_days_across_may_day(session, users, case, clock):
    recorded(session, users, case, clock, "2026-03-02", bj(3, 2, 10), trade_secret=False)
    clock.set(bj(3, 9, 10))
    act(session, users["samr_handler"], case.id, "publish_penalty_information", PUBLICATION)
    # Quashed on Wednesday 29 April; the bureau registers it on Wednesday 6 May.
    clock.set(bj(5, 6, 10))
    engine.start_mechanism(session, users["samr_handler"], case.id, "penalty_quash")
    act(session, users["samr_handler"], case.id, "record_penalty_quash", {**QUASH, "quashed_on": "2026-04-29"})
    drain(session)
    withdraw = open_task(session, case.id, "withdraw_penalty_information")
    # 3 working days after Wed 29 Apr: Thu 30 Apr (1); 1-5 May rest; Wed 6 May (2), Thu 7 May (3).
    # (Counted from the registration: Thu 7, Fri 8, Sat 9 May, a worked Saturday.)
    assert rule_of(withdraw) == ("penalty_withdrawal", "3wd", end(5, 7), bj(4, 29))
