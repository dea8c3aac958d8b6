"""The SpiffWorkflow boundary: parsing, the restricted script engine, and (de)serialization.

Nothing outside engine/ sees a SpiffWorkflow object. The spec is stored once per process model
version; instance documents carry only their own state.
"""
from __future__ import annotations

import builtins
import json
from functools import lru_cache, partial
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    TaskConverter,
    WorkflowConverter,
)
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
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from engine.runtime import history

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


class _StateConverter(BpmnWorkflowConverter):
    """A workflow's state without its spec, which is stored once on the process model and added
    back on load: converting the spec on every save, only to drop it, cost a step more than
    anything else it wrote.

    Saving (the registry in encoder mode, as `dump_state` runs it) writes the dictionaries
    SpiffWorkflow's own converters write for its workflows and tasks, key for key, without
    passing each task through the registry: those lookups and wrappers cost more calls than the
    task's own fields. Classes other than SpiffWorkflow's own, or converters replaced in the
    registry, go through the registry as before."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        registry = self.registry
        fast = registry._encoder_mode and _stock_converters(registry)
        if fast:
            dct = self._process_to_dict(workflow)
        else:
            dct = WorkflowConverter.to_dict(self, workflow)
        subprocesses = workflow.subprocesses
        if fast:
            dct["subprocesses"] = {str(key): self._subprocess_to_dict(sub) if type(sub) is BpmnSubWorkflow
                                   else registry.convert(sub) for key, sub in subprocesses.items()}
        else:
            dct["subprocesses"] = self.mapping_to_dict(subprocesses)
        dct["bpmn_events"] = registry.convert(workflow.bpmn_events)
        return dct

    def _process_to_dict(self, process) -> dict[str, Any]:
        """What WorkflowConverter.to_dict gives, with each task as TaskConverter.to_dict gives it."""
        registry = self.registry
        convert = registry.convert
        tasks: dict[str, Any] = {}
        uuids = _known_uuids()
        texts: dict[Task, str] = {}  # by task (hashed by identity, not by UUID): its parent's id once written
        for task in process.tasks.values():
            if type(task) is not Task:
                tasks[str(task.id)] = convert(task)
                continue
            text = texts[task] = str(task.id)
            uuids[text] = task.id
            parent_id = task._parent
            parent = task.workflow.tasks.get(parent_id) if parent_id is not None else None
            delta: dict[str, Any]
            if parent is None:
                data, delta = task.data, {}
            else:
                data, mine, theirs = {}, task.data, parent.data
                if mine == theirs:  # most tasks: the data as the parent left it
                    delta = {"updates": {}, "deletions": []}
                else:
                    delta = {"updates": {k: v for k, v in mine.items() if k not in theirs or v != theirs[k]},
                             "deletions": [k for k in theirs if k not in mine]}
            internal = task.internal_data
            tasks[text] = {
                "id": text,
                "parent": None if parent is None else texts[parent] if parent in texts else str(parent_id),
                "children": list(map(str, task._children)),
                "last_state_change": task.last_state_change,
                "state": task._state,
                "task_spec": task.task_spec.name,
                "triggered": task.triggered,
                "internal_data": convert(internal) if internal else {},
                "data": data,
                "delta": delta,
                "typename": _TASK_TYPENAME,
            }
        last = process.last_task
        return {
            "data": convert(registry.clean(process.data)),
            "correlations": process.correlations,
            "last_task": str(last.id) if last is not None else None,
            "success": process.success,
            "completed": process.completed,
            "tasks": tasks,
            "root": str(process.task_tree.id),
        }

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        """BpmnWorkflowConverter.from_dict, with the tasks restored as `_restore_process` does."""
        registry = self.registry
        if not _stock_restore(registry):
            return super().from_dict(dct)
        spec = registry.restore(dct.pop("spec"))
        subprocess_specs = self.mapping_from_dict(dct.pop("subprocess_specs", {}))
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        _restore_process(registry, workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = registry.restore(dct.pop("bpmn_events", []))
        return workflow

    def _subprocess_to_dict(self, sub) -> dict[str, Any]:
        """What BpmnSubWorkflowConverter.to_dict gives, with the registry's typename."""
        dct = self._process_to_dict(sub)
        dct["parent_task_id"] = str(sub.parent_task_id)
        dct["spec"] = sub.spec.name
        dct["typename"] = _SUBWORKFLOW_TYPENAME
        return dct


class _SubprocessConverter(BpmnSubWorkflowConverter):
    """BpmnSubWorkflowConverter, restoring the tasks as `_restore_process` does."""

    def from_dict(self, dct, task, top_workflow):
        if not _stock_restore(self.registry):
            return super().from_dict(dct, task, top_workflow)
        spec = top_workflow.subprocess_specs.get(task.task_spec.spec)
        subprocess = self.target_class(spec, task.id, top_workflow, deserializing=True)
        _restore_process(self.registry, subprocess, dct)
        return subprocess


