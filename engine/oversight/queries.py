"""Read-side queries for inbox and case pages, filtered by the access policy."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Generic, Literal, TypeVar, overload

from sqlalchemy import Integer, Row, String, and_, bindparam, case, func, literal_column, or_, select, union_all
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.sql.expression import BindParameter

from engine.access import policy
from engine.errors import NotFound
from models import (
    Agency,
    Case,
    HumanTask,
    Membership,
    ProcessInstance,
    ProcessModel,
    User,
)

T = TypeVar("T")
INBOX_VIEWS = ("all", "mine", "claimable")
# The inbox's statements are written on the tables, not the mapped classes: a statement of columns
# then runs without the ORM's layer (the API's lines), and the entities' statement joins them alike.
TASKS = HumanTask.__table__
_T = TASKS.c


@dataclass(frozen=True)
class Handover:
    """Who handed an inbox task over and when: the completer of the instance's task completed
    last before it opened, else the instance's starter (None for a message) and its start."""

    by: str | None
    at: datetime | None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    page: int
    per_page: int
    # The inbox's rows: {task id: Handover}, read in the page's one statement.
    handovers: dict[int, Handover] = field(default_factory=dict)

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
    """The filters of `narrow` as bound parameters (values in `_inbox_values`), so one
    statement serves every user and value of the same shape (`_inbox_shape`)."""
    if narrow.mechanism:
        instance, model = ProcessInstance.__table__.c, ProcessModel.__table__.c
        query = query.where(_T.instance_id.in_(
            select(instance.id).join(ProcessModel.__table__, model.id == instance.process_model_id)
            .where(model.key == _param("mechanism", String))))
    if narrow.case:
        pattern, cases = _param("case_pattern", String), Case.__table__.c
        query = query.where(_T.case_id.in_(
            select(cases.id).where(or_(cases.number.ilike(pattern), cases.title.ilike(pattern)))))
    if narrow.due == "none":
        query = query.where(_T.due_at.is_(None))
    elif narrow.due in ("overdue", "week"):
        if narrow.now is None:
            raise ValueError("a deadline window needs `now`")
        due_at, start = _T.due_at, _param("due_from", _T.due_at.type)
        query = query.where(due_at < start) if narrow.due == "overdue" else \
            query.where(due_at >= start, due_at < _param("due_until", _T.due_at.type))
    return query


def _param(name: str, type_) -> BindParameter:
    # No default value: a statement executed without one of its values fails instead of using
    # the value of whoever built it.
    return bindparam(name, type_=type_, required=True)


def _inbox_order(narrow: InboxFilter, columns):
    """Soonest deadline first (latest first with sort "-due"), tasks without a deadline last,
    then oldest first: for "due" exactly the order of the inbox indexes (models/workflow.py)."""
    due = columns.due_at.desc() if narrow.sort == "-due" else columns.due_at.asc()
    return due.nulls_last(), columns.created_at.asc(), columns.id.asc()


def _inbox_lanes(user: User, view: str) -> list[tuple[int, str]]:
    return sorted({(m.agency_id, m.role) for m in user.memberships}) if view in ("all", "claimable") else []


def _inbox_parts(lane_count: int, view: str) -> list:
    """The conditions whose union is the view, each served by one inbox index: unclaimed work of
    each of the user's lanes, and work claimed by the user. They never overlap."""
    parts = [and_(_T.assignee_id.is_(None), _T.agency_id == _param(f"agency_{n}", Integer),
                  _T.role == _param(f"role_{n}", String))
             for n in range(lane_count)]
    if view in ("all", "mine"):
        parts.append(_T.assignee_id == _param("user_id", Integer))
    return parts


def _union(selects: list):
    return selects[0] if len(selects) == 1 else union_all(*selects)


def _inbox_shape(view: str, lane_count: int, narrow: InboxFilter, case_id: int | None) -> tuple:
    """What decides the inbox statements' SQL; everything else is a parameter value."""
    return (view, lane_count, case_id is not None, bool(narrow.mechanism), bool(narrow.case),
            narrow.due if narrow.due in DUE_WINDOWS else None, narrow.sort)


def _inbox_values(user: User, lanes, narrow: InboxFilter, case_id: int | None, page: int, per_page: int) -> dict:
    values: dict[str, Any] = {"user_id": user.id, "case_id": case_id, "window": page * per_page,
              "offset": (page - 1) * per_page, "limit": per_page}
    for n, (agency_id, role) in enumerate(lanes):
        values[f"agency_{n}"], values[f"role_{n}"] = agency_id, role
    if narrow.mechanism:
        values["mechanism"] = narrow.mechanism
    if narrow.case:
        values["case_pattern"] = f"%{narrow.case.strip()}%"
    if narrow.now is not None:
        values["due_from"], values["due_until"] = narrow.now, narrow.now + timedelta(days=7)
    return values


