"""engine/runtime/projection.py finds the ready user tasks without SpiffWorkflow's walk of the tree:
the same tasks in the same order, at every step of diagrams with pools, parallel branches, loops
and multi-instance tasks."""
from __future__ import annotations

import pytest
from SpiffWorkflow.util.task import TaskState

from engine.runtime.deploy import read_bundle
from engine.runtime.projection import ready_user_tasks
from tests.engine.test_state_documents import DIAGRAMS, FIXTURES, run


@pytest.mark.parametrize(("diagram", "choices", "data"), DIAGRAMS)
def test_the_ready_user_tasks_are_the_walks(diagram, choices, data):
    spec_json = read_bundle(FIXTURES / f"{diagram}.bpmn").spec_json
    seen = set()
    for workflow, _state in run(spec_json, choices, **data):
        walked = workflow.get_tasks(state=TaskState.READY, manual=True)
        assert ready_user_tasks(workflow) == walked
        seen.add(len(walked))
    assert seen >= {0, 1}
