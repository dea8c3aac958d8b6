"""Periods that run from their legal event (workflows/deadlines.toml; engine/time/legal_events.py and
task_due.py), on a fixture diagram with a small catalog of its own.

Expected dates are counted by hand (2026: no holiday falls in March), never by the code under test.
"""
from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import DeployError, InvalidInput, create_case, deploy_paths, drain_worker
from engine.casework.cases import start_mechanism
from engine.runtime.deploy import read_bundle
from engine.time import legal_events
from models import AuditEvent, HumanTask, ProcessInstance, ProcessModel
from tests.conftest import SHANGHAI
from tests.helpers import act, open_task

FOLDER = Path(__file__).resolve().parent.parent / "fixtures" / "bpmn_periods"


def local(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=SHANGHAI)


def legal_instance(session, case_id: int) -> ProcessInstance:
    """The case's instance of the fixture mechanism (opening the case started 立案协助 too)."""
    query = select(ProcessInstance).join(ProcessModel).where(
        ProcessInstance.case_id == case_id, ProcessModel.key == "legal_period")
    return session.scalar(query.execution_options(populate_existing=True))


@pytest.fixture
def case(session, users, clock):
    deploy_paths(session, [FOLDER / "legal_period.bpmn"])
    clock.set(local(3, 11, 10))  # Wednesday 11 March, 10:00
    case = create_case(session, users["samr_handler"], "法定期限")
    start_mechanism(session, users["samr_handler"], case.id, "legal_period")
    return case


def test_the_period_runs_from_the_entered_event_and_is_overdue_at_once(session, users, clock, case):
    handler = users["samr_handler"]
    act(session, handler, case.id, "register", {"received_on": "2026-03-05"})
    reply = open_task(session, case.id, "act")
    # Received Thu 5 March; 3 days end Sun 8 March, a rest day: Mon 9 March. Entered on 11 March.
    assert reply.due_at == local(3, 9, 23, 59, 59)
    assert (reply.deadline_rule_id, reply.deadline_rule) == ("reply", "3d")
    assert reply.deadline_trigger_at == local(3, 5)
    assert reply.due_at < clock.now(), "a period already over when its task opens is overdue at once"
    recorded = session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                       AuditEvent.event_type == "legal_event_recorded"))
    assert recorded.detail["event"] == "notice_received" and recorded.detail["entered_in"] == "received_on"
    assert recorded.actor_id == handler.id, "who entered the date is on record"
    # Its escalation timer is due already: the next worker pass reports the miss to the head.
    drain_worker(session)
    assert open_task(session, case.id, "report_late").role == "head"


def test_an_event_in_the_future_is_refused_and_nothing_changes(session, users, case):
    with pytest.raises(InvalidInput) as refused:
        act(session, users["samr_handler"], case.id, "register", {"received_on": "2026-03-12"})
    assert refused.value.errors == {"received_on": ["must not be in the future"]}
    assert open_task(session, case.id, "register").state == "open"
    assert session.scalar(select(AuditEvent).where(AuditEvent.event_type == "legal_event_recorded")) is None


def test_an_event_before_the_one_it_follows_is_refused(session, users, case):
    handler = users["samr_handler"]
    act(session, handler, case.id, "register", {"received_on": "2026-03-05"})
    act(session, handler, case.id, "act", {})
    with pytest.raises(InvalidInput) as refused:
        act(session, handler, case.id, "decide", {"decided_on": "2026-03-04"})
    assert refused.value.errors == {"decided_on": ["must not be before 收到通知 (2026-03-05)"]}


@pytest.mark.parametrize(("data", "due"), [
    # Decided by completing the task, Wed 11 March: 5 working days end Wed 18 March.
    ({}, local(3, 18, 23, 59, 59)),
    # The rule's extension, chosen on the form: 10 working days end Wed 25 March.
    ({"follow_period": "10wd"}, local(3, 25, 23, 59, 59)),
    # Decided on paper on Mon 9 March: 5 working days end Mon 16 March.
    ({"decided_on": "2026-03-09"}, local(3, 16, 23, 59, 59)),
])
def test_a_decision_taken_here_or_entered_is_the_event(session, users, case, data, due):
    handler = users["samr_handler"]
    act(session, handler, case.id, "register", {"received_on": "2026-03-05"})
    act(session, handler, case.id, "act", {})
    act(session, handler, case.id, "decide", data)
    assert open_task(session, case.id, "follow").due_at == due


