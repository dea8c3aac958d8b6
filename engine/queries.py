"""Read-side queries for inbox and case pages, filtered by the access policy."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, Sequence, TypeVar

from sqlalchemy import and_, func, literal_column, or_, select, union_all
from sqlalchemy.orm import Session, joinedload, selectinload

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


def _inbox_order(narrow: InboxFilter, columns):
    """Soonest deadline first (latest first with sort "-due"), tasks without a deadline last,
    then oldest first: for "due" exactly the order of the inbox indexes (models/workflow.py)."""
    due = columns.due_at.desc() if narrow.sort == "-due" else columns.due_at.asc()
    return due.nulls_last(), columns.created_at.asc(), columns.id.asc()


def _inbox_parts(user: User, view: str) -> list:
    """The conditions whose union is the view, each served by one inbox index: unclaimed work of
    each of the user's lanes, and work claimed by the user. They never overlap."""
    parts = []
    if view in ("all", "claimable"):
        lanes = sorted({(m.agency_id, m.role) for m in user.memberships})
        parts += [and_(HumanTask.assignee_id.is_(None), HumanTask.agency_id == agency_id, HumanTask.role == role)
                  for agency_id, role in lanes]
    if view in ("all", "mine"):
        parts.append(HumanTask.assignee_id == user.id)
    return parts


def _union(selects: list):
    return selects[0] if len(selects) == 1 else union_all(*selects)


def inbox(session: Session, user: User, view: str = "all", page: int = 1, per_page: int = 20,
          case_id: int | None = None, narrow: InboxFilter | None = None) -> Page[HumanTask]:
    """Open tasks the user may claim (their lanes, unclaimed) and tasks assigned to them,
    soonest deadline first (latest first with sort "-due"); tasks without a deadline last,
    then oldest first. `case_id` narrows it to one case, `narrow` by mechanism, case and due window.

    Each lane and the user's own work are read as separate ordered, limited index scans and
    merged, so a page costs the same however many tasks match; `total` is exact, counted over
    the same indexes (no table rows read when no mechanism or case filter is set)."""
    if view not in INBOX_VIEWS:
        raise ValueError(f"view must be one of {INBOX_VIEWS}")
    narrow = narrow or InboxFilter()
    page = max(1, page)
    parts = _inbox_parts(user, view)
    if not parts:
        return Page([], 0, page, per_page)

    def matching(condition, *columns):
        # The state as a literal, not a parameter: the inbox indexes are partial (state = 'open'),
        # and a prepared statement's generic plan could not prove a parameter matches them.
        query = _narrowed(select(*columns).where(HumanTask.state == literal_column("'open'"), condition), narrow)
        return query if case_id is None else query.where(HumanTask.case_id == case_id)

    total = session.scalar(select(func.count()).select_from(
        _union([matching(part, HumanTask.id) for part in parts]).subquery()))
    ordered = [select(matching(part, HumanTask.id, HumanTask.due_at, HumanTask.created_at)
                      .order_by(*_inbox_order(narrow, HumanTask)).limit(page * per_page).subquery())
               for part in parts]
    merged = _union(ordered).subquery()
    top = (select(merged).order_by(*_inbox_order(narrow, merged.c))
           .offset((page - 1) * per_page).limit(per_page).subquery())
    rows = session.scalars(
        select(HumanTask).join(top, top.c.id == HumanTask.id)
        # One round trip for the page: its cases and assignees joined (not their memberships).
        .options(joinedload(HumanTask.case), joinedload(HumanTask.assignee).lazyload(User.memberships))
        .order_by(*_inbox_order(narrow, top.c))
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
