"""会商落实事项's withdrawal (consultation_action.bpmn) driven by SpiffWorkflow alone: while the agency's
task is open the instance waits for `action_withdrawn`, caught by the interrupting boundary event on
`carry_out_action`, which cancels the task and ends at 事项已撤回; a completed task waits for nothing."""
from __future__ import annotations

import pytest
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine.mechanisms.action_withdrawal import MESSAGE
from tests.workflows.diagram_checks import WORKFLOWS
from tests.workflows.diagram_run import Run

START = {"case_id": 42, "initiator_agency": "samr", "action_agency": "police", "action_deadline": "5wd",
         "action_item": 7}


@pytest.fixture(scope="module")
def collaboration():
    parser = SpiffBpmnParser(validator=BpmnValidator())
    parser.add_bpmn_file(str(WORKFLOWS / "consultation_action.bpmn"))
    return parser.get_collaboration("consultation_action")


def test_the_withdrawal_cancels_the_task_and_ends_the_instance(collaboration):
    run = Run(collaboration, START)
    workflow = run.load()
    assert [e.name for e in workflow.waiting_events()] == [MESSAGE]
    workflow.send_event(BpmnEvent(MessageEventDefinition(MESSAGE), {"item": 7}))
    workflow.do_engine_steps()
    assert workflow.is_completed()
    ended = {t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED)}
    assert "action_withdrawn_end" in ended and "action_closed" not in ended
    [task] = [t for t in workflow.get_tasks() if t.task_spec.bpmn_id == "carry_out_action"]
    assert task.state == TaskState.CANCELLED
    assert workflow.get_events() == [], "the item's state is the engine's row, not a message"


def test_a_completed_task_waits_for_no_withdrawal(collaboration):
    run = Run(collaboration, START)
    run.complete("carry_out_action", {"outcome": "done", "note": "已落实。"})
    workflow = run.load()
    assert workflow.is_completed() and workflow.waiting_events() == []