@lru_cache(maxsize=256)
def _inbox_statements(shape: tuple, lines: bool = False) -> tuple:
    """The statements of one inbox shape, built once per process (building and hashing them
    took longer than running them, bench/RESULTS.md; a few dozen shapes exist in practice: view x
    number of lanes x filters used): the total alone for a page past the end, and the page's
    rows each with the total (an uncorrelated subquery, evaluated once), as entities or as
    `lines` (`_line_columns`)."""
    view, lane_count, by_case, mechanism, case, due, sort = shape
    # Placeholders that give the statement its shape; every value is bound when it runs.
    window_start = datetime.min.replace(tzinfo=timezone.utc) if due in ("overdue", "week") else None
    narrow = InboxFilter(mechanism="x" if mechanism else None, case="x" if case else None, due=due,
                         now=window_start, sort=sort)
    parts = _inbox_parts(lane_count, view)

    def matching(condition, *columns):
        # The state as a literal, not a parameter: the inbox indexes are partial (state = 'open'),
        # and a prepared statement's generic plan could not prove a parameter matches them.
        query = _narrowed(select(*columns).where(_T.state == literal_column("'open'"), condition), narrow)
        return query.where(_T.case_id == _param("case_id", Integer)) if by_case else query

    count = select(func.count()).select_from(_union([matching(part, _T.id) for part in parts]).subquery())
    ordered = [select(matching(part, _T.id, _T.due_at, _T.created_at)
                      .order_by(*_inbox_order(narrow, _T)).limit(_param("window", Integer)).subquery())
               for part in parts]
    merged = _union(ordered).subquery()
    top = (select(merged).order_by(*_inbox_order(narrow, merged.c))
           .offset(_param("offset", Integer)).limit(_param("limit", Integer)).subquery())
    total, handover = count.scalar_subquery().label("total"), _handover_columns()
    if lines:
        cases = Case.__table__
        return count, (
            select(*task_line_columns(), cases.c.number.label("case_number"), cases.c.title.label("case_title"),
                   total, *handover)
            .select_from(task_line_from(TASKS.join(top, top.c.id == _T.id)).join(cases, cases.c.id == _T.case_id))
            .order_by(*_inbox_order(narrow, top.c)))
    return count, (
        select(HumanTask, total, *handover).join(top, top.c.id == HumanTask.id)
        # One round trip for the page: its cases and assignees joined (not their memberships).
        .options(joinedload(HumanTask.case), joinedload(HumanTask.assignee).lazyload(User.memberships))
        .order_by(*_inbox_order(narrow, top.c))
    )


@overload
def inbox(session: Session, user: User, view: str = ..., page: int = ..., per_page: int = ...,
          case_id: int | None = ..., narrow: InboxFilter | None = ..., *,
          lines: Literal[False] = ...) -> Page[HumanTask]: ...
@overload
def inbox(session: Session, user: User, view: str = ..., page: int = ..., per_page: int = ...,
          case_id: int | None = ..., narrow: InboxFilter | None = ..., *,
          lines: Literal[True]) -> Page[Row]: ...
def inbox(session: Session, user: User, view: str = "all", page: int = 1, per_page: int = 20,
          case_id: int | None = None, narrow: InboxFilter | None = None, *, lines: bool = False) -> Page:
    """Open tasks the user may claim (their lanes, unclaimed) and tasks assigned to them,
    soonest deadline first (latest first with sort "-due"); tasks without a deadline last,
    then oldest first. `case_id` narrows it to one case, `narrow` by mechanism, case and due window.

    Each lane and the user's own work are read as separate ordered, limited index scans and
    merged, so a page costs the same however many tasks match; `total` is exact, counted over
    the same indexes (no table rows read when no mechanism or case filter is set) in the same
    statement as the page. The statements are built once per shape and run with this
    request's values.

    `lines`: the items are rows of what an answer shows (`task_lines`, with the case's number
    and title and the hand-over as `handed_over_by`, `handed_over_at`) instead of entities
    with `handovers`: no entities built, a third of the columns."""
    if view not in INBOX_VIEWS:
        raise ValueError(f"view must be one of {INBOX_VIEWS}")
    narrow = narrow or InboxFilter()
    if narrow.due in ("overdue", "week") and narrow.now is None:
        raise ValueError("a deadline window needs `now`")
    page = max(1, page)
    lanes = _inbox_lanes(user, view)
    if not lanes and view == "claimable":
        return Page([], 0, page, per_page)
    count, rows = _inbox_statements(_inbox_shape(view, len(lanes), narrow, case_id), lines)
    values = _inbox_values(user, lanes, narrow, case_id, page, per_page)
    found = session.execute(rows, values).all()
    if found:
        total = found[0].total
    else:  # nothing on this page: nothing at all on the first, else count without rows
        total = 0 if page == 1 else session.scalar(count, values)
    if lines:
        return Page(found, total, page, per_page)
    return Page([row[0] for row in found], total, page, per_page,
                {row[0].id: Handover(row[2], row[3]) for row in found})


