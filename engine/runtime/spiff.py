"""The SpiffWorkflow boundary: parsing, the restricted script engine, and (de)serialization.

Nothing outside engine/ sees a SpiffWorkflow object. The spec is stored once per process model
version; instance documents carry only their own state.
"""
from __future__ import annotations

import builtins
import json
from functools import lru_cache
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine.runtime import history
from engine.runtime.state_converter import StateConverter, SubprocessConverter

# Expressions in diagrams compare variables; nothing here reaches the file system, imports or the
# interpreter. This narrows mistakes, it is not a sandbox (DESIGN.md): deploying is admin-only.
_SAFE_BUILTIN_NAMES = (
    "abs", "all", "any", "bool", "dict", "enumerate", "float", "int", "len", "list", "max",
    "min", "range", "round", "set", "sorted", "str", "sum", "tuple", "zip", "isinstance",
    "True", "False", "None",
)
SAFE_GLOBALS = {"__builtins__": {n: getattr(builtins, n) for n in _SAFE_BUILTIN_NAMES}}


def script_engine() -> PythonScriptEngine:
    return PythonScriptEngine(environment=TaskDataEnvironment(dict(SAFE_GLOBALS)))



@lru_cache(maxsize=1)
def serializer() -> BpmnWorkflowSerializer:
    config = {**SPIFF_CONFIG, BpmnWorkflow: StateConverter, BpmnSubWorkflow: SubprocessConverter}
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


def serialize_spec(spec, subprocess_specs) -> str:
    """Serialize a parsed collaboration once, at deploy time."""
    ser = serializer()
    ser.registry._encoder_mode = True
    try:
        dct = {
            "spec": ser.to_dict(spec),
            "subprocess_specs": {k: ser.to_dict(v) for k, v in subprocess_specs.items()},
        }
    finally:
        ser.registry._encoder_mode = False
    return json.dumps(dct)


# A deployed collaboration as SpiffWorkflow runs it: its spec and the specs of its pools and
# subprocesses by name.
Specs = tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]


def read_specs(spec_json: str) -> Specs:
    """Restore a deployed spec, its timers held for the engine (below). A workflow changes its
    specs as it runs (a pool a message starts is wired in), so each workflow gets specs of its own:
    engine/runtime/definitions.py keeps a copy per process model to hand out."""
    ser = serializer()
    dct = json.loads(spec_json)
    spec = ser.from_dict(dct["spec"])
    subprocess_specs = {name: ser.from_dict(sub) for name, sub in dct["subprocess_specs"].items()}
    processes = [spec, *subprocess_specs.values()]
    _hold_timers(processes)
    for process in processes:
        history.split_steps(process)  # answered once here, then carried by each copy
    return spec, subprocess_specs


def new_workflow(spec_json: str, specs: Specs | None = None) -> BpmnWorkflow:
    """A fresh workflow for a deployed spec (`specs`: that spec restored, for this workflow only)."""
    spec, subprocess_specs = specs or read_specs(spec_json)
    return BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine())


# Timers are fired by the engine (engine/worker/timers.py) at due times computed with the business
# calendar and the injectable clock. SpiffWorkflow compares timers with the wall clock, so every
# timer definition is made to wait "forever" until the engine marks it due.
NEVER = "'9999-12-31T00:00:00+00:00'"
NEVER_DURATION = "'P36500D'"  # a century: SpiffWorkflow adds it to the wall clock
FIRE_NOW = "2000-01-01T00:00:00+00:00"


def _hold_timers(process_specs) -> None:
    for process in process_specs:
        for task_spec in process.task_specs.values():
            event = getattr(task_spec, "event_definition", None)
            if isinstance(event, TimeDateEventDefinition):
                event.expression = NEVER
            elif isinstance(event, DurationTimerEventDefinition):
                event.expression = NEVER_DURATION


