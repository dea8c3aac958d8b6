"""Reading one case for its page and its API answer: the case if the user may see it, its
instances, its tasks and its timeline (engine/oversight/queries.py reads the inbox and lists)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, overload

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session, joinedload, selectinload

from engine.access import policy
from engine.errors import NotFound
from engine.oversight.queries import TASKS, task_line_columns, task_line_from
from models import Agency, AuditEvent, Case, CaseParticipant, HumanTask, ProcessInstance, User, case_chain

# Built once: every case page and case API call starts with it. The participants come with the
# case: the permission check reads them, and so does the page.
_CASE = (select(Case).options(joinedload(Case.participants)).where(Case.id == bindparam("case_id"))
         .execution_options(populate_existing=True))


@dataclass(frozen=True)
class CaseLine:
    """A case as its API answer shows it (`visible_case` with `lines`): `case`, the row of its
    columns (id, number, title, confidentiality, created_at; its owner agency's code as
    `owner_agency`, its creator's username as `created_by`), and `participants`, the rows of its
    participating agencies in order of joining (agency_id, role, joined_at; the agency's code as
    `agency`, its name as `agency_name`)."""

    case: Row
    participants: Sequence[Row]


@overload
def visible_case(session: Session, user: User, case_id: int, *, lines: Literal[False] = ...) -> Case: ...
@overload
def visible_case(session: Session, user: User, case_id: int, *, lines: Literal[True]) -> CaseLine: ...
def visible_case(session: Session, user: User, case_id: int, *, lines: bool = False) -> Case | CaseLine:
    """The case if the user may see it, else NotFound (existence is not revealed). `lines`: the
    `CaseLine` of what the API's answer shows, in one statement of columns (no entities built),
    the access decided on its participants' lines by the same rule (`can_view_case_among`)."""
    if lines:
        rows = session.execute(_CASE_LINE, {"case_id": case_id}).all()
        # One row per participant; the case's row alone (participant columns null) if it had none.
        participants = [row for row in rows if row.agency_id is not None]
        if not rows or not policy.can_view_case_among(user, participants):
            raise NotFound(f"case {case_id} does not exist")
        return CaseLine(rows[0], participants)
    case = session.execute(_CASE, {"case_id": case_id}).unique().scalar()
    if case is None or not policy.can_view_case(session, user, case):
        raise NotFound(f"case {case_id} does not exist")
    return case


def _case_line():
    cases, participants = Case.__table__, CaseParticipant.__table__
    owner, joined, creator = Agency.__table__.alias("owner"), Agency.__table__.alias("joined"), User.__table__
    return (select(cases.c.id, cases.c.number, cases.c.title, cases.c.confidentiality, cases.c.created_at,
                   owner.c.code.label("owner_agency"), creator.c.username.label("created_by"),
                   participants.c.agency_id, participants.c.role, participants.c.joined_at,
                   joined.c.code.label("agency"), joined.c.name.label("agency_name"))
            .select_from(cases.join(owner, owner.c.id == cases.c.owner_agency_id)
                         .join(creator, creator.c.id == cases.c.created_by_id)
                         .outerjoin(participants, participants.c.case_id == cases.c.id)
                         .outerjoin(joined, joined.c.id == participants.c.agency_id))
            .where(cases.c.id == bindparam("case_id"))
            # The order of Case.participants; then by row, for agencies that joined at the same time.
            .order_by(participants.c.joined_at, participants.c.id))


_CASE_LINE = _case_line()


@overload
def case_instances(session: Session, case: Case | Row, models: bool = ..., *,
                   lines: Literal[False] = ...) -> Sequence[ProcessInstance]: ...
@overload
def case_instances(session: Session, case: Case | Row, models: bool = ..., *,
                   lines: Literal[True]) -> Sequence[Row]: ...
def case_instances(session: Session, case: Case | Row, models: bool = True, *, lines: bool = False) -> Sequence:
    """The case's instances, oldest first; `models`: with their process model rows (pages show
    the model's name; the API reads key, name and version from the definitions in memory).
    `lines`: rows of the columns the API shows (id, process_model_id, status, started_at,
    completed_at) instead of entities."""
    if lines:
        return session.execute(_CASE_INSTANCE_LINES, {"case_id": case.id}).all()
    return session.scalars(_CASE_INSTANCES if models else _CASE_INSTANCES_ONLY, {"case_id": case.id}).all()


@overload
def case_tasks(session: Session, case: Case | Row, *, lines: Literal[False] = ...) -> Sequence[HumanTask]: ...
@overload
def case_tasks(session: Session, case: Case | Row, *, lines: Literal[True]) -> Sequence[Row]: ...
def case_tasks(session: Session, case: Case | Row, *, lines: bool = False) -> Sequence:
    """The case's tasks, oldest first; `lines`: rows of what an answer shows (`task_line_columns`)
    instead of entities, for the API's case (a third of the columns, no entities built)."""
    return session.execute(_CASE_TASK_LINES, {"case_id": case.id}).all() if lines else \
        session.scalars(_CASE_TASKS, {"case_id": case.id}).all()


# Built once, like the inbox's: a case page runs both.
_CASE_INSTANCES_ONLY = (select(ProcessInstance).where(ProcessInstance.case_id == bindparam("case_id"))
                        .order_by(ProcessInstance.id))
_CASE_INSTANCES = _CASE_INSTANCES_ONLY.options(joinedload(ProcessInstance.process_model))
_INSTANCE = ProcessInstance.__table__.c
_CASE_INSTANCE_LINES = (select(_INSTANCE.id, _INSTANCE.process_model_id, _INSTANCE.status, _INSTANCE.started_at,
                               _INSTANCE.completed_at)
                        .where(_INSTANCE.case_id == bindparam("case_id")).order_by(_INSTANCE.id))
_CASE_TASKS = (
    select(HumanTask).where(HumanTask.case_id == bindparam("case_id"))
    # One query: the users as names only (their memberships are not needed here).
    .options(joinedload(HumanTask.assignee).lazyload(User.memberships),
             joinedload(HumanTask.completed_by).lazyload(User.memberships))
    .order_by(HumanTask.created_at, HumanTask.id)
)
_CASE_TASK_LINES = (select(*task_line_columns()).select_from(task_line_from(TASKS))
                    .where(TASKS.c.case_id == bindparam("case_id")).order_by(TASKS.c.created_at, TASKS.c.id))


def case_timeline(session: Session, case: Case) -> Sequence[AuditEvent]:
    """The case's audit chain in order, with each actor and their agency."""
    return session.scalars(
        select(AuditEvent).where(AuditEvent.chain == case_chain(case.id))
        .options(selectinload(AuditEvent.actor), selectinload(AuditEvent.actor_agency))
        .order_by(AuditEvent.seq)
    ).all()
