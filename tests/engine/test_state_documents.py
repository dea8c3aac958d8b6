"""The stored instance state is written and read by engine/runtime/state_converter.py itself, not task by task
through SpiffWorkflow's registry: the document must stay what SpiffWorkflow's own converters write,
key for key, and read back into the workflow they would restore, so that stored instances load as
before and old ones load now."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn.serializer.default.workflow import WorkflowConverter
from SpiffWorkflow.util.task import TaskState

from engine.runtime import spiff, state_converter
from engine.runtime.deploy import read_bundle
from engine.runtime.instances import run_engine_steps

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bpmn"
ITEMS = {"x": "甲物证", "y": "乙物证"}


def documents(workflow) -> tuple[str, str]:
    """The state as engine/runtime/spiff.py writes it, and as SpiffWorkflow's converters do."""
    ser = spiff.serializer()
    converter = ser.registry.convert_to_dict["BpmnWorkflow"].args[1].__self__
    ser.registry._encoder_mode = True
    try:
        ours = ser.to_dict(workflow)
        theirs = WorkflowConverter.to_dict(converter, workflow)
        theirs["subprocesses"] = converter.mapping_to_dict(workflow.subprocesses)
        theirs["bpmn_events"] = ser.registry.convert(workflow.bpmn_events)
        theirs["typename"] = "BpmnWorkflow"
    finally:
        ser.registry._encoder_mode = False
    return (json.dumps(ours, cls=ser._encoder_cls, ensure_ascii=False),
            json.dumps(theirs, cls=ser._encoder_cls, ensure_ascii=False))


def run(spec_json: str, choices: dict[str, dict], **data):
    """Every state of a run that works each ready user task with its choice, reloading between steps."""
    workflow = spiff.new_workflow(spec_json)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    run_engine_steps(workflow)
    for _ in range(40):
        state = spiff.dump_state(workflow)
        yield workflow, state
        workflow = spiff.load_state(state, spec_json)
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        if not ready:
            return
        ready[0].data.update(choices.get(ready[0].task_spec.bpmn_id, {}))
        ready[0].run()
        run_engine_steps(workflow)


def restored(workflow) -> dict:
    """What a restored workflow holds, process by process and task by task."""
    def task_facts(task):
        return (str(task.id), str(task._parent), [str(c) for c in task._children], task._state, task.triggered,
                task.last_state_change, task.task_spec.name, task.internal_data, task.data, task.thread_id)
    processes = {"top": workflow, **{str(key): sub for key, sub in workflow.subprocesses.items()}}
    return {
        "processes": {key: (process.success, process.completed, process.correlations, process.data,
                            str(process.last_task.id) if process.last_task else None, str(process.task_tree.id),
                            [task_facts(task) for task in process.tasks.values()])
                      for key, process in processes.items()},
        "waiting": sorted(str(task.id) for task in workflow.event_manager.tasks.values()),
        "events": workflow.bpmn_events,
    }


DIAGRAMS = [
    ("long_history", {"review_item": {"choice": "file"}, "a": {"note": "甲"}, "b": {"note": "乙"}},
     {"case_id": 1, "max_rounds": 2, "review_items": ITEMS}),
    ("parallel_review", {}, {"case_id": 1}),
    ("ask_agencies", {"invite": {"invited": ["police", "court"]}}, {"case_id": 1}),
]


@pytest.mark.parametrize(("diagram", "choices", "data"), DIAGRAMS)
def test_the_state_is_what_spiffworkflow_writes(diagram, choices, data):
    spec_json = read_bundle(FIXTURES / f"{diagram}.bpmn").spec_json
    steps = 0
    for workflow, state in run(spec_json, choices, **data):
        ours, theirs = documents(workflow)
        assert ours == theirs
        # And the document saved loads back to the same state.
        assert documents(spiff.load_state(state, spec_json))[0] == ours
        steps += 1
    assert steps > 1


@pytest.mark.parametrize(("diagram", "choices", "data"), DIAGRAMS)
def test_the_state_reads_back_as_spiffworkflow_reads_it(diagram, choices, data, monkeypatch):
    spec_json = read_bundle(FIXTURES / f"{diagram}.bpmn").spec_json
    states = [state for _, state in run(spec_json, choices, **data)]
    ours = [restored(spiff.load_state(state, spec_json)) for state in states]
    monkeypatch.setattr(state_converter, "_stock_restore", lambda registry: False)
    assert [restored(spiff.load_state(state, spec_json)) for state in states] == ours
