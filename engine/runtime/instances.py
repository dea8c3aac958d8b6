"""Running process instances: start, advance, persist.

Each transition loads the instance, runs engine steps, and writes the new state together with
everything the steps caused (task rows, outbox messages, audit events) in the caller's
transaction. The state write is `UPDATE ... WHERE version = :read_version` (SQLAlchemy's
version_id_col), so of two concurrent writers exactly one wins; the other gets Conflict.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from operator import itemgetter
from typing import Any, NamedTuple, cast
from uuid import UUID

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Insert,
    Integer,
    String,
    Text,
    bindparam,
    insert,
    inspect,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session, defer, lazyload, undefer
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from engine.access import audit, policy
from engine.errors import Conflict, Forbidden, NotFound
from engine.runtime import outbox, projection, reached, timer_rows
from engine.runtime.definitions import Definition, definition
from engine.runtime.held import as_loaded
from engine.runtime.open_work import ENTERED_DAYS, calendar_of, step_of, with_open_work
from engine.runtime.spiff import dump_state, load_state, new_workflow
from engine.runtime.step import OpenWork, Step
from engine.runtime.transactions import transactional
from engine.time.clock import now
from models import Case, HumanTask, InstanceStatus, ProcessInstance, ProcessModel, User


def latest_model(session: Session, key: str) -> ProcessModel:
    model = session.scalar(
        select(ProcessModel).where(ProcessModel.key == key).order_by(ProcessModel.id.desc()).limit(1)
    )
    if model is None:
        raise NotFound(f"no process model '{key}' is deployed")
    return model


_INSTANCES = ProcessInstance.__table__
_MODELS = ProcessModel.__table__


def insert_instance(case_id: ColumnElement[Any], by: ColumnElement[Any]) -> Insert:
    """A new instance of the latest version of the mechanism the parameter `key` names, for the case
    `case_id`, started at the parameter `at` by `by`, inserted in one statement that picks the
    version, returns the business calendar's entered days for its first step's due times (as a
    lock's statement does, engine/runtime/open_work.py) and inserts nothing if no version is
    deployed: its row (`InsertedInstance`) is what `start_instance` goes on from. The case may be
    one the statement inserts (engine/casework/cases.py). Table columns, not the mapped class's:
    an ORM-enabled statement has the session set up loading for what it returns."""
    return (
        insert(_INSTANCES)
        .from_select(["case_id", "process_model_id", "status", "state_json", "version", "started_at", "started_by_id"],
                     select(case_id, _MODELS.c.id,
                            literal(InstanceStatus.RUNNING, String), literal("{}", Text), literal(1, Integer),
                            bindparam("at", type_=_INSTANCES.c.started_at.type), by)
                     .where(_MODELS.c.key == bindparam("key")).order_by(_MODELS.c.id.desc()).limit(1))
        .returning(_INSTANCES.c.id, _INSTANCES.c.process_model_id,
                   ENTERED_DAYS.scalar_subquery().label("entered_days"))
    )


# Built once: every mechanism started runs it.
_START = insert_instance(bindparam("case_id", type_=Integer), bindparam("by", type_=Integer))


class InsertedInstance(NamedTuple):
    """What a statement of `insert_instance` returned, and the time it was given."""

    id: int | None  # None: no version of the mechanism is deployed, nothing was inserted
    process_model_id: int | None
    entered_days: Any
    started_at: datetime


class Started(NamedTuple):
    instance: ProcessInstance
    workflow: BpmnWorkflow
    opened: list[HumanTask]  # the task rows its first steps opened
    step: Step  # its first step's context (`step.again()` for a further step in this transaction)


def start_instance(
    session: Session, case: Case, key: str, actor: User | None, data: dict[str, Any] | None = None,
    case_agencies: set[int] | None = None, inserted: InsertedInstance | None = None,
) -> Started:
    """Create an instance of the latest version of `key` for a case and run it to its first wait.

    Runs inside the caller's transaction; writes `instance_started` and whatever the first
    steps cause. `case_agencies`: the agencies taking part in the case, when the caller knows
    them (it has just opened the case). `inserted`: the instance's row, when the caller's own
    statement inserted it (`insert_instance`, with `key` and `actor`'s id).
    """
    by = actor.id if actor else None
    if inserted is None:
        at = now(session)
        row = session.execute(_START, {"case_id": case.id, "key": key, "at": at, "by": by}).first()
        instance_id, model_id, entered_days = row if row is not None else (None, None, None)
    else:
        instance_id, model_id, entered_days, at = inserted
    if instance_id is None or model_id is None:
        raise NotFound(f"no process model '{key}' is deployed")
    model = definition(session, model_id)
    # The row as inserted, in the session without reading it back.
    instance = as_loaded(ProcessInstance, id=instance_id, case_id=case.id, process_model_id=model_id,
                         status=InstanceStatus.RUNNING, state_json="{}", version=1, error=None,
                         started_at=at, started_by_id=by, completed_at=None)
    session.add(instance)
    workflow = new_workflow(model.spec_json, model.specs())
    initial = {"case_id": case.id, **(data or {})}
    # What `get_tasks(state=READY)` finds in a new workflow (its root, readied by its construction),
    # from its task map rather than through the walk of its tree.
    for task in workflow.tasks.values():
        if task.state == TaskState.READY:
            task.data.update(initial)
    # A new instance has nothing open yet: its first step need not ask.
    step = Step(session, instance, OpenWork({}, {}, case_agencies), calendar_of(entered_days))
    audit.record(
        session, "instance_started", actor=actor, case_id=case.id, instance_id=instance.id,
        detail={"process": model.key, "version": model.version[:12]},
    )
    opened = _run_steps(step, workflow, actor, model, flush=True)
    _write_first_state(step, dump_state(workflow))
    return Started(instance, workflow, opened, step)


# A new instance's state after its first steps, over the "{}" it was inserted with, and its version
# moved on as the unit of work's versioned UPDATE moves it: built once, where that flush of one
# column costs twice the statement.
_FIRST_STATE = (update(_INSTANCES)
                .where(_INSTANCES.c.id == bindparam("instance_id"), _INSTANCES.c.version == bindparam("read_version"))
                .values(state_json=bindparam("state", type_=Text), version=_INSTANCES.c.version + 1))


def _write_first_state(step: Step, state_json: str) -> None:
    """Write the state of an instance `start_instance` inserted, and then what else its steps left
    unwritten (as `advance` does). Only the state changed in the common case; a first step that
    failed or completed the instance changed more, which the unit of work writes."""
    session, instance = step.session, step.instance
    if inspect(instance).modified:
        instance.state_json = state_json
    else:
        version = instance.version
        written = cast("CursorResult[Any]", session.execute(
            _FIRST_STATE, {"instance_id": instance.id, "read_version": version, "state": state_json}))
        if written.rowcount != 1:  # as the unit of work's versioned UPDATE reports it
            raise StaleDataError(f"process instance {instance.id} was changed by someone else")
        set_committed_value(instance, "state_json", state_json)
        set_committed_value(instance, "version", version + 1)
    session.flush()


def load(session: Session, instance: ProcessInstance) -> BpmnWorkflow:
    model = definition(session, instance.process_model_id)
    return load_state(instance.state_json, model.spec_json, model.specs())


# Built once: building a statement costs more than running it (engine/runtime/open_work.py).
_LOCK_INSTANCE = with_open_work(
    select(ProcessInstance).where(ProcessInstance.id == bindparam("instance_id"))
    .options(undefer(ProcessInstance.state_json))
    .with_for_update(of=ProcessInstance).execution_options(populate_existing=True))
# The task's agency is not joined (its mapping's default): the acting user's memberships hold it in
# the session, and only the answer's lane reads it; the instance's start is not read by a step.
# The instance and the case as entities of their own, which the task is then given, rather than
# as its eagerly loaded relationships: the ORM resolves fewer loader paths on each execution.
_LOCK_TASK = with_open_work(
    select(HumanTask, ProcessInstance, Case)
    .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id).join(Case, Case.id == HumanTask.case_id)
    .where(HumanTask.id == bindparam("task_id"))
    .options(lazyload(HumanTask.agency), undefer(ProcessInstance.state_json),
             defer(ProcessInstance.started_at), defer(ProcessInstance.started_by_id))
    .with_for_update(of=[HumanTask, ProcessInstance]))
# Rows the session holds already are overwritten with what the lock read only when it holds some:
# populating existing objects costs the load more than a new object does.
_LOCK_TASK_AGAIN = _LOCK_TASK.execution_options(populate_existing=True)
_LOCKED_KINDS = frozenset((HumanTask, ProcessInstance, Case))


def lock_instance(session: Session, instance_id: int) -> Step:
    """Read the instance's latest state and open work (engine/runtime/open_work.py) and hold its
    row lock until the transaction ends (SELECT ... FOR UPDATE on PostgreSQL; SQLite's write
    transaction is already exclusive); the context of its next step."""
    found = session.execute(_LOCK_INSTANCE, {"instance_id": instance_id}).first()
    if found is None:
        raise NotFound(f"process instance {instance_id} does not exist")
    instance, open_work = found
    return step_of(session, instance, open_work)


def lock_task(session: Session, task_id: int) -> tuple[HumanTask, Step] | None:
    """A human task and its instance, both locked as `lock_instance` locks the instance, with the
    case and the instance's open work, in one statement: the task and its instance's step
    context; None if there is no such task. The task row is locked too, so what it says (open,
    its assignee) holds until the transaction ends."""
    # The session does not expire what it loaded at a commit: a task, instance or case an earlier
    # transaction of it read may be out of date, and the lock's read replaces what it holds.
    held = not _LOCKED_KINDS.isdisjoint(map(itemgetter(0), session.identity_map.keys()))
    found = session.execute(_LOCK_TASK_AGAIN if held else _LOCK_TASK, {"task_id": task_id}).first()
    if found is None:
        return None
    task, instance, case, open_work = found
    set_committed_value(task, "instance", instance)
    set_committed_value(task, "case", case)
    return task, step_of(session, instance, open_work)


def advance(step: Step, workflow: BpmnWorkflow, actor: User | None, flush: bool = True) -> list[HumanTask]:
    """Run engine steps of the step's instance and persist everything they caused, in the caller's
    transaction; returns the task rows opened.

    A failing script or condition does not lose the step that led to it: the instance is saved
    in the `error` state with the reason, for an administrator to fix and retry. With `flush`
    False the writes wait for the caller's next flush or commit, so a caller advancing many
    instances in one transaction (a worker's batch of timers) sends them together.
    """
    opened = _run_steps(step, workflow, actor, definition(step.session, step.instance.process_model_id), flush)
    step.instance.state_json = dump_state(workflow)
    if flush:
        step.session.flush()
    return opened


def advance_to_state(step: Step, workflow: BpmnWorkflow, actor: User | None) -> str:
    """`advance` without a flush, for a caller that writes the instance's new state itself
    (engine/runtime/step_write.py `write_completion`): returns that state, not set on the
    instance. Set, it would make the instance a change for the commit's flush to work through
    although the caller's own statement wrote it."""
    _run_steps(step, workflow, actor, definition(step.session, step.instance.process_model_id), False)
    return dump_state(workflow)


def _run_steps(step: Step, workflow: BpmnWorkflow, actor: User | None, model: Definition,
               flush: bool) -> list[HumanTask]:
    """`advance` but for writing the workflow's state: run the engine steps, write the rows they
    caused (with `flush`, flushing the timers'), return the task rows opened."""
    session, instance = step.session, step.instance
    open_work = step.take_open_work()
    # Elements of this mechanism with a reaction (engine/runtime/reached.py) that the steps run.
    key = model.key
    watched = reached.watched(key)
    passed: list[tuple[str, dict]] = []
    try:
        run_engine_steps(workflow, ran=(lambda task: _note(task, watched, passed)) if watched else None)
    except WorkflowException as exc:
        _fail(session, instance, exc, actor)
    else:
        if instance.status == InstanceStatus.ERROR:
            instance.status, instance.error = InstanceStatus.RUNNING, None
    outbox.queue_outgoing(session, instance, workflow)
    opened: list[HumanTask] = []
    try:
        opened = projection.sync_tasks(step, workflow, actor, open_work)
    except WorkflowException as exc:
        # A ready task that cannot be routed (its agency variable is wrong) stops the instance
        # like a failing script; its retry projects the task again.
        _fail(session, instance, exc, actor)
    try:
        timer_rows.sync_timers(step, workflow, open_work, flush=flush)
    except WorkflowException as exc:
        # Likewise a timer whose deadline variable holds no rule (engine/time/task_due.py).
        _fail(session, instance, exc, actor)
    if passed:
        reached.react(session, instance, key, passed, actor)
    # A task row just opened is a ready task: the workflow has not completed, no need to walk it.
    if not opened and workflow.is_completed() and instance.status == InstanceStatus.RUNNING:
        instance.status = InstanceStatus.COMPLETED
        instance.completed_at = now(session)
        audit.record(session, "instance_completed", actor=actor, case_id=instance.case_id,
                     instance_id=instance.id, detail={"process": key})
    return opened


def run_engine_steps(workflow: BpmnWorkflow, max_rounds: int = 50, ran=None) -> None:
    """Run until only people, timers or messages can move the workflow. `ran`: called with each
    task the steps run, after it ran.

    A message caught by one pool while another pool is stepping leaves the catching event READY
    after `do_engine_steps` returns, so step again until nothing automatic is ready.

    Nothing automatic ready (a person's completion that made the next person's task ready, the
    common case): `do_engine_steps` is not called at all. It would walk each process's task tree
    to find nothing to run and update the parent task of each subprocess still running, which
    changes nothing while that subprocess has not completed (its own end event, an automatic
    task, completes it).
    """
    for _ in range(max_rounds):
        workflow.refresh_timers()
        if not _automatic_ready(workflow):
            return
        workflow.do_engine_steps(did_complete_task=ran)
    raise WorkflowException(f"engine steps did not settle after {max_rounds} rounds")


def _automatic_ready(workflow: BpmnWorkflow) -> bool:
    """Whether an engine step would run something: a READY task that is not a person's, in the
    workflow or a subprocess. Every task of each process, as `get_tasks(state=READY)` would walk
    them, without its iterator's and filter's calls per task."""
    return any(
        task.state == TaskState.READY and not task.task_spec.manual
        for process in (workflow, *workflow.subprocesses.values())
        for task in process.tasks.values()
    )


def _note(task, watched: Mapping[str, Any], passed: list[tuple[str, dict]]) -> None:
    """Keep a task the steps ran if its element has a reaction, with its data as it was then."""
    bpmn_id = getattr(task.task_spec, "bpmn_id", None)
    if bpmn_id is not None and bpmn_id in watched and task.state == TaskState.COMPLETED:
        passed.append((bpmn_id, dict(task.data)))


def _fail(session: Session, instance: ProcessInstance, exc: WorkflowException, actor: User | None) -> None:
    task = getattr(exc, "task", None)
    instance.status = InstanceStatus.ERROR
    instance.error = {
        "message": str(exc.args[0]) if exc.args else exc.__class__.__name__,
        "task_guid": str(task.id) if task is not None else None,
        "bpmn_id": task.task_spec.bpmn_id if task is not None else None,
        "line": getattr(exc, "line_number", None) or None,
        "error_line": getattr(exc, "error_line", None) or None,
    }
    audit.record(session, "instance_failed", actor=actor, case_id=instance.case_id,
                 instance_id=instance.id, detail=instance.error)


def retry(step: Step, actor: User | None, corrections: dict[str, Any] | None = None) -> None:
    """Re-run an errored instance from its failed task, optionally with corrected variables."""
    session, instance = step.session, step.instance
    if instance.status != InstanceStatus.ERROR or not instance.error:
        raise Conflict(f"instance {instance.id} is not in the error state")
    workflow = load(session, instance)
    guid = instance.error.get("task_guid")
    task = workflow.get_task_from_id(UUID(guid)) if guid else None
    if task is not None and task.state == TaskState.ERROR:
        workflow.reset_from_task_id(task.id)
        # Reset re-inherits data from the parent task; corrections go on top of that.
        task.data.update(corrections or {})
    audit.record(session, "instance_retried", actor=actor, case_id=instance.case_id,
                 instance_id=instance.id,
                 detail={"error": instance.error, "corrected": sorted(corrections or {})})
    advance(step, workflow, actor)


@transactional
def retry_instance(session: Session, actor: User, instance_id: int,
                   corrections: dict[str, Any] | None = None) -> ProcessInstance:
    """An administrator re-runs an instance that stopped on a script error, optionally
    correcting the variables the failed step reads (one transaction, audited)."""
    if not policy.can_administer(actor):
        raise Forbidden("only administrators may retry a failed instance")
    step = lock_instance(session, instance_id)
    retry(step, actor, corrections)
    return step.instance
