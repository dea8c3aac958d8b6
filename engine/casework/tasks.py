"""Human task actions: claim, unclaim, assign (delegate or reassign), complete.

Each function is one transaction with its audit event: it commits on success and rolls back
on any error, leaving the database as it was.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import CursorResult, FromClause, Select, String, bindparam, literal, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from engine.access import audit, policy
from engine.casework import documents
from engine.errors import Conflict, Forbidden, NotFound, StaleState
from engine.mechanisms import hooks as task_hooks
from engine.oversight import notifications
from engine.runtime.definitions import definition
from engine.runtime.forms import process_variables, validate_submission
from engine.runtime.instances import advance_to_state, load, lock_task
from engine.runtime.projection import task_properties
from engine.runtime.step_write import mark_completed, write_completion
from engine.runtime.transactions import transactional
from engine.time import legal_events
from engine.time import task_due as clocks
from engine.time.clock import now
from engine.time.task_due import LEGAL_EVENTS
from models import (
    Agency,
    AuditChain,
    Case,
    HumanTask,
    HumanTaskState,
    InstanceStatus,
    ProcessInstance,
    User,
    case_chain,
)

COMPLETE_RETRIES = 3


def visible_task(session: Session, actor: User, task_id: int) -> HumanTask:
    """The task, if the actor may see it; otherwise NotFound, so ids reveal nothing."""
    task = session.get(HumanTask, task_id)
    if task is None or not policy.can_view_task(session, actor, task):
        raise NotFound(f"task {task_id} does not exist")
    return task


def _audit(session: Session, task: HumanTask | ClaimedTask, event_type: str, actor: User, **detail) -> None:
    audit.record(session, event_type, actor=actor, case_id=task.case_id,
                 instance_id=task.instance_id, task_id=task.id,
                 detail={"bpmn_id": task.bpmn_id, "title": task.title, **detail})


@dataclass(slots=True)
class ClaimedTask:
    """A task as its claim wrote it: its row's columns, its lane, its case's number and its
    process model (what the claim's checks, its audit event and the API's answer read), as plain
    values. Not the entity: reading the claim's row into one costs the ORM's loading on every
    claim, and no caller uses more (`visible_task` gives the entity). The UPDATE takes only an
    open task, which was never completed."""

    lane: str
    case_number: str
    process_model_id: int
    assignee_id: int
    assignee_name: str
    # The row's columns (`_CLAIMED_COLUMNS`).
    id: int
    case_id: int
    instance_id: int
    bpmn_id: str
    title: str
    agency_id: int
    role: str
    form_name: str | None
    claimed_at: datetime
    created_at: datetime
    due_at: datetime | None
    due_provisional: bool
    deadline_rule: str | None
    deadline_rule_id: str | None
    deadline_trigger_at: datetime | None
    deadline_basis: dict[str, Any] | None
    handoff: str | None
    state: str = HumanTaskState.OPEN.value
    completed_at: None = None
    completed_by_name: None = None


# One conditional UPDATE: of many simultaneous claims exactly one changes the row (built once:
# every claim runs it).
_TASKS = HumanTask.__table__
_CLAIM = (
    update(_TASKS)
    .where(_TASKS.c.id == bindparam("task_id"), _TASKS.c.state == HumanTaskState.OPEN, _TASKS.c.assignee_id.is_(None))
    .values(assignee_id=bindparam("user_id"), claimed_at=bindparam("at"))
)
# The task row's columns a ClaimedTask holds: the UPDATE returns them, and the read gives them first.
_CLAIMED_COLUMNS = ("id", "case_id", "instance_id", "bpmn_id", "title", "agency_id", "role", "form_name", "claimed_at",
                    "created_at", "due_at", "due_provisional", "deadline_rule", "deadline_rule_id",
                    "deadline_trigger_at", "deadline_basis", "handoff")


def _claimed(tasks: FromClause) -> Select:
    """The claimed row of `tasks` with its agency's code, its case's number, its instance's process
    model and its case's audit chain head, read without a lock (`audit.expect_head`): plain
    columns of the tables (no entities, so the session's Core path runs it)."""
    agencies, cases, instances = Agency.__table__, Case.__table__, ProcessInstance.__table__
    chains = AuditChain.__table__
    chain = literal("case:") + sql_cast(tasks.c.case_id, String)
    return (select(*(tasks.c[name] for name in _CLAIMED_COLUMNS), agencies.c.code, cases.c.number,
                   instances.c.process_model_id, chains.c.last_seq, chains.c.last_hash, chains.c.keyed_from,
                   chains.c.key_mac)
            .select_from(tasks)
            .join(agencies, agencies.c.id == tasks.c.agency_id).join(cases, cases.c.id == tasks.c.case_id)
            .join(instances, instances.c.id == tasks.c.instance_id)
            .outerjoin(chains, chains.c.name == chain))


# PostgreSQL: the UPDATE and the read of the row it returned in one statement.
_CLAIM_AND_READ = _claimed(_CLAIM.returning(*(_TASKS.c[name] for name in _CLAIMED_COLUMNS)).cte("claimed"))
# SQLite has no UPDATE in a CTE: the UPDATE returns the id, then the row is read (its write
# transaction is exclusive).
_CLAIM_ID = _CLAIM.returning(_TASKS.c.id)
_CLAIMED = _claimed(_TASKS).where(_TASKS.c.id == bindparam("task_id"))
_TASK_VALUES = len(_CLAIMED_COLUMNS)


@transactional
def claim_task(session: Session, actor: User, task_id: int) -> ClaimedTask:
    """Take an open task of one of the actor's lanes. One conditional UPDATE: of many
    simultaneous claims exactly one wins; the others get Conflict. The UPDATE comes first and the
    checks on the row it returns after it (a refusal rolls it back), so a claim is one statement."""
    values = {"task_id": task_id, "user_id": actor.id, "at": now(session)}
    loaded = session.identity_map.get(HumanTask.__mapper__.identity_key_from_primary_key((task_id,)))
    if loaded is not None:
        # What this session changed of the task is written first; it reads the task anew when
        # next used (the claim's row is not an entity).
        session.flush()
        session.expire(loaded)
    if session.get_bind().dialect.name == "postgresql":
        row = session.execute(_CLAIM_AND_READ, values).first()
    else:
        won = session.execute(_CLAIM_ID, values).first()
        row = session.execute(_CLAIMED, {"task_id": task_id}).first() if won else None
    if row is None:
        task = visible_task(session, actor, task_id)
        if not policy.works_in_lane(actor, task):
            raise Forbidden(f"task {task_id} belongs to lane {task.lane}, which is not yours")
        raise Conflict(_why_not_open(task, actor))
    read = tuple(row)
    code, number, model_id = read[_TASK_VALUES:_TASK_VALUES + 3]
    claimed = ClaimedTask(lane=f"{code}.{row.role}", case_number=number, process_model_id=model_id,
                          assignee_id=actor.id, assignee_name=actor.username,
                          **dict(zip(_CLAIMED_COLUMNS, read[:_TASK_VALUES], strict=True)))
    if not policy.works_in_lane(actor, claimed):
        # Unassigned until this UPDATE (which the refusal rolls back): the task is visible to
        # the actor only as a task of a case it may see.
        if not policy.can_view_case(session, actor, session.get_one(Case, claimed.case_id)):
            raise NotFound(f"task {task_id} does not exist")
        raise Forbidden(f"task {task_id} belongs to lane {claimed.lane}, which is not yours")
    head = read[_TASK_VALUES + 3:]
    audit.expect_head(session, case_chain(claimed.case_id), None if head[0] is None else head)
    _audit(session, claimed, "task_claimed", actor)
    return claimed


@transactional
def unclaim_task(session: Session, actor: User, task_id: int) -> HumanTask:
    """Give a claimed task back to its lane: by its assignee, or by a liaison of its agency."""
    task = visible_task(session, actor, task_id)
    if task.state != HumanTaskState.OPEN or task.assignee_id is None:
        raise Conflict(f"task {task_id} is not claimed")
    if task.assignee_id != actor.id and not policy.can_manage_lane(actor, task):
        raise Forbidden(f"task {task_id} is claimed by another user")
    previous = task.assignee_id
    released = cast("CursorResult[Any]", session.execute(
        update(HumanTask)
        .where(HumanTask.id == task_id, HumanTask.state == HumanTaskState.OPEN, HumanTask.assignee_id == previous)
        .values(assignee_id=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )).rowcount
    if not released:
        raise Conflict(f"task {task_id} changed while it was being released")
    session.refresh(task)
    _audit(session, task, "task_unclaimed", actor, previous_assignee_id=previous)
    return task


@transactional
def assign_task(session: Session, actor: User, task_id: int, assignee: User) -> HumanTask:
    """A liaison gives an open task to a user of its lane: the one assignment behind the task
    page and the API. While nobody holds the task it is delegated (`delegate_task`), otherwise
    reassigned from its assignee (`reassign_task`); each is audited under its own name."""
    task = visible_task(session, actor, task_id)
    if task.assignee_id is None:
        return _delegate(session, actor, task, assignee)
    return _reassign(session, actor, task, assignee)


@transactional
def reassign_task(session: Session, actor: User, task_id: int, assignee: User) -> HumanTask:
    """A liaison hands an open task to another user of the same lane; audited with before/after."""
    return _reassign(session, actor, visible_task(session, actor, task_id), assignee)


def _reassign(session: Session, actor: User, task: HumanTask, assignee: User) -> HumanTask:
    _check_handover(task, actor, assignee)
    previous = task.assignee_id
    session.execute(
        update(HumanTask)
        .where(HumanTask.id == task.id, HumanTask.state == HumanTaskState.OPEN)
        .values(assignee_id=assignee.id, claimed_at=now(session))
        .execution_options(synchronize_session=False)
    )
    session.refresh(task)
    _audit(session, task, "task_reassigned", actor, before=previous, after=assignee.id,
           after_username=assignee.username)
    notifications.task_handed_over(session, task, actor, "task_assigned")
    return task


@transactional
def delegate_task(session: Session, actor: User, task_id: int, assignee: User) -> HumanTask:
    """A liaison assigns an unclaimed task to a named user of its lane, who finds it under
    "mine" as if they had claimed it. One conditional UPDATE: if someone claimed the task
    meanwhile, Conflict (use reassign to take it from them). Audited with before/after."""
    return _delegate(session, actor, visible_task(session, actor, task_id), assignee)


def _delegate(session: Session, actor: User, task: HumanTask, assignee: User) -> HumanTask:
    _check_handover(task, actor, assignee)
    won = cast("CursorResult[Any]", session.execute(
        update(HumanTask)
        .where(HumanTask.id == task.id, HumanTask.state == HumanTaskState.OPEN, HumanTask.assignee_id.is_(None))
        .values(assignee_id=assignee.id, claimed_at=now(session))
        .execution_options(synchronize_session=False)
    )).rowcount
    if not won:
        raise Conflict(f"task {task.id} was claimed meanwhile")
    session.refresh(task)
    _audit(session, task, "task_delegated", actor, before=None, after=assignee.id,
           after_username=assignee.username)
    notifications.task_handed_over(session, task, actor, "task_delegated")
    return task


def _check_handover(task: HumanTask, actor: User, assignee: User) -> None:
    if not policy.can_manage_lane(actor, task):
        raise Forbidden("only a liaison of the task's agency may assign it")
    if task.state != HumanTaskState.OPEN:
        raise Conflict(f"task {task.id} is {task.state}")
    if not assignee.active or not policy.works_in_lane(assignee, task):
        raise Forbidden(f"{assignee.username} does not work in lane {task.lane}")


def complete_task(session: Session, actor: User, task_id: int, data: dict[str, Any],
                  standing: dict[str, Any] | None = None,
                  then: Callable[[Session], None] | None = None) -> HumanTask:
    """Complete a claimed task with its form data and run the instance to its next wait.

    Only the assignee may complete. The data is validated against the task's form first
    (InvalidInput with field errors, nothing changed). The instance state, the task rows it
    causes and the audit events are written in one transaction; if another writer advanced the
    instance meanwhile, the whole attempt is rolled back and retried from fresh state, and a
    task that the other writer already finished gives Conflict. `standing`: the standing approval
    a hand-off is approved under (engine/casework/standing.py), recorded with the approval.
    `then`: run last in the completion's transaction, after its writes and before its commit (a
    read that should see what it wrote without a transaction of its own).
    """
    for attempt in range(COMPLETE_RETRIES):
        try:
            return _complete_once(session, actor, task_id, data, standing, then)
        except StaleState:
            if attempt == COMPLETE_RETRIES - 1:
                raise
    raise AssertionError("unreachable")


@transactional
def _complete_once(session: Session, actor: User, task_id: int, data: dict[str, Any],
                   standing: dict[str, Any] | None = None,
                   then: Callable[[Session], None] | None = None) -> HumanTask:
    # Lock the task and its instance before reading anything that the transition depends on: a
    # second writer of the same instance waits here and then sees the first one's result, instead
    # of computing on stale state (the version check at write time stays as the last guard).
    locked = lock_task(session, task_id)
    if locked is None or not policy.can_view_task(session, actor, locked[0]):
        raise NotFound(f"task {task_id} does not exist")
    task, step = locked
    instance = step.instance
    if task.state != HumanTaskState.OPEN:
        raise Conflict(f"task {task_id} is already {task.state}")
    if task.assignee_id != actor.id:
        raise Forbidden(f"task {task_id} must be claimed by you before you complete it")
    if instance.status != InstanceStatus.RUNNING:
        raise Conflict(f"the process instance is {instance.status}; the task cannot be completed now")
    schema = definition(session, instance.process_model_id).form(task.form_name)
    data = validate_submission(schema, data)
    workflow = load(session, instance)
    spiff_task = workflow.get_task_from_id(UUID(task.task_guid))
    if spiff_task is None or spiff_task.state != TaskState.READY:
        raise Conflict(f"task {task_id} is no longer waiting for input")
    # Domain rules the form cannot state (engine/mechanisms/hooks.py); they may refuse or amend the data.
    props = task_properties(spiff_task.task_spec)
    data = task_hooks.before_complete(session, actor, task, schema, data, spiff_task, props.get("hook"),
                                      step.calendar)
    at = now(session)
    # The legal events this completion is, or whose dates the user entered (engine/time/legal_events.py).
    recorded = legal_events.on_completion(schema, data, props, spiff_task.data, step.legal_events, at)
    if recorded:
        spiff_task.data[LEGAL_EVENTS] = legal_events.with_recorded(spiff_task.data, recorded)
    variables = process_variables(schema, data)
    # A task that counts a period adds the working days it was open (engine/time/task_due.py).
    variables.update(clocks.spent_on_completion(step, spiff_task, task.created_at, at))
    spiff_task.data.update(variables)
    spiff_task.run()
    mark_completed(task, at, actor.id, data)
    _audit(session, task, "task_completed", actor, variables=variables,
           late=bool(task.due_at and at > task.due_at))
    for event in recorded:
        _audit(session, task, "legal_event_recorded", actor, event=event.event, at=event.at.isoformat(),
               entered_in=event.field)
    if task.handoff:
        approved = variables.get("handoff_approved", True) is not False
        _audit(session, task, "handoff_approved" if approved else "handoff_rejected", actor,
               direction=task.handoff, **({"standing": standing} if standing else {}))
    document_rules = props.get("documents")
    if document_rules:
        documents.issue_for_task(session, actor, task, spiff_task, document_rules)
    state = advance_to_state(step, workflow, actor)
    # The task and the instance in one statement that checks the instance's version.
    write_completion(session, task, instance, state)
    if then is not None:
        then(session)
    return task


def _why_not_open(task: HumanTask, actor: User) -> str:
    if task.state != HumanTaskState.OPEN:
        return f"task {task.id} is already {task.state}"
    if task.assignee_id == actor.id:
        return f"you have already claimed task {task.id}"
    return f"task {task.id} was claimed by someone else"
