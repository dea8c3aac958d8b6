"""Deadlines read from variables (`deadline_from`) and periods whose clock stops between the tasks
that count them (`deadline_used`): engine/time/task_due.py. 维权联动's filing period is the real user
(tests/engine/test_rights_protection.py); here the rules themselves, on a fixture diagram."""
from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import DeployError, create_case, deploy_paths
from engine.bootstrap import deploy_folder
from engine.casework.cases import start_mechanism
from engine.time.calendar import BusinessCalendar
from engine.time.task_due import check_properties, working_days_between
from models import Timer
from tests.conftest import SHANGHAI
from tests.helpers import act, open_task

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bpmn"


def end_of(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 23, 59, 59, tzinfo=SHANGHAI)


@pytest.fixture
def started(session, users):
    deploy_folder(session, FIXTURES)
    case = create_case(session, users["samr_handler"], "期限变量")
    instance = start_mechanism(session, users["samr_handler"], case.id, "deadline_variable")
    return case, instance


def late_timer(session, instance_id) -> Timer:
    return session.scalar(select(Timer).where(Timer.instance_id == instance_id, Timer.bpmn_id == "late"))


@pytest.mark.parametrize(("period", "rule", "due_at"), [
    ("5wd", "5wd", end_of(3, 9)),  # Monday 2 March + 5 working days
    (" 24h ", "24h", datetime(2026, 3, 3, 9, 0, tzinfo=SHANGHAI)),
    ("", "3wd", end_of(3, 5)),  # nothing chosen: the diagram's own rule
])
def test_the_rule_comes_from_the_variable(session, users, started, period, rule, due_at):
    case, instance = started
    act(session, users["samr_handler"], case.id, "choose", {"period": period})
    work = open_task(session, case.id, "work")
    assert (work.deadline_rule, work.due_at) == (rule, due_at)
    assert (late_timer(session, instance.id).rule, late_timer(session, instance.id).due_at) == (rule, due_at)


def test_a_variable_that_is_no_rule_stops_the_instance_with_the_reason(session, users, started):
    case, instance = started
    act(session, users["samr_handler"], case.id, "choose", {"period": "5 days"})
    session.refresh(instance)
    assert instance.status == "error"
    assert "'period'" in instance.error["message"] and "5 days" in instance.error["message"]
    assert instance.error["bpmn_id"] in {"work", "late"}


@pytest.mark.parametrize(("props", "reason"), [
    ({"deadline": "3wd", "deadline_from": "two words"}, "deadline_from must name a variable"),
    ({"deadline": "3wd", "deadline_used": "days-used"}, "deadline_used must name a variable"),
    ({"deadline_used": "used"}, "needs a 'deadline' rule"),
    ({"deadline": "3d", "deadline_used": "used"}, "counts working days"),
    ({"deadline": "15wd", "deadline_from": "period", "deadline_used": "used"}, None),
])
def test_deploy_checks(props, reason):
    found = check_properties(props)
    assert (found is None) if reason is None else (reason in found)


@pytest.mark.parametrize("element", ["work", "late"])
def test_deploy_refuses_a_bad_property_on_tasks_and_timers(session, tmp_path, element):
    folder = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, folder)
    path = folder / "deadline_variable.bpmn"
    text = path.read_text(encoding="utf-8")
    marker = f'<bpmn:{"userTask" if element == "work" else "boundaryEvent"} id="{element}"'
    start = text.index(marker)
    old = '<spiffworkflow:property name="deadline" value="3wd" />'
    at = text.index(old, start)
    new = ('<spiffworkflow:property name="deadline" value="3d" />'
           '<spiffworkflow:property name="deadline_used" value="used" />')
    text = text[:at] + new + text[at + len(old):]
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DeployError) as err:
        deploy_paths(session, [path])
    assert err.value.element == element and "working days" in str(err.value)


def test_working_days_between_counts_after_the_first_day_up_to_the_last():
    calendar = BusinessCalendar()
    friday = datetime(2026, 4, 3, 16, 0, tzinfo=SHANGHAI)
    # Qingming: Saturday 4 to Monday 6 April 2026 are rest days.
    assert working_days_between(calendar, friday, datetime(2026, 4, 6, 9, tzinfo=SHANGHAI)) == 0
    assert working_days_between(calendar, friday, datetime(2026, 4, 7, 9, tzinfo=SHANGHAI)) == 1
    assert working_days_between(calendar, friday, friday) == 0
    # Days are local: 17:00 UTC on 2 March is already 3 March in Shanghai.
    assert working_days_between(calendar, datetime(2026, 3, 2, 9, tzinfo=SHANGHAI),
                                datetime(2026, 3, 2, 17, tzinfo=timezone.utc)) == 1