def _restore_process(registry, process, dct: dict[str, Any]) -> None:
    """The tasks and attributes of a (sub)process as TaskConverter.from_dict and
    WorkflowConverter.set_default_attributes restore them, with each task's UUID made once, not
    once for every place its text appears (a UUID from text costs a dozen calls), or taken from
    `_UUIDS`. As there, a task's parent is the one restored before it, and the task's
    constructor enters it in the process's tasks."""
    uuids = _known_uuids()

    def uuid(text: str) -> UUID:
        made = uuids[text] = UUID(text)
        return made

    tasks, specs, restore = process.tasks, process.spec.task_specs, registry.restore
    for key, item in dct["tasks"].items():
        if ("typename" in item and item["typename"]) != _TASK_TYPENAME:
            tasks[uuids[key] if key in uuids else uuid(key)] = restore(item, workflow=process)
            continue
        task_spec = specs.get(item["task_spec"])
        text = item["id"]
        task = Task(process, task_spec, state=item["state"], id=uuids[text] if text in uuids else uuid(text))
        text = item["parent"]
        task._parent = None if text is None else uuids[text] if text in uuids else uuid(text)
        task._children = [uuids[child] if child in uuids else uuid(child) for child in item["children"]]
        task.last_state_change = item["last_state_change"]
        task.triggered = item["triggered"]
        internal = item["internal_data"]
        task.internal_data = {} if type(internal) is dict and not internal else restore(internal)
        if isinstance(task_spec, CatchingEvent) and task._state & TaskState.WAITING:
            task.workflow.top_workflow.event_manager.add_task(task)
        delta = item.get("delta")
        parent = tasks.get(task._parent) if delta else None
        if parent is not None:
            data = DeepMerge.merge({}, parent.data)
            updates = delta.get("updates", {})
            if updates:
                data.update(restore(updates))
            for name in delta.get("deletions", ()):
                if name in data:
                    del data[name]
        else:
            data = restore(item["data"])
        task.data = data
    text = dct["root"]
    process.task_tree = tasks.get(uuids[text] if text in uuids else uuid(text))
    process.success = dct["success"]
    process.completed = dct.get("completed", False)
    process.correlations = dct.pop("correlations", {})
    text = dct["last_task"]
    if isinstance(text, str):
        process.last_task = tasks.get(uuids[text] if text in uuids else uuid(text))
    process.data = restore(dct.pop("data", {}))


# The UUIDs of the task ids this process wrote or read lately, by their text: the next step of an
# instance mostly reads the tasks the last one wrote. UUIDs are immutable, so workflows may share
# them. A full map is replaced, not emptied: a thread still reading the old one keeps it.
_UUIDS: dict[str, UUID] = {}
_UUIDS_KEPT = 20_000


def _known_uuids() -> dict[str, UUID]:
    global _UUIDS
    if len(_UUIDS) >= _UUIDS_KEPT:
        _UUIDS = {}
    return _UUIDS

_TASK_TYPENAME, _SUBWORKFLOW_TYPENAME = "Task", "BpmnSubWorkflow"


@lru_cache(maxsize=4)
def _stock_restore(registry) -> bool:
    """Whether the registry restores tasks with SpiffWorkflow's own converter, as
    `_restore_process` restores them itself."""
    wrapper = registry.convert_from_dict.get(_TASK_TYPENAME)
    func = wrapper.args[0] if isinstance(wrapper, partial) and len(wrapper.args) == 1 else None
    converter = getattr(func, "__self__", None)
    return (registry.typenames.get(Task) == _TASK_TYPENAME
            and getattr(func, "__func__", None) is TaskConverter.from_dict
            and getattr(converter, "target_class", None) is Task)


@lru_cache(maxsize=4)
def _stock_converters(registry) -> bool:
    """Whether the registry converts tasks and subprocesses with SpiffWorkflow's own converters
    under their usual names, as `_StateConverter` writes them itself."""
    def converter(cls, typename, expected) -> bool:
        if registry.typenames.get(cls) != typename:
            return False
        wrapper = registry.convert_to_dict.get(typename)
        func = wrapper.args[1] if isinstance(wrapper, partial) and len(wrapper.args) == 2 else None
        return getattr(func, "__func__", None) is expected.to_dict
    return (converter(Task, _TASK_TYPENAME, TaskConverter)
            and converter(BpmnSubWorkflow, _SUBWORKFLOW_TYPENAME, BpmnSubWorkflowConverter))


@lru_cache(maxsize=1)
def serializer() -> BpmnWorkflowSerializer:
    config = {**SPIFF_CONFIG, BpmnWorkflow: _StateConverter, BpmnSubWorkflow: _SubprocessConverter}
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
