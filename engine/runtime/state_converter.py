"""How an instance's state is written and read: without its spec (stored once on the process
model), and with plain tasks written and restored by these converters themselves in the document
SpiffWorkflow's own converters write, each task's UUID made once. Anything other than
SpiffWorkflow's own task and subprocess converters takes the library's path
(tests/engine/test_state_documents.py holds both ways equal). `engine/runtime/spiff.py` configures
the serializer with `StateConverter` and `SubprocessConverter`.
"""
from __future__ import annotations

from functools import lru_cache, partial
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    TaskConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState


class StateConverter(BpmnWorkflowConverter):
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


class SubprocessConverter(BpmnSubWorkflowConverter):
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
    under their usual names, as `StateConverter` writes them itself."""
    def converter(cls, typename, expected) -> bool:
        if registry.typenames.get(cls) != typename:
            return False
        wrapper = registry.convert_to_dict.get(typename)
        func = wrapper.args[1] if isinstance(wrapper, partial) and len(wrapper.args) == 2 else None
        return getattr(func, "__func__", None) is expected.to_dict
    return (converter(Task, _TASK_TYPENAME, TaskConverter)
            and converter(BpmnSubWorkflow, _SUBWORKFLOW_TYPENAME, BpmnSubWorkflowConverter))
