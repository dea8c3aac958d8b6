"""Read-side queries for inbox and case pages, filtered by the access policy."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, Sequence, TypeVar

from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.orm import Session, selectinload

from models import Agency, AuditEvent, Case, HumanTask, ProcessInstance, ProcessModel, User, case_chain

from . import policy
from .errors import NotFound

T = TypeVar("T")
INBOX_VIEWS = ("all", "mine", "claimable")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class InboxFilter:
    """What the inbox is narrowed to: a mechanism (process model key), a case (its number or
    part of its title), a deadline window relative to `now`; and the order of deadlines."""

    mechanism: str | None = None
    case: str | None = None
    due: str | None = None  # one of DUE_WINDOWS
    now: datetime | None = None
    sort: str = "due"  # one of INBOX_SORTS


DUE_WINDOWS = ("overdue", "week", "none")
INBOX_SORTS = ("due", "-due")


def _narrowed(query, narrow: InboxFilter):
    if narrow.mechanism:
        query = query.where(HumanTask.instance_id.in_(
            select(ProcessInstance.id).join(ProcessModel, ProcessModel.id == ProcessInstance.process_model_id)
            .where(ProcessModel.key == narrow.mechanism)))
    if narrow.case:
        pattern = f"%{narrow.case.strip()}%"
        query = query.where(HumanTask.case_id.in_(
            select(Case.id).where(or_(Case.number.ilike(pattern), Case.title.ilike(pattern)))))
    if narrow.due == "none":
        query = query.where(HumanTask.due_at.is_(None))
    elif narrow.due in ("overdue", "week"):
        if narrow.now is None:
            raise ValueError("a deadline window needs `now`")
        query = query.where(HumanTask.due_at < narrow.now) if narrow.due == "overdue" else \
            query.where(HumanTask.due_at >= narrow.now, HumanTask.due_at < narrow.now + timedelta(days=7))
    return query


def inbox(session: Session, user: User, view: str = "all", page: int = 1, per_page: int = 20,
          case_id: int | None = None, narrow: InboxFilter | None = None) -> Page[HumanTask]:
    """Open tasks the user may claim (their lanes, unclaimed) and tasks assigned to them,
    soonest deadline first (latest first with sort "-due"); tasks without a deadline last,
    then oldest first. `case_id` narrows it to one case, `narrow` by mechanism, case and due window."""
    if view not in INBOX_VIEWS:
        raise ValueError(f"view must be one of {INBOX_VIEWS}")
    narrow = narrow or InboxFilter()
    lane_ids = [(m.agency_id, m.role) for m in user.memberships]
    claimable = and_(HumanTask.assignee_id.is_(None),
                     tuple_(HumanTask.agency_id, HumanTask.role).in_(lane_ids)) if lane_ids else False
    mine = HumanTask.assignee_id == user.id
    condition = {"all": or_(claimable, mine), "mine": mine, "claimable": claimable}[view]
    base = _narrowed(select(HumanTask).where(HumanTask.state == "open", condition), narrow)
    if case_id is not None:
        base = base.where(HumanTask.case_id == case_id)
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    page = max(1, page)
    due = HumanTask.due_at.desc() if narrow.sort == "-due" else HumanTask.due_at
    rows = session.scalars(
        base.options(selectinload(HumanTask.case), selectinload(HumanTask.assignee))
        .order_by(HumanTask.due_at.is_(None), due, HumanTask.created_at, HumanTask.id)
        .offset((page - 1) * per_page).limit(per_page)
    ).all()
    return Page(rows, total, page, per_page)


def visible_case(session: Session, user: User, case_id: int) -> Case:
    """The case if the user may see it, else NotFound (existence is not revealed)."""
    case = session.get(Case, case_id)
    if case is None or not policy.can_view_case(session, user, case):
        raise NotFound(f"case {case_id} does not exist")
    return case


def case_instances(session: Session, case: Case) -> Sequence[ProcessInstance]:
    return session.scalars(
        select(ProcessInstance).where(ProcessInstance.case_id == case.id).order_by(ProcessInstance.id)
    ).all()


def case_tasks(session: Session, case: Case) -> Sequence[HumanTask]:
    return session.scalars(
        select(HumanTask).where(HumanTask.case_id == case.id)
        .options(selectinload(HumanTask.assignee), selectinload(HumanTask.completed_by))
        .order_by(HumanTask.created_at, HumanTask.id)
    ).all()


def case_timeline(session: Session, case: Case) -> Sequence[AuditEvent]:
    """The case's audit chain in order, with each actor and their agency."""
    return session.scalars(
        select(AuditEvent).where(AuditEvent.chain == case_chain(case.id))
        .options(selectinload(AuditEvent.actor), selectinload(AuditEvent.actor_agency))
        .order_by(AuditEvent.seq)
    ).all()


def _visible_cases_query(user: User):
    query = select(Case)
    if not (user.has_role("supervisor") or user.has_role("admin")):
        from models import CaseParticipant

        agency_ids = [m.agency_id for m in user.memberships]
        query = query.where(Case.id.in_(
            select(CaseParticipant.case_id).where(CaseParticipant.agency_id.in_(agency_ids))
        ))
    return query


def visible_cases(session: Session, user: User, limit: int = 50) -> Sequence[Case]:
    """Recent cases the user's agency takes part in (all for supervisors)."""
    return session.scalars(_visible_cases_query(user).order_by(Case.created_at.desc()).limit(limit)).all()


def case_page(session: Session, user: User, page: int = 1, per_page: int = 20) -> Page[Case]:
    """The cases of `visible_cases`, newest first, one page at a time."""
    query = _visible_cases_query(user)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    page = max(1, page)
    rows = session.scalars(
        query.order_by(Case.created_at.desc(), Case.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return Page(rows, total, page, per_page)


def find_user(session: Session, username: str) -> User:
    """The user with this username, or NotFound."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"user '{username}' does not exist")
    return user


def agencies(session: Session) -> Sequence[Agency]:
    return session.scalars(select(Agency).order_by(Agency.id)).all()


def lane_users(session: Session, task: HumanTask) -> Sequence[User]:
    """Active users who work in the task's lane: whom a liaison may assign it to."""
    from models import Membership

    return session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.agency_id == task.agency_id, Membership.role == task.role, User.active.is_(True))
        .order_by(User.display_name, User.id)
    ).all()
