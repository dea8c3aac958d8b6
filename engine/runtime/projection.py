"""Projecting SpiffWorkflow's ready user tasks into `human_task` rows, which the inbox queries."""
from __future__ import annotations

import weakref
from typing import Any, cast

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import CursorResult, bindparam, insert, select, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from engine.access import audit
from engine.oversight import notifications
from engine.runtime.held import with_values
from engine.runtime.lanes import AGENCY_CODES, parse_lane
from engine.runtime.sql import insert_if_absent
from engine.runtime.step import OpenWork, Step
from engine.time import task_due as clocks
from engine.time.clock import now
from models import Agency, Case, CaseParticipant, HumanTask, HumanTaskState, User

# session.info key: the hand-off tasks the session's transactions opened, until read.
OPENED_HANDOFFS = "opened_handoffs"


def task_properties(task_spec) -> dict[str, str]:
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {})


def task_lane(task, props: dict[str, str]) -> tuple[str, str]:
    """The (agency, role) a ready task belongs to: its lane, or with an `agency_from` property the
    agency named by that variable (one multi-instance task asking several agencies in turn),
    keeping the lane's role."""
    agency_code, role = parse_lane(task.task_spec.lane)
    variable = props.get("agency_from")
    if variable:
        named = task.data.get(variable)
        if named not in AGENCY_CODES:
            raise WorkflowException(
                f"task {task.task_spec.bpmn_id}: variable '{variable}' must name an agency "
                f"({', '.join(AGENCY_CODES)}), not {named!r}", task_spec=task.task_spec)
        agency_code = named
    return agency_code, role


def sync_tasks(step: Step, workflow: BpmnWorkflow, actor: User | None,
               open_work: OpenWork | None) -> list[HumanTask]:
    """Make the instance's open task rows match its ready user tasks; returns the rows opened.
    `open_work`: what the step's lock read (None: query the open rows).

    New ready tasks get a row (with lane, form and due time); rows whose task is no longer ready
    without having been completed through the engine (an interrupting event took the path away)
    are cancelled. The case gains each agency it reaches as a participant.
    """
    session, instance = step.session, step.instance
    ready = {str(t.id): t for t in ready_user_tasks(workflow)}
    open_ids = open_work.tasks if open_work is not None else _open_rows(session, instance.id)
    at = now(session)
    gone = [row_id for guid, row_id in open_ids.items() if guid not in ready]
    for row in _rows(session, gone):
        if row.state != HumanTaskState.OPEN:
            continue  # completed in this transaction, through the engine
        row.state = HumanTaskState.CANCELLED
        row.completed_at = at
        audit.record(session, "task_cancelled", actor=actor, case_id=instance.case_id,
                     instance_id=instance.id, task_id=row.id, detail={"bpmn_id": row.bpmn_id})
    agencies = open_work.agencies if open_work is not None else None
    return [_create_row(step, task, at, actor, agencies)
            for guid, task in ready.items() if guid not in open_ids]


def ready_user_tasks(workflow: BpmnWorkflow) -> list:
    """The ready user tasks, as `workflow.get_tasks(state=READY, manual=True)` gives them.

    SpiffWorkflow's walk of the tree passes every task through its iterator and filter, a few
    hundred calls on every step, to find mostly one task. They are picked from the processes'
    task maps instead; the walk decides only where its answer could differ: the order of several,
    or whether it reaches the one found (it stops 1,000 levels down and does not go below a task
    not yet definite)."""
    found: list = []
    total = 0
    for process in (workflow, *workflow.subprocesses.values()):
        tasks = process.tasks
        total += len(tasks)
        # The filter's own test: `manual` compared with ==, as TaskFilter.matches does.
        found += [task for task in tasks.values()
                  if task._state == _READY and task.task_spec.manual == True  # noqa: E712
                  and task.last_state_change >= 0]
    if not found:
        return found
    if len(found) == 1 and total < _WALK_DEPTH and _walk_reaches(workflow, found[0]):
        return found
    return workflow.get_tasks(state=TaskState.READY, manual=True)


_READY = TaskState.READY
# How deep SpiffWorkflow's walk goes: with fewer tasks than that in all, no path is deeper.
_WALK_DEPTH = 1000


