"""Projecting SpiffWorkflow's ready user tasks into `human_task` rows, which the inbox queries."""
from __future__ import annotations

import weakref
from typing import Any, cast

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import CursorResult, bindparam, insert, select, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from engine.access import audit
from engine.oversight import notifications
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
    ready = {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
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
    agency = _agency(session, agency_code)
    if agency is None:
        raise LookupError(f"agency '{agency_code}' of lane '{spec.lane}' is not set up")
    # The rule may come from a variable or count a stopped clock (engine/time/task_due.py).
    due = clocks.due_for(step, task, at)
    values = dict(
        instance_id=instance.id, case_id=instance.case_id, task_guid=str(task.id),
        bpmn_id=spec.bpmn_id, title=spec.bpmn_name or spec.bpmn_id, agency_id=agency.id,
        role=role, form_name=props.get("form"), state=HumanTaskState.OPEN, assignee_id=None, claimed_at=None,
        created_at=at, due_at=due.due.at if due else None, deadline_rule=due.rule if due else None,
        due_provisional=due.due.provisional if due else False, handoff=props.get("handoff"),
        completed_at=None, completed_by_id=None, deadline_rule_id=due.rule_id if due else None,
        deadline_trigger_at=due.trigger_at if due else None, deadline_basis=due.basis if due else None)
    # Inserted by a statement of its own, not the unit of work, and without the autoflush
    # that statements do: the step's other changes (the completed row, the instance's state)
    # are flushed together once, at its end.
    with session.no_autoflush:
        row = HumanTask(result=None, **values)
        set_committed_value(row, "agency", agency)
        set_committed_value(row, "case", session.get(Case, instance.case_id))  # mostly held already
        if session.get_bind().dialect.name == "postgresql":
            # The row and its lane's notices in one statement (the notices read the new id).
            notices = notifications.lane_notice_values(session, row, actor)
            row.id = session.execute(_NEW_ROW_NOTIFIED, {**_row_params(values), **notices}).scalar_one()
        else:
            row.id = session.execute(_NEW_ROW, _row_params(values)).scalar_one()
            notices = None
        make_transient_to_detached(row)
        session.add(row)
        if row.handoff:
            # For standing approvals, applied once this transaction commits (engine/casework/standing.py).
            session.info.setdefault(OPENED_HANDOFFS, []).append(row.id)
        if agencies is None or agency.id not in agencies:
            _join_case(session, instance.case_id, agency.id, at)
            if agencies is not None:
                agencies.add(agency.id)
        audit.record(
            session, "task_created", actor=actor, case_id=instance.case_id, instance_id=instance.id,
            task_id=row.id,
            detail={"bpmn_id": row.bpmn_id, "title": row.title, "lane": f"{agency_code}.{role}",
                    "due_at": row.due_at.isoformat() if row.due_at else None},
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


def _row_params(values: dict) -> dict:
    return {f"row_{name}": values[name] for name in _ROW_COLUMNS}


# Agency ids by code, per database engine: agencies are reference data, set up once and never
# renumbered (memberships and tasks point at their ids), so the code need not be looked up again.
_AGENCY_IDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _agency(session: Session, code: str) -> Agency | None:
    """The agency with this code: by primary key once its id is known, which costs no query
    when the session holds it already (the acting user's memberships load their agencies)."""
    ids = _AGENCY_IDS.setdefault(session.get_bind(Agency), {})
    if code in ids:
        agency = session.get(Agency, ids[code])
        if agency is not None and agency.code == code:
            return agency
    agency = session.scalar(select(Agency).where(Agency.code == code))
    if agency is not None:
        ids[code] = agency.id
    return agency


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
