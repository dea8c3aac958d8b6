"""A liaison approves several hand-offs at once.

A hand-off approval (a task with the `handoff` property: a liaison's outgoing release or incoming
receipt) whose form asks nothing but yes-answers (`handoff_approved`, `released`, `received`;
optional notes left empty) can be approved from the inbox together with others. Each task goes
the normal way, in transactions of its own: claimed if nobody holds it (`task_claimed`), then
completed with the yes-answers (`task_completed` and `handoff_approved`, its documents, its next
steps). One task refused (someone else was first, the form wants more) leaves the others done.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from engine.access import policy
from engine.casework.tasks import claim_task, complete_task, visible_task
from engine.errors import EngineError, InvalidInput
from engine.runtime.definitions import task_form
from models import HumanTask, HumanTaskState, User

MAX_BATCH = 50  # tasks one request approves; each is a transaction of its own


@dataclass(frozen=True)
class BatchOutcome:
    """One task of a batch: approved, or why not (the engine's error)."""

    task_id: int
    approved: bool
    error: EngineError | None = None


def approval_data(schema: Mapping[str, Any]) -> dict[str, Any] | None:
    """The data that approves a hand-off on this form: every required field a yes (a boolean
    field, true) or an empty optional note; None when the form asks anything else (a choice, a
    text that must be written), which only the task page can answer."""
    data: dict[str, Any] = {}
    props = schema.get("properties", {})
    for name in schema.get("required", []):
        prop = props.get(name, {})
        if prop.get("type") == "boolean" and prop.get("const", True) is True:
            data[name] = True
        elif prop.get("type") == "string" and not prop.get("minLength") and "oneOf" not in prop \
                and "enum" not in prop and "pattern" not in prop:
            data[name] = ""
        else:
            return None
    return data if any(value is True for value in data.values()) else None


def batch_approvable(session: Session, actor: User, tasks: Iterable[HumanTask]) -> set[int]:
    """The ids of those open hand-off tasks the actor may approve in a batch: in their lane,
    unclaimed or theirs, with a form of yes-answers only."""
    return {task.id for task in tasks
            if task.handoff and task.state == HumanTaskState.OPEN and policy.works_in_lane(actor, task)
            and task.assignee_id in (None, actor.id) and approval_data(task_form(session, task)) is not None}


def approve_handoffs(session: Session, actor: User, task_ids: Sequence[int]) -> list[BatchOutcome]:
    """Approve each hand-off task: claim it if nobody holds it, complete it with the yes-answers.
    Each claim and each completion commits on its own (see claim_task, complete_task); a refused
    task is reported and the next one goes on."""
    if len(task_ids) > MAX_BATCH:
        raise InvalidInput("too many tasks", {"task_id": [f"must be at most {MAX_BATCH} tasks"]})
    outcomes = []
    for task_id in dict.fromkeys(task_ids):  # once each, in the order given
        try:
            task = visible_task(session, actor, task_id)
            data = approval_data(task_form(session, task)) if task.handoff else None
            if data is None:
                raise InvalidInput("not a hand-off approval", {"": ["must be a hand-off approval of yes-answers"]})
            if task.assignee_id is None:
                claim_task(session, actor, task_id)
            complete_task(session, actor, task_id, data)
        except EngineError as exc:
            session.rollback()
            outcomes.append(BatchOutcome(task_id, False, exc))
        else:
            outcomes.append(BatchOutcome(task_id, True))
    return outcomes