def _walk_reaches(workflow: BpmnWorkflow, task) -> bool:
    """Whether the walk from the root reaches `task`: it goes below every task of its path, if each
    is definite or finished, and into a subprocess from the task that runs it. False where in doubt."""
    node = task
    while True:
        process = node.workflow
        tasks = process.tasks
        while node._parent is not None:
            node = tasks.get(node._parent)
            if node is None or node._state < TaskState.FUTURE:
                return False
        if node is not process.task_tree:
            return False
        if process is workflow:
            return True
        owner_id = process.parent_task_id
        if workflow.subprocesses.get(owner_id) is not process:
            return False
        owner = next((p.tasks[owner_id] for p in (workflow, *workflow.subprocesses.values()) if owner_id in p.tasks),
                     None)
        if owner is None:
            return False
        node = owner


def _open_rows(session: Session, instance_id: int) -> dict[str, int]:
    """{task id: row id} of the instance's open rows, when the step's lock did not read them
    (engine/runtime/open_work.py). Only the ids: a parallel multi-instance task may hold a
    thousand open rows, and loading them as objects on every step would cost more than the step."""
    return dict(session.execute(
        select(HumanTask.task_guid, HumanTask.id)
        .where(HumanTask.instance_id == instance_id, HumanTask.state == HumanTaskState.OPEN)
    ).all())


def _rows(session: Session, ids: list[int]) -> list[HumanTask]:
    """These task rows as objects: the ones this session holds as they are (a row completed in
    this transaction is open in the database until the flush), the others in one query."""
    held = [session.identity_map.get(identity_key(HumanTask, row_id)) for row_id in ids]
    rows = [row for row in held if row is not None]
    missing = [row_id for row_id, row in zip(ids, held, strict=True) if row is None]
    if missing:
        rows += session.scalars(select(HumanTask).where(HumanTask.id.in_(missing)))
    return sorted(rows, key=lambda row: row.id)


def _create_row(step: Step, task, at, actor: User | None, agencies: set[int] | None) -> HumanTask:
    session, instance = step.session, step.instance
    spec = task.task_spec
    props = task_properties(spec)
    agency_code, role = task_lane(task, props)
    agency_id, agency = _agency(session, agency_code)
    if agency_id is None:
        raise LookupError(f"agency '{agency_code}' of lane '{spec.lane}' is not set up")
    # The rule may come from a variable or count a stopped clock (engine/time/task_due.py).
    due = clocks.due_for(step, task, at)
    values = dict(
        instance_id=instance.id, case_id=instance.case_id, task_guid=str(task.id),
        bpmn_id=spec.bpmn_id, title=spec.bpmn_name or spec.bpmn_id, agency_id=agency_id,
        role=role, form_name=props.get("form"), state=HumanTaskState.OPEN, assignee_id=None, claimed_at=None,
        created_at=at, due_at=due.due.at if due else None, deadline_rule=due.rule if due else None,
        due_provisional=due.due.provisional if due else False, handoff=props.get("handoff"),
        completed_at=None, completed_by_id=None, deadline_rule_id=due.rule_id if due else None,
        deadline_trigger_at=due.trigger_at if due else None, deadline_basis=due.basis if due else None)
    # Inserted by a statement of its own, not the unit of work, and without the autoflush
    # that statements do: the step's other changes (the completed row, the instance's state)
    # are flushed together once, at its end.
    with session.no_autoflush:
        # The case mostly held already: found as session.get finds it, without its steps.
        case = session.identity_map.get(identity_key(Case, instance.case_id))
        row = _held_row(values, agency, case if case is not None else session.get(Case, instance.case_id))
        if session.get_bind().dialect.name == "postgresql":
            # The row and its lane's notices in one statement (the notices read the new id).
            notices = notifications.lane_notice_values(session, row, actor)
            row_id = session.execute(_NEW_ROW_NOTIFIED, {**_row_params(values), **notices}).scalar_one()
        else:
            row_id = session.execute(_NEW_ROW, _row_params(values)).scalar_one()
            notices = None
        row.__dict__["id"] = row_id
        make_transient_to_detached(row)
        session.add(row)
        if values["handoff"]:
            # For standing approvals, applied once this transaction commits (engine/casework/standing.py).
            session.info.setdefault(OPENED_HANDOFFS, []).append(row_id)
        if agencies is None or agency_id not in agencies:
            _join_case(session, instance.case_id, agency_id, at)
            if agencies is not None:
                agencies.add(agency_id)
        audit.record(
            session, "task_created", actor=actor, case_id=instance.case_id, instance_id=instance.id,
            task_id=row_id,
            detail={"bpmn_id": values["bpmn_id"], "title": values["title"], "lane": f"{agency_code}.{role}",
                    "due_at": values["due_at"].isoformat() if values["due_at"] else None},
        )
        if notices is None:
            notifications.task_opened(session, row, actor)
    return row


