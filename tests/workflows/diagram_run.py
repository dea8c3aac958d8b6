"""One collaboration instance for the pure-SpiffWorkflow diagram tests, kept only in serialized
form between steps (as the engine keeps it), with a check after every step."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jsonschema
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

FORMS = Path(__file__).resolve().parents[2] / "workflows" / "forms"
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))


def load_form(name: str) -> dict:
    return json.loads((FORMS / f"{name}.json").read_text(encoding="utf-8"))


# The diagram tests' n-th completed step happens n minutes after this: the legal events the steps
# record tell which step recorded them.
COMPLETED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))


def legal_events_of(schema: dict, form_data: dict, props: dict, completed_at: datetime) -> dict[str, str]:
    """What the engine records into `legal_events` when such a task is completed
    (engine/time/legal_events.py): the entered dates of `x-legal-event` fields, and the task's
    own `records_event` at the completion's time."""
    recorded = {prop["x-legal-event"]: form_data[name] for name, prop in schema["properties"].items()
                if prop.get("x-legal-event") and form_data.get(name)}
    own = props.get("records_event")
    if own and own not in recorded:
        recorded[own] = completed_at.isoformat()
    return recorded


class Run:
    """One instance of a collaboration, kept only in serialized form between steps, with a check
    run after every step (typically: no agency's data reached another pool)."""

    def __init__(self, collaboration, start_data: dict, check=lambda workflow: None):
        spec, subprocess_specs = collaboration
        workflow = BpmnWorkflow(spec, subprocess_specs)
        [start] = workflow.get_tasks(state=TaskState.READY)
        start.set_data(**start_data)  # what the engine supplies: case_id, initiator_agency
        self.check = check
        workflow.do_engine_steps()
        self._save(workflow)

    def _save(self, workflow: BpmnWorkflow) -> None:
        self.stored = SERIALIZER.serialize_json(workflow)
        self.check(self.load())

    def load(self) -> BpmnWorkflow:
        return SERIALIZER.deserialize_json(self.stored)

    def ready(self) -> list[tuple[str, str]]:
        tasks = self.load().get_tasks(state=TaskState.READY, manual=True)
        return sorted((t.task_spec.bpmn_id, t.task_spec.lane) for t in tasks)

    def ready_data(self, bpmn_id: str) -> list[dict]:
        return [t.data for t in self.load().get_tasks(state=TaskState.READY, manual=True)
                if t.task_spec.bpmn_id == bpmn_id]

    def complete(self, bpmn_id: str, form_data: dict, where: dict | None = None,
                 copy_all_form_data: bool = False) -> None:
        """Complete the ready task `bpmn_id` (the one whose data matches `where`, for a
        multi-instance task) with form data validated by its form; only x-variables enter the
        workflow, unless `copy_all_form_data` simulates an engine that forgot that rule."""
        workflow = self.load()
        candidates = [t for t in workflow.get_tasks(state=TaskState.READY, manual=True)
                      if t.task_spec.bpmn_id == bpmn_id
                      and all(t.data.get(k) == v for k, v in (where or {}).items())]
        assert len(candidates) == 1, (bpmn_id, where, self.ready())
        task = candidates[0]
        schema = load_form(task.task_spec.extensions["properties"]["form"])
        jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(form_data)
        variables = dict(form_data) if copy_all_form_data else {
            k: v for k, v in form_data.items() if schema["properties"][k].get("x-variable")}
        self.steps = getattr(self, "steps", 0) + 1
        recorded = legal_events_of(schema, form_data, task.task_spec.extensions["properties"],
                                   COMPLETED_AT + timedelta(minutes=self.steps))
        if recorded:
            variables["legal_events"] = {**task.data.get("legal_events", {}), **recorded}
        task.set_data(**variables)
        task.run()
        workflow.do_engine_steps()
        self._save(workflow)

    def set_data(self, bpmn_id: str, **data) -> None:
        """What the engine adds to a ready task's data before it runs (e.g. days used)."""
        workflow = self.load()
        [task] = [t for t in workflow.get_tasks(state=TaskState.READY, manual=True)
                  if t.task_spec.bpmn_id == bpmn_id]
        task.data.update(data)
        self._save(workflow)

    def fire_timer(self, bpmn_id: str, due_at: str) -> None:
        """What engine/worker/timers.py does when a timer is due: hand over its due time, let it fire."""
        workflow = self.load()
        [timer] = [t for t in workflow.get_tasks(state=TaskState.WAITING) if t.task_spec.bpmn_id == bpmn_id]
        timer.data["timer_due_at"] = due_at
        timer.internal_data["event_value"] = "2000-01-01T00:00:00+00:00"
        workflow.refresh_timers()
        workflow.do_engine_steps()
        self._save(workflow)

    def waiting(self) -> list[str]:
        return sorted(t.task_spec.bpmn_id for t in self.load().get_tasks(state=TaskState.WAITING)
                      if t.task_spec.bpmn_id and not t.task_spec.bpmn_id.endswith("_pool"))

    def completed(self, ids: set[str]) -> set[str]:
        return {t.task_spec.bpmn_id for t in self.load().get_tasks(state=TaskState.COMPLETED)
                if t.task_spec.bpmn_id in ids}

    def data_at(self, bpmn_id: str) -> dict:
        """The data of the latest run of a step (loops run a step more than once)."""
        tasks = [t for t in self.load().get_tasks() if t.task_spec.bpmn_id == bpmn_id]
        assert tasks, bpmn_id
        return tasks[-1].data

    def events(self) -> list[tuple[str, dict]]:
        """Messages thrown to other instances (the engine's outbox)."""
        return [(e.event_definition.name, e.payload) for e in self.load().get_events()]
