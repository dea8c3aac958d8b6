"""`run_engine_steps` (engine/runtime/instances.py) calls SpiffWorkflow's `do_engine_steps` only
when something automatic is ready: a person's completion that only made another person's task
ready runs none, and what a diagram does is what stepping every round gives, through parallel
joins, a loop, a multi-instance review and a process that ends."""
from __future__ import annotations

from pathlib import Path

import pytest
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.runtime.deploy import read_bundle
from engine.runtime.instances import run_engine_steps
from engine.runtime.spiff import dump_state, load_state, new_workflow

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bpmn"
WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
ITEMS = {"x": "甲物证", "y": "乙物证", "z": "丙物证"}


@pytest.fixture(scope="module")
def spec_json() -> str:
    return read_bundle(FIXTURES / "long_history.bpmn").spec_json


def every_round(workflow: BpmnWorkflow) -> None:
    """The loop as it was: SpiffWorkflow's engine steps in every round, until nothing automatic
    is ready."""
    for _ in range(50):
        workflow.refresh_timers()
        workflow.do_engine_steps()
        if not any(task.state == TaskState.READY and not task.task_spec.manual
                   for process in (workflow, *workflow.subprocesses.values())
                   for task in process.tasks.values()):
            return
    raise AssertionError("did not settle")


def play(spec_json: str, steps) -> list[tuple]:
    """The long-history diagram through two turns of its loop (taken in both orders) and its
    review: after each step the ready people's tasks with their data, and at the end the data."""
    workflow = new_workflow(spec_json)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(case_id=1, max_rounds=2, review_items=ITEMS)
    steps(workflow)
    state = dump_state(workflow)
    seen = []
    for bpmn_id, data in [("b", {"note": "乙"}), ("a", {"note": "甲"}), ("a", {"note": "甲"}), ("b", {"note": "乙"}),
                          ("review_item", {"choice": "file"}), ("review_item", {"choice": "not_file"}),
                          ("review_item", {"choice": "file"})]:
        workflow = load_state(state, spec_json)
        task = next(t for t in workflow.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.bpmn_id == bpmn_id)
        task.data.update(data)
        task.run()
        steps(workflow)
        state = dump_state(workflow)
        seen.append(sorted((t.task_spec.bpmn_id, sorted(t.data.items(), key=str))
                           for t in workflow.get_tasks(state=TaskState.READY, manual=True)))
    assert workflow.is_completed()
    [end] = [t for t in workflow.get_tasks() if t.task_spec.bpmn_id == "e"]
    seen.append(sorted(end.data.items(), key=str))
    return seen


def test_the_diagram_does_what_stepping_every_round_does(spec_json):
    played = play(spec_json, run_engine_steps)
    assert played == play(spec_json, every_round)
    assert dict(played[-1])["verdicts"] == {"x": "file", "y": "not_file", "z": "file"}


@pytest.fixture
def stepped(monkeypatch) -> list[int]:
    """One entry for each call of SpiffWorkflow's `do_engine_steps`, which still runs."""
    calls: list[int] = []
    do_engine_steps = BpmnWorkflow.do_engine_steps

    def counted(workflow, **kwargs):
        calls.append(1)
        return do_engine_steps(workflow, **kwargs)

    monkeypatch.setattr(BpmnWorkflow, "do_engine_steps", counted)
    return calls


def test_a_person_handing_to_a_person_runs_no_engine_step(stepped):
    # The information-sharing request goes from the handler straight to their liaison's approval.
    workflow = new_workflow(read_bundle(WORKFLOWS / "information_sharing.bpmn").spec_json)
    run_engine_steps(workflow)
    assert stepped, "the start event is automatic"
    [request] = workflow.get_tasks(state=TaskState.READY, manual=True)
    assert request.task_spec.bpmn_id == "request_information"
    stepped.clear()
    request.run()
    run_engine_steps(workflow)
    assert stepped == []
    assert [t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.READY, manual=True)] == [
        "approve_request_handoff"]


def test_a_script_after_a_person_still_runs(spec_json, stepped):
    workflow = new_workflow(spec_json)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(case_id=1, max_rounds=1, review_items=ITEMS)
    run_engine_steps(workflow)
    ready = {t.task_spec.bpmn_id: t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
    assert set(ready) == {"a", "b"}
    stepped.clear()
    ready["b"].data["note"] = "乙"
    ready["b"].run()  # its script "seen_by_b" is ready: the engine steps run it
    run_engine_steps(workflow)
    assert stepped
    assert [t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.READY, manual=True)] == ["a"]
    assert "seen_by_b" in {t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED)}