def test_a_period_the_rule_does_not_allow_stops_the_instance(session, users, case):
    handler = users["samr_handler"]
    act(session, handler, case.id, "register", {"received_on": "2026-03-10"})
    act(session, handler, case.id, "act", {})
    act(session, handler, case.id, "decide", {"follow_period": "7wd"})
    instance = legal_instance(session, case.id)
    assert instance.status == "error" and "not a period rule follow_up allows" in instance.error["message"]


def test_an_event_the_case_has_not_recorded_stops_the_instance_with_the_reason(session, users, case):
    act(session, users["samr_handler"], case.id, "register", {})
    instance = legal_instance(session, case.id)
    assert instance.status == "error"
    assert "'notice_received'" in instance.error["message"] and "has not recorded" in instance.error["message"]


def test_a_running_case_keeps_the_rules_it_started_with(session, users, clock, case, tmp_path):
    handler = users["samr_handler"]
    changed = tmp_path / "periods"
    shutil.copytree(FOLDER, changed)
    catalog = changed / "deadlines.toml"
    catalog.write_text(catalog.read_text(encoding="utf-8").replace('period = "3d"', 'period = "7d"'), encoding="utf-8")
    [result] = deploy_paths(session, [changed / "legal_period.bpmn"])
    assert result.created, "a changed rule makes a new process model version"
    # The case started before the change reaches its period now: still 3 days (Mon 9 March).
    act(session, handler, case.id, "register", {"received_on": "2026-03-05"})
    assert open_task(session, case.id, "act").due_at == local(3, 9, 23, 59, 59)
    # A case started after it counts 7 days: Thu 12 March.
    later = create_case(session, handler, "新规则")
    start_mechanism(session, handler, later.id, "legal_period")
    act(session, handler, later.id, "register", {"received_on": "2026-03-05"})
    assert open_task(session, later.id, "act").due_at == local(3, 12, 23, 59, 59)


def test_only_the_rules_a_diagram_names_version_it(tmp_path):
    changed = tmp_path / "periods"
    shutil.copytree(FOLDER, changed)
    before = read_bundle(changed / "legal_period.bpmn").version
    catalog = changed / "deadlines.toml"
    catalog.write_text(catalog.read_text(encoding="utf-8") + '''
[rules.unused]
mechanism = "other"
action = "其他"
action_en = "other"
period = "1d"
counting = "calendar_days"
trigger = "decided"
statute = "别的规定"
statute_en = "Another rule"
''', encoding="utf-8")
    assert read_bundle(changed / "legal_period.bpmn").version == before


@pytest.mark.parametrize(("old", "new", "element", "reason"), [
    ('name="deadline" value="reply" /></spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>',
     'name="deadline" value="no_such_rule" /></spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>',
     "act", "unknown deadline rule 'no_such_rule' (not in deadlines.toml)"),
    ('value="decided" />', 'value="decision_made" />', "decide",
     "records_event names an unknown legal event 'decision_made'"),
])
def test_deploy_refuses_an_unknown_rule_or_event_with_file_line_and_element(session, tmp_path, old, new, element,
                                                                             reason):
    changed = tmp_path / "periods"
    shutil.copytree(FOLDER, changed)
    diagram = changed / "legal_period.bpmn"
    text = diagram.read_text(encoding="utf-8")
    assert old in text
    diagram.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DeployError) as refused:
        deploy_paths(session, [diagram])
    assert refused.value.element == element and refused.value.line and reason in refused.value.reason
    assert refused.value.file == str(diagram)
    assert session.scalar(select(HumanTask)) is None


def test_deploy_refuses_rule_ids_without_a_catalog(session, tmp_path):
    changed = tmp_path / "periods"
    shutil.copytree(FOLDER, changed)
    (changed / "deadlines.toml").unlink()
    with pytest.raises(DeployError, match=r"no deadlines\.toml beside it"):
        deploy_paths(session, [changed / "legal_period.bpmn"])


def test_a_date_that_does_not_exist_is_a_field_error(session, users, case):
    with pytest.raises(InvalidInput) as refused:
        act(session, users["samr_handler"], case.id, "register", {"received_on": "2026-02-30"})
    assert "received_on" in refused.value.errors
    # A date-time field whose pattern lets 30 February through is refused the same way, not a 500.
    schema = {"properties": {"applied_at": {"type": "string", "x-legal-event": "notice_received"}}}
    with pytest.raises(InvalidInput) as refused:
        legal_events.on_completion(schema, {"applied_at": "2026-02-30T10:00"}, {}, {}, {}, local(3, 11, 10))
    assert refused.value.errors == {"applied_at": ["is not a valid date or time"]}