def task_line_columns() -> tuple:
    """A task's columns that an answer shows (web/api/dumps.py), its lane as one text and its
    users as their usernames (`assignee_name`, `completed_by_name`), on the tables of `task_line_from`."""
    agency, assignee, completer = Agency.__table__, _ASSIGNEE, _COMPLETER
    return (_T.id, _T.case_id, _T.instance_id, _T.bpmn_id, _T.title,
            (agency.c.code + literal_column("'.'", String) + _T.role).label("lane"), _T.state,
            assignee.c.username.label("assignee_name"), _T.claimed_at, _T.created_at, _T.due_at,
            _T.due_provisional, _T.deadline_rule, _T.deadline_rule_id, _T.deadline_trigger_at, _T.deadline_basis,
            _T.handoff, _T.form_name, _T.completed_at, completer.c.username.label("completed_by_name"))


def task_line_from(tasks):
    agency = Agency.__table__
    return (tasks.join(agency, agency.c.id == _T.agency_id)
            .outerjoin(_ASSIGNEE, _ASSIGNEE.c.id == _T.assignee_id)
            .outerjoin(_COMPLETER, _COMPLETER.c.id == _T.completed_by_id))


_ASSIGNEE, _COMPLETER = User.__table__.alias("assignee"), User.__table__.alias("completer")


def _handover_columns() -> tuple:
    """Who handed a task over and when, as correlated subqueries of the page's statement (one
    round trip still): the instance's task completed last at or before the task opened (the
    step before it), else the instance's starter and start."""
    before = TASKS.alias("before")
    previous = (select(before.c.id).where(before.c.instance_id == _T.instance_id,
                                          before.c.state == literal_column("'completed'"),
                                          before.c.completed_at <= _T.created_at)
                .order_by(before.c.completed_at.desc(), before.c.id.desc()).limit(1)
                # Explicitly: nested in the subqueries below, it would otherwise not correlate to
                # the page's task and read every task of every instance.
                .correlate(TASKS).scalar_subquery())
    done, completer, starter = TASKS.alias("done"), User.__table__.alias("completer_"), User.__table__.alias("starter")
    instances = ProcessInstance.__table__
    by_completer = (select(completer.c.display_name).join(done, done.c.completed_by_id == completer.c.id)
                    .where(done.c.id == previous).scalar_subquery())
    at_completion = select(done.c.completed_at).where(done.c.id == previous).scalar_subquery()
    started = (select(starter.c.display_name).join(instances, instances.c.started_by_id == starter.c.id)
               .where(instances.c.id == _T.instance_id).scalar_subquery())
    started_at = select(instances.c.started_at).where(instances.c.id == _T.instance_id)
    # Not coalesced: a step completed by the system names nobody rather than the starter.
    return (case((previous.is_not(None), by_completer), else_=started).label("handed_over_by"),
            func.coalesce(at_completion, started_at.scalar_subquery()).label("handed_over_at"))


def _visible_cases_query(user: User):
    condition = policy.visible_cases_condition(user)
    return select(Case) if condition is None else select(Case).where(condition)


def visible_cases(session: Session, user: User, limit: int = 50) -> Sequence[Case]:
    """Recent cases the user's agency takes part in (all for supervisors)."""
    return session.scalars(_visible_cases_query(user).order_by(Case.created_at.desc()).limit(limit)).all()


def case_page(session: Session, user: User, page: int = 1, per_page: int = 20) -> Page[Case]:
    """The cases of `visible_cases`, newest first, one page at a time."""
    query = _visible_cases_query(user)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
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
    return session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.agency_id == task.agency_id, Membership.role == task.role, User.active.is_(True))
        .order_by(User.display_name, User.id)
    ).all()
