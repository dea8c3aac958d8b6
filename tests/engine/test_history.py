"""Finished history is kept out of the stored state (engine/runtime/history.py) without changing what a
diagram does: loops through parallel joins, boundary timers and multi-instance reviews still
behave, the state stays the same size however long a case runs, and the diagram still shows the
dropped steps as done."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine import create_case
from engine.access import audit
from engine.bootstrap import deploy_folder
from engine.casework.cases import start_mechanism
from engine.oversight.metrics import element_states
from engine.runtime import history
from engine.runtime.deploy import read_bundle
from engine.runtime.instances import run_engine_steps
from engine.runtime.spiff import PRUNED_KEY, dump_state, load_state, new_workflow
from engine.worker.timers import fire_due_timers
from models import HumanTask, ProcessInstance, Timer
from tests.conftest import SHANGHAI
from tests.helpers import act, open_tasks

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bpmn"
ITEMS = {"x": "甲物证", "y": "乙物证", "z": "丙物证"}


# -- SpiffWorkflow level: every step round-trips through the stored form, as the engine does --

@pytest.fixture(scope="module")
def spec_json() -> str:
    return read_bundle(FIXTURES / "long_history.bpmn").spec_json


def start(spec_json: str, **data) -> str:
    workflow = new_workflow(spec_json)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    run_engine_steps(workflow)
    return dump_state(workflow)


def step(state: str, spec_json: str, bpmn_id: str, **data) -> str:
    workflow = load_state(state, spec_json)
    task = next(t for t in workflow.get_tasks(state=TaskState.READY, manual=True)
                if t.task_spec.bpmn_id == bpmn_id)
    task.data.update(data)
    task.run()
    run_engine_steps(workflow)
    return dump_state(workflow)


def stored_tasks(state: str) -> list[dict]:
    document = json.loads(state)
    tasks = list(document["tasks"].values())
    for process in document["subprocesses"].values():
        tasks += process["tasks"].values()
    return tasks


def depth(state: str) -> int:
    """The deepest chain of parent links in the stored trees."""
    document = json.loads(state)
    deepest = 0
    for process in (document, *document["subprocesses"].values()):
        tasks = process["tasks"]
        for task in tasks.values():
            level, parent = 0, task["parent"]
            while parent is not None:
                level, parent = level + 1, tasks[parent]["parent"]
            deepest = max(deepest, level)
    return deepest


def ready(state: str, spec_json: str) -> list[str]:
    workflow = load_state(state, spec_json)
    return sorted(t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.READY, manual=True))


def play(spec_json: str, turns: int, alternate: bool = False) -> tuple[list[list[str]], dict]:
    """A run of the loop, "b" before "a" in every turn or in turns alternating with "a" first: the
    ready steps after every step, and the data at the end."""
    state = start(spec_json, case_id=1, max_rounds=turns, review_items=ITEMS)
    seen = [ready(state, spec_json)]
    for turn in range(turns):
        for bpmn_id in ("a", "b") if alternate and turn % 2 else ("b", "a"):
            state = step(state, spec_json, bpmn_id, note=bpmn_id)
            seen.append(ready(state, spec_json))
    for choice in ("file", "not_file", "file"):
        state = step(state, spec_json, "review_item", choice=choice)
        seen.append(ready(state, spec_json))
    workflow = load_state(state, spec_json)
    assert workflow.is_completed()
    [end] = [t for t in workflow.get_tasks() if t.task_spec.bpmn_id == "e"]
    return seen, end.data


def test_pruning_does_not_change_what_a_diagram_does(spec_json, monkeypatch):
    pruned = play(spec_json, 8)
    monkeypatch.setattr(history, "prune", lambda workflow: set())
    assert play(spec_json, 8) == pruned
    assert pruned[1]["verdicts"] == {"x": "file", "y": "not_file", "z": "file"}
    assert pruned[1]["filed"] == ["x", "z"]


def test_a_loop_through_a_parallel_join_may_take_its_branches_in_any_order(spec_json, monkeypatch):
    # With the whole history in the tree, SpiffWorkflow 3.2 trips over the finished branches of
    # earlier turns when a later turn's branches arrive in the other order.
    seen, data = play(spec_json, 6, alternate=True)
    assert seen[-1] == [] and len(data["trail"]) == 6
    # SpiffWorkflow merges the branches' data with the branch that arrives last on top, so that
    # branch's own variable is always this turn's.
    assert [seen_b if n % 2 else seen_a for n, (seen_a, seen_b) in enumerate(data["trail"])] == list(range(6))
    monkeypatch.setattr(history, "prune", lambda workflow: set())
    with pytest.raises(AttributeError):
        play(spec_json, 6, alternate=True)


def test_a_long_loop_keeps_the_state_bounded(spec_json):
    # 300 turns of a six-deep loop would be a tree ~1,800 levels deep, past the depth at which
    # SpiffWorkflow stalls (DESIGN.md); pruned, the tree stays as deep as one turn.
    state = start(spec_json, case_id=1, max_rounds=300, review_items=ITEMS)
    sizes = {}
    for turn in range(300):
        state = step(state, spec_json, "b", note="乙")
        state = step(state, spec_json, "a", note="甲")
        if turn in (10, 290):
            sizes[turn] = (len(stored_tasks(state)), depth(state))
    assert sizes[290] == sizes[10], "(tasks, depth) of the stored state after 10 and 290 turns"
    assert sizes[290][1] < 20
    for choice in ("file", "not_file", "file"):
        state = step(state, spec_json, "review_item", choice=choice)
    workflow = load_state(state, spec_json)
    assert workflow.is_completed()
    [end] = [t for t in workflow.get_tasks() if t.task_spec.bpmn_id == "e"]
    assert [seen_a for seen_a, _ in end.data["trail"]] == list(range(300))
    assert {"split", "a", "b", "join", "count", "review_item"} <= set(json.loads(state)[PRUNED_KEY])


def test_finished_items_of_a_multi_instance_review_are_dropped(spec_json):
    items = {f"item{n:03}": n for n in range(60)}
    state = start(spec_json, case_id=1, max_rounds=1, review_items=items)
    state = step(state, spec_json, "a", note="甲")
    state = step(state, spec_json, "b", note="乙")
    sizes = []
    for n, _key in enumerate(items):
        state = step(state, spec_json, "review_item", choice="file" if n % 2 else "not_file")
        sizes.append(len(stored_tasks(state)))
    # One finished item stays (a completion condition reads the last one merged).
    assert max(sizes[:-1]) == min(sizes[:-1])
    workflow = load_state(state, spec_json)
    assert workflow.is_completed()
    [end] = [t for t in workflow.get_tasks() if t.task_spec.bpmn_id == "e"]
    assert end.data["verdicts"] == {key: "file" if n % 2 else "not_file" for n, key in enumerate(items)}


# -- Engine level: human tasks, timers, the audit chain and the diagram on both databases --

def test_a_pruned_case_runs_through_the_engine(session, users, clock):
    deploy_folder(session, FIXTURES)
    handler = users["samr_handler"]
    case = create_case(session, handler, "长流程")
    instance = start_mechanism(session, handler, case.id, "long_history",
                               {"max_rounds": 3, "review_items": ITEMS})
    # The first turn's reminder on "a" fires while "a" is open; it does not interrupt.
    clock.set(datetime(2026, 3, 5, 9, 0, tzinfo=SHANGHAI))
    assert fire_due_timers(session) == 1
    for _ in range(3):
        act(session, handler, case.id, "a", {"note": "甲"})
        act(session, handler, case.id, "b", {"note": "乙"})
    for _ in ITEMS:
        act(session, handler, case.id, "review_item", {"choice": "file"})
    assert [t for t in open_tasks(session, case.id) if t.instance_id == instance.id] == []
    instance = session.scalar(select(ProcessInstance).where(ProcessInstance.id == instance.id)
                              .execution_options(populate_existing=True))
    assert instance.status == "completed"
    completed = session.scalars(select(HumanTask.bpmn_id).where(
        HumanTask.instance_id == instance.id, HumanTask.state == "completed")).all()
    assert sorted(completed) == sorted(["a"] * 3 + ["b"] * 3 + ["review_item"] * 3)
    statuses = sorted(session.scalars(select(Timer.status).where(Timer.instance_id == instance.id)))
    assert statuses == ["cancelled", "cancelled", "fired"], "one reminder per turn, the first fired"
    # The diagram shows the steps whose tasks were dropped as done.
    states = element_states(session, instance)
    for bpmn_id in ("init", "split", "a", "seen_by_a", "b", "join", "count", "review_item", "tally", "nudged"):
        assert states.get(bpmn_id) == "completed", (bpmn_id, states)
    assert audit.verify(session, case.id) == []