def mark_timer_due(task) -> None:
    """Let SpiffWorkflow's own check fire this waiting timer at the next refresh."""
    task.internal_data["event_value"] = FIRE_NOW


# The BPMN ids of steps whose finished tasks engine/runtime/history.py dropped from the state, kept in the
# document so the diagram can still show them as done.
PRUNED_KEY = "liandong_pruned"


def dump_state(workflow: BpmnWorkflow) -> str:
    """The instance document without the spec (stored once on the process model) and without
    the finished history no later step reads (engine/runtime/history.py)."""
    workflow.pruned_bpmn_ids = pruned_bpmn_ids(workflow) | history.prune(workflow)
    ser = serializer()
    ser.registry._encoder_mode = True
    try:
        dct = ser.to_dict(workflow)
    finally:
        ser.registry._encoder_mode = False
    dct[ser.VERSION_KEY] = ser.VERSION
    dct[PRUNED_KEY] = sorted(workflow.pruned_bpmn_ids)
    # The registry's encoder, as serialize_json uses: an event-based gateway keeps the events it
    # caught (BpmnEvent objects) in its internal data until it runs.
    return json.dumps(dct, separators=(",", ":"), cls=ser._encoder_cls)


def load_state(state_json: str, spec_json: str, specs: Specs | None = None) -> BpmnWorkflow:
    """Rebuild a workflow from its stored state and its process model's spec (`specs`: that spec
    restored, for this workflow only)."""
    ser = serializer()
    dct: dict[str, Any] = json.loads(state_json)
    pruned = set(dct.pop(PRUNED_KEY, ()))
    migrated = dct.get(ser.VERSION_KEY) in MIGRATIONS
    if migrated:
        # Saved by an older SpiffWorkflow: its migrations read the spec as a dictionary too.
        dct.update(json.loads(spec_json))
        ser.migrate(dct)
    else:
        dct.pop(ser.VERSION_KEY, None)
        # Restored spec objects pass through the converter as they are.
        dct["spec"], dct["subprocess_specs"] = specs or read_specs(spec_json)
    workflow = ser.from_dict(dct)
    workflow.script_engine = script_engine()
    workflow.pruned_bpmn_ids = pruned
    if migrated:  # specs from `read_specs` hold their timers already
        _hold_timers([workflow.spec, *workflow.subprocess_specs.values()])
    _reconnect_triggered_pools(workflow)
    _register_waiting_catches(workflow)
    return workflow


def pruned_bpmn_ids(workflow: BpmnWorkflow) -> set[str]:
    """BPMN ids of steps that ran but whose tasks are no longer in the stored tree."""
    return getattr(workflow, "pruned_bpmn_ids", set())


def _reconnect_triggered_pools(workflow: BpmnWorkflow) -> None:
    # A pool that starts on a message is wired into the collaboration only when the message
    # arrives (SpiffWorkflow mutates the spec in `trigger_wf`). The spec here is the one stored at
    # deploy, before any trigger, so redo that wiring for every pool this instance has started;
    # otherwise finishing such a pool fails with "No input task connected".
    start = workflow.spec.start
    started = {task.task_spec.name for task in workflow.tasks.values()}
    for name in getattr(start, "trigger_specs", ()):
        spec = workflow.spec.task_specs.get(name)
        if spec is not None and name in started and start not in spec.inputs:
            start.connect(spec)
            spec.connect(workflow.spec.end)


def _register_waiting_catches(workflow: BpmnWorkflow) -> None:
    # SpiffWorkflow 3.2 registers a restored waiting catch event with its own workflow's
    # top_workflow before subprocesses are linked to their parent, so catch events inside pools
    # are missing from the top-level event manager after a load, and a message between pools
    # would never arrive. Register them where delivery looks.
    manager = workflow.event_manager
    for process in (workflow, *workflow.subprocesses.values()):
        for task in process.tasks.values():
            if isinstance(task.task_spec, CatchingEvent) and task.has_state(TaskState.WAITING):
                manager.add_task(task)