# A new row's INSERT, returning its id (built once: every task the engine opens runs it); on
# PostgreSQL with the lane's notices as a second data-modifying CTE reading the id.
_ROW = HumanTask.__table__
_ROW_COLUMNS = ("instance_id", "case_id", "task_guid", "bpmn_id", "title", "agency_id", "role", "form_name",
                "state", "assignee_id", "claimed_at", "created_at", "due_at", "deadline_rule", "due_provisional",
                "handoff", "completed_at", "completed_by_id", "deadline_rule_id", "deadline_trigger_at",
                "deadline_basis")
_NEW_ROW = (insert(_ROW).values({name: bindparam(f"row_{name}", type_=_ROW.c[name].type) for name in _ROW_COLUMNS})
            .returning(_ROW.c.id))
_NEW_TASK = _NEW_ROW.cte("new_task")
_NEW_ROW_NOTIFIED = select(_NEW_TASK.c.id).add_cte(
    notifications.lane_notices(select(_NEW_TASK.c.id).scalar_subquery()).cte("lane_notices"))




def _held_row(values: dict, agency: Agency | None, case: Case | None) -> HumanTask:
    """The new row as an object, with its agency and case, as a query would have loaded it: its
    values put in place as loading puts them, not set one by one through the attribute events
    of the constructor, which cost more than the INSERT (make_transient_to_detached then
    takes them as the row's committed state). An agency or case not given is loaded when read."""
    row = with_values(HumanTask, {**values, "result": None})
    if agency is not None:
        row.__dict__["agency"] = agency
    if case is not None:
        row.__dict__["case"] = case
    return row


def _row_params(values: dict) -> dict:
    return {f"row_{name}": values[name] for name in _ROW_COLUMNS}


# Agency ids (and identity keys) by code, per database engine: agencies are reference data, set up once and never
# renumbered (memberships and tasks point at their ids), so the code need not be looked up again.
_AGENCY_IDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _agency(session: Session, code: str) -> tuple[int | None, Agency | None]:
    """The id of the agency with this code, and the agency if the session holds it (the acting
    user's memberships load theirs): once its id is known, no query. A task opened for another
    agency (a hand-off) needs only its id; its agency is loaded if something reads it."""
    known = _AGENCY_IDS.setdefault(session.get_bind(Agency), {})
    if code in known:
        agency_id, key = known[code]
        return agency_id, session.identity_map.get(key)  # as session.get finds it, without its steps
    agency = session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        return None, None
    known[code] = (agency.id, identity_key(Agency, agency.id))
    return agency.id, agency


def _join_case(session: Session, case_id: int, agency_id: int, at) -> None:
    """Record the agency as a party once; concurrent writers may race, so upsert. An agency that
    observed the case (copied on it) becomes a party with its first task. A case this session
    holds with its participants loaded reads them again when next asked."""
    joined = insert_if_absent(session, CaseParticipant, case_id=case_id, agency_id=agency_id, joined_at=at,
                              role="party")
    if not joined:
        joined = bool(cast("CursorResult[Any]", session.execute(
            update(CaseParticipant).where(CaseParticipant.case_id == case_id, CaseParticipant.agency_id == agency_id,
                                          CaseParticipant.role == "observer")
            .values(role="party"))).rowcount)  # rows this session holds are updated too
    if joined:
        case = session.identity_map.get(identity_key(Case, case_id))
        if case is not None:
            session.expire(case, ["participants"])
