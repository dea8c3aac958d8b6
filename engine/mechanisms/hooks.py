"""Domain rules on user tasks that a diagram cannot express, named by the task's `hook` property.

When a task with a hook is completed, its `check` runs after the form has validated and before the
workflow moves on, in the same transaction: it may refuse the data (InvalidInput naming the field),
change what the diagram will read (a verdict forced by a failed hash check; the changed data must
still satisfy the form), and write domain rows. Its `context` tells the task page what the task is
about (the evidence item one review of a package is for).

A form field may take its options from the engine (`"x-choices": "agency_evidence"`): the page
offers them, and on completion every submitted value must be one of the options the engine offers
this user for this task, so an id typed by hand is refused like any other wrong answer.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any
from uuid import UUID

from SpiffWorkflow.exceptions import TaskNotFoundException
from sqlalchemy.orm import Session

from engine.access import policy
from engine.errors import InvalidInput
from engine.mechanisms import consultation, penalty, recognition, remedies, sharing, transfer, withdrawal
from engine.mechanisms.completion import ChoiceSource, Completion, Hook, Term
from engine.runtime.definitions import task_form
from engine.runtime.forms import validate_submission
from engine.runtime.instances import load
from engine.runtime.projection import task_properties
from engine.time.calendar import BusinessCalendar
from models import HumanTask, User

# Every hook and choice source a diagram or form may name, by mechanism.
HOOKS: Mapping[str, Hook] = MappingProxyType({**recognition.HOOKS, **sharing.HOOKS, **transfer.HOOKS,
                                               **consultation.HOOKS, **withdrawal.HOOKS, **penalty.HOOKS,
                                               **remedies.HOOKS})
CHOICES: Mapping[str, ChoiceSource] = MappingProxyType({**recognition.CHOICES, **sharing.CHOICES,
                                                        **consultation.CHOICES, **remedies.CHOICES,
                                                        **transfer.CHOICES})


def known_hook(name: str) -> bool:
    return name in HOOKS


def known_choices(name: str) -> bool:
    return name in CHOICES


def form_choices(session: Session, actor: User, task: HumanTask) -> dict[str, Sequence[tuple[Any, str | Term]]]:
    """The options the engine offers this user for each `x-choices` field of the task's form."""
    schema = task_form(session, task)
    return {name: CHOICES[prop["x-choices"]](session, actor, task)
            for name, prop in schema.get("properties", {}).items() if prop.get("x-choices")}


def before_complete(session: Session, actor: User, task: HumanTask, schema: Mapping[str, Any],
                    data: dict[str, Any], spiff_task, hook_name: str | None,
                    calendar: BusinessCalendar) -> dict[str, Any]:
    """Check the engine-offered choices and run the task's hook; return the data to store.
    `calendar`: the one the completing step counts due times with."""
    errors: dict[str, list[str]] = {}
    for name, options in form_choices(session, actor, task).items():
        offered = {value for value, _label in options}
        value = data.get(name)
        for chosen in value if isinstance(value, list) else [] if value is None else [value]:
            if chosen not in offered:
                errors.setdefault(name, []).append(f"{chosen!r} is not one of the options offered")
    if errors:
        raise InvalidInput("form data is not valid", errors)
    if not hook_name:
        return data
    hook = HOOKS[hook_name]
    if hook.check is None:
        return data
    completion = Completion(session, actor, task, dict(data), dict(spiff_task.data), calendar)
    hook.check(completion)
    return validate_submission(schema, completion.data)


def task_context(session: Session, actor: User, task: HumanTask) -> list[tuple]:
    """What the task is about, as (title, text[, evidence id]) lines for its page; [] when its
    hook says nothing.

    Only users who may read the case's content get anything: the lines quote domain rows.
    """
    if not policy.can_view_task_content(session, actor, task):
        return []
    workflow = load(session, task.instance)
    try:
        spiff_task = workflow.get_task_from_id(UUID(task.task_guid))
        spec, data = spiff_task.task_spec, spiff_task.data
    except TaskNotFoundException:
        # A finished task may be gone from the stored state (engine/runtime/history.py): its hook gets no
        # workflow data and describes the task from the domain rows alone.
        spec, data = _task_spec(workflow, task.bpmn_id), {}
    hook = HOOKS.get(task_properties(spec).get("hook") or "") if spec is not None else None
    if hook is None or hook.context is None:
        return []
    return hook.context(session, actor, task, data)


def _task_spec(workflow, bpmn_id: str):
    """The user task spec of a step (for a multi-instance step, its item's, which carries the
    step's properties)."""
    for spec in (workflow.spec, *workflow.subprocess_specs.values()):
        for task_spec in spec.task_specs.values():
            if getattr(task_spec, "bpmn_id", None) == bpmn_id and task_spec.manual:
                return task_spec
    return None
