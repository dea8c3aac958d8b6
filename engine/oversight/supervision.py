"""Supervision queries: open work past its deadline, across agencies for the task-force office.

Read-only and shared by the supervision pages and the JSON API, so both show the same rows to
the same people.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, load_only, selectinload

from engine.access import policy
from engine.errors import Forbidden
from engine.oversight.queries import Page
from engine.time.clock import now
from models import Agency, HumanTask, HumanTaskState, ProcessInstance, ProcessModel, User


def overdue_tasks(
    session: Session, user: User, agency: str | None = None, mechanism: str | None = None,
    case_id: int | None = None, page: int = 1, per_page: int = 20,
) -> Page[HumanTask]:
    """Open tasks whose deadline has passed, most overdue first.

    Supervisors see every agency; an agency head sees their own agency's tasks only and is
    refused (Forbidden) another agency's; other users are refused. `agency` is an agency code,
    `mechanism` a process model key, `case_id` one case. Nothing is written.
    """
    scope = policy.supervised_agency_ids(user)
    if scope is not None and not scope:
        raise Forbidden("only supervisors and agency heads follow overdue work")
    query = select(HumanTask).where(HumanTask.state == HumanTaskState.OPEN, HumanTask.due_at < now(session))
    query = supervised(session, query, scope, agency, mechanism, case_id)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    page = max(1, page)
    rows = session.scalars(
        # Assignees by name only: their memberships are not shown.
        query.options(selectinload(HumanTask.case), selectinload(HumanTask.assignee).lazyload(User.memberships),
                      # The pages name the mechanism; the instance's state and the model's
                      # sources and spec (large JSON, decoded per row) are not read here.
                      selectinload(HumanTask.instance).options(
                          load_only(ProcessInstance.case_id, ProcessInstance.process_model_id,
                                    ProcessInstance.status, ProcessInstance.version),
                          joinedload(ProcessInstance.process_model).load_only(
                              ProcessModel.key, ProcessModel.name, ProcessModel.version)))
        .order_by(HumanTask.due_at, HumanTask.id)
        .offset((page - 1) * per_page).limit(per_page)
    ).all()
    return Page(rows, total, page, per_page)


def supervised(session: Session, query, scope: set[int] | None, agency: str | None,
               mechanism: str | None, case_id: int | None):
    """The supervision pages' filters on a query of human tasks: the agencies the user oversees
    (`scope`, None for all), then agency code, mechanism (process model key) and case. Asking
    for an agency outside the scope is Forbidden."""
    if scope is not None:
        query = query.where(HumanTask.agency_id.in_(scope))
    if agency is not None:
        agency_id = session.scalar(select(Agency.id).where(Agency.code == agency))
        if scope is not None and agency_id not in scope:
            raise Forbidden(f"you do not supervise agency '{agency}'")
        query = query.where(HumanTask.agency_id == agency_id)
    if mechanism is not None:
        query = query.where(HumanTask.instance_id.in_(
            select(ProcessInstance.id).join(ProcessModel).where(ProcessModel.key == mechanism)))
    if case_id is not None:
        query = query.where(HumanTask.case_id == case_id)
    return query
