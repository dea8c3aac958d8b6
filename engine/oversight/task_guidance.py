"""What a task is about and what comes after it: the one-line subject of an inbox row, the work
that follows a completed task, and the values a new task's form starts with from what the case
already recorded. Reads on top of the inbox and case queries (engine/oversight/queries.py, case_reads.py)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from engine.access import policy
from engine.mechanisms import hooks
from engine.oversight.case_reads import case_tasks
from engine.oversight.queries import inbox
from engine.runtime.definitions import definition
from models import HumanTask, HumanTaskState, User

# The steps of each process model version (by its SHA-256) whose hook says what a task is about.
_DESCRIBED: dict[str, frozenset[str]] = {}


def _described_steps(session: Session, model_id: int) -> frozenset[str]:
    model = definition(session, model_id)
    found = _DESCRIBED.get(model.version)
    if found is None:
        spec, subprocesses = model.specs()
        found = frozenset(
            task_spec.bpmn_id for process in (spec, *subprocesses.values())
            for task_spec in process.task_specs.values()
            if getattr(task_spec, "manual", False)
            and getattr(hooks.HOOKS.get(_properties(task_spec).get("hook") or ""), "context", None))
        _DESCRIBED[model.version] = found
    return found


def _properties(task_spec) -> dict[str, str]:
    # As engine/runtime/projection.py reads them; not imported from there, which imports this module.
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {})


def task_subjects(session: Session, user: User, tasks: Sequence[HumanTask]) -> dict[int, tuple]:
    """What each task is about in one line, for inbox rows: {task id: (title, text[, evidence
    id])}, the first line of its page's context that names an evidence item, else its first
    line; tasks whose step says nothing are left out. Only steps with a describing hook load
    their instance, so a page of other work costs no more than before."""
    subjects: dict[int, tuple] = {}
    for task in tasks:
        if task.bpmn_id not in _described_steps(session, task.instance.process_model_id):
            continue
        lines = hooks.task_context(session, user, task)
        if lines:
            subjects[task.id] = next((line for line in lines if len(line) > 2), lines[0])
    return subjects


@dataclass(frozen=True)
class NextWork:
    """What happens after a task: the case's open tasks now (whose they are, when due), and the
    user's next open task, of the same case first, else the soonest due of their inbox."""

    following: Sequence[HumanTask]
    next_task: HumanTask | None


def next_work(session: Session, user: User, task: HumanTask) -> NextWork:
    """The work that follows `task` (which the caller has checked the user may see)."""
    following = [t for t in case_tasks(session, task.case) if t.state == HumanTaskState.OPEN]
    mine = inbox(session, user, "all", 1, 1, case_id=task.case_id).items or inbox(session, user, "all", 1, 1).items
    return NextWork(following, mine[0] if mine else None)


# The consultation fields that describe the case, and the facts field of 立案协助 they go into.
_CONSULTED_FACTS = (("propose_consultation", "materials"), ("record_minutes", "conclusion"))
_FACTS_FIELD = ("register_facts", "summary")


def carried_values(session: Session, user: User, task: HumanTask) -> dict[str, Any]:
    """What an open task's form may start with, from what this case already recorded, so a
    mechanism started on the same case does not ask its facts again: the answers of the case's
    latest completed task of the same form (another run of the step), else, for 立案协助's facts
    after a consultation, the consultation's materials and conclusion as the summary. Only what
    the user may read of those tasks; values the form no longer has are left out. {} for a task
    not open or with nothing to carry."""
    if task.state != HumanTaskState.OPEN or not task.form_name:
        return {}
    done = [t for t in case_tasks(session, task.case)
            if t.state == HumanTaskState.COMPLETED and t.id != task.id and t.result
            and policy.can_view_task_content(session, user, t)]
    fields = definition(session, task.instance.process_model_id).form(task.form_name).get("properties", {})
    same = [t for t in done if t.form_name == task.form_name]
    if same:
        latest = max(same, key=lambda t: (t.completed_at, t.id))
        return {name: value for name, value in (latest.result or {}).items()
                if name in fields and not fields[name].get("x-choices")}
    if (task.bpmn_id, _FACTS_FIELD[1]) == _FACTS_FIELD and _FACTS_FIELD[1] in fields:
        parts = []
        for bpmn_id, name in _CONSULTED_FACTS:
            found = [t for t in done if t.bpmn_id == bpmn_id and (t.result or {}).get(name)]
            if found:
                latest = max(found, key=lambda t: (t.completed_at, t.id))
                parts.append(str((latest.result or {})[name]).strip())
        if parts:
            return {_FACTS_FIELD[1]: "\n\n".join(parts)}
    return {}
