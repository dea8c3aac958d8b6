"""Notifications: who hears of what, written in the transaction of the event that causes it.

- A task opens (engine/runtime/projection.py): the users of its lane, except the one whose action
  opened it, learn that it is claimable; a handoff task tells its lane (the liaisons) that a
  handoff awaits their approval.
- A liaison reassigns or delegates a task (engine/casework/tasks.py): the new assignee.
- The worker's deadline scan (`scan_deadlines`): a task due within one working day tells its
  holder; an overdue task tells its holder, the heads of its agency and the supervisors. Each
  (task, kind) is notified once however many workers scan: a `deadline_notice` row keyed by
  both is inserted first, and only the transaction that inserted it writes the notifications.
  A task that was already due within a working day when it opened (a liaison's 24-hour hand-off)
  gets no "due soon" notice: its opening notice is that event, and a second one at once is noise.

The holder of a task is its assignee, or while nobody has claimed it the users of its lane.
Reading notifications is per user (`my_notifications`, `mark_read`, `mark_all_read`); email is
the worker's outbox on the same rows (engine/oversight/notification_mail.py). A notice of a task
that is no longer open counts as read (`_unread`): the work it announced is done, so it is
not counted, listed as unread or marked by hand, and no write is needed when the task closes.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    Insert,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, selectinload

from engine.errors import NotFound
from engine.oversight.queries import Page, lane_users
from engine.runtime.sql import insert_if_absent
from engine.runtime.transactions import transaction, transactional
from engine.time.calendar_store import business_calendar
from engine.time.clock import now
from models import Agency, Case, DeadlineNotice, HumanTask, HumanTaskState, Membership, Notification, User

DEADLINE_SOON, DEADLINE_PASSED = "deadline_soon", "deadline_passed"
# How near a deadline must be for the "due soon" notice: it ends within this rule from now.
SOON = "1wd"


def _params(task: HumanTask, actor: User | None) -> dict:
    return {
        "title": task.title, "case_title": task.case.title, "case_number": task.case.number,
        "due_at": task.due_at.isoformat() if task.due_at else None,
        "actor": actor.display_name if actor else None,
    }


# Built once: the rows of a notice are inserted by this statement, one execution for all of them.
_INSERT = insert(Notification.__table__)


def _write(session: Session, recipient_ids: Iterable[int], kind: str, case_id: int, task_id: int | None,
           params: dict, at: datetime) -> int:
    """One notification to each of these users, in their order, in the caller's transaction (no
    ORM objects: nothing reads them back in the transaction that writes them). Returns how many."""
    rows = [{"recipient_id": recipient_id, "kind": kind, "case_id": case_id, "task_id": task_id,
             "params": params, "created_at": at, "email_attempts": 0} for recipient_id in recipient_ids]
    if rows:
        session.execute(_INSERT, rows)
    return len(rows)


def _notify(session: Session, recipients: Iterable[User], kind: str, task: HumanTask,
            actor: User | None = None) -> int:
    """One notification per distinct active recipient, in the caller's transaction."""
    at, params = now(session), _params(task, actor)
    ids = dict.fromkeys(user.id for user in recipients if user.active)
    return _write(session, ids, kind, task.case_id, task.id, params, at)


def task_opened(session: Session, task: HumanTask, actor: User | None) -> int:
    """A new task row: its lane hears it is claimable (or, for a handoff, awaits approval).
    The actor whose action opened it already knows. Caller's transaction; returns how many
    users were notified.

    One INSERT ... SELECT over the lane's active members (the recipients of `lane_users`),
    not a query for them and an INSERT each: every task the engine opens comes through here."""
    result = session.execute(_NOTIFY_LANE, {"task_id": task.id, **lane_notice_values(session, task, actor)})
    return cast("CursorResult[Any]", result).rowcount  # a DML statement's result is a CursorResult


def lane_notice_values(session: Session, task: HumanTask, actor: User | None) -> dict:
    """The values of `lane_notices` (all but the task's id) for a task about to open or opened."""
    return {
        "kind": "handoff_pending" if task.handoff else "task_claimable", "case_id": task.case_id,
        "params": _params(task, actor), "created_at": now(session),
        "agency_id": task.agency_id, "role": task.role, "actor_id": actor.id if actor else 0,
    }


def lane_notices(task_id) -> Insert:
    """The INSERT ... SELECT of `task_opened`, the task's id given as an expression: a bound value,
    or on PostgreSQL the id a data-modifying CTE inserting the task returns (engine/runtime/projection.py),
    so that a task opens and its lane hears of it in one statement. Not to the actor, who knows."""
    return _role_notices(bindparam("agency_id"), task_id, but_actor=True)


def _role_notices(agency, task_id=None, *, but_actor: bool = False) -> Insert:
    """The INSERT ... SELECT of a notice to the active users of one role (bound as `role`) of an
    agency given as an expression (its id bound, or found by its code), in order of their ids;
    `task_id`: the task it is about, an expression (None: the case); `but_actor`: not to the user
    bound as `actor_id`."""
    columns = Notification.__table__.c
    about = [] if task_id is None else [task_id]
    conditions = [Membership.agency_id == agency, Membership.role == bindparam("role"), User.active.is_(True)]
    if but_actor:
        conditions.append(User.id != bindparam("actor_id"))
    recipients = (
        select(User.id, bindparam("kind", type_=columns.kind.type), bindparam("case_id", type_=columns.case_id.type),
               *about, bindparam("params", type_=columns.params.type),
               bindparam("created_at", type_=columns.created_at.type), literal(0, columns.email_attempts.type))
        .join(Membership, Membership.user_id == User.id)
        # (user, agency, role) is unique in membership, so each user appears once.
        .where(*conditions)
        .order_by(User.id)
    )
    return insert(Notification.__table__).from_select(
        ["recipient_id", "kind", "case_id", *(["task_id"] if about else []), "params", "created_at",
         "email_attempts"], recipients)


# Built once: every task the engine opens runs it.
_NOTIFY_LANE = lane_notices(bindparam("task_id", type_=Notification.__table__.c.task_id.type))


def task_handed_over(session: Session, task: HumanTask, actor: User, kind: str) -> int:
    """A liaison reassigned (`task_assigned`) or delegated (`task_delegated`) the task: its new
    assignee hears of it, unless they assigned it to themselves. Caller's transaction; returns
    how many users were notified."""
    if task.assignee is None or task.assignee_id == actor.id:
        return 0
    return _notify(session, [task.assignee], kind, task, actor)


# --- results after filing -------------------------------------------------------------------

RESULT_RECORDED = "result_recorded"


def result_recorded(session: Session, case: Case, actor: User, stage: str) -> int:
    """Another agency recorded a result after filing (investigation, prosecution, judgment): the
    market supervision bureau, which transferred the case, hears of it, by its liaisons and the
    handlers assigned to the case (who opened it, or claimed or completed a task of it).
    Caller's transaction; returns how many users were notified."""
    samr = select(Membership.agency_id).join(Agency, Agency.id == Membership.agency_id).where(Agency.code == "samr")
    assigned = or_(User.id == case.created_by_id, exists().where(
        HumanTask.case_id == case.id, or_(HumanTask.assignee_id == User.id, HumanTask.completed_by_id == User.id)))
    # A user may hold both roles: each is told once, in order of their ids.
    recipients = session.scalars(
        select(User.id).join(Membership, Membership.user_id == User.id)
        .where(User.active.is_(True), User.id != actor.id, Membership.agency_id.in_(samr.scalar_subquery()),
               or_(Membership.role == "liaison", and_(Membership.role == "handler", assigned)))
        .order_by(User.id)).unique()
    params = {"title": stage, "case_title": case.title, "case_number": case.number, "stage": stage,
              "actor": actor.display_name, "due_at": None}
    return _write(session, list(recipients), RESULT_RECORDED, case.id, None, params, now(session))


# --- an observing agency: what it is copied on -----------------------------------------------

# The procuratorate copied on a transfer (engine/mechanisms/procuratorate.py): the copy itself, and
# each report of a decision or a missed deadline it oversees.
CASE_COPIED = "case_copied"
OBSERVER_REPORTS = ("non_filing_reported", "non_filing_upheld_reported", "transfer_refused_reported",
                    "transfer_abandoned_reported", "filing_overdue_reported")
# To a responsible agency's liaisons: the convening agency withdrew an action item it had given it.
ACTION_ITEM_WITHDRAWN = "action_item_withdrawn"


# Built once: the procuratorate is told of every transfer and each report to it.
_NOTIFY_AGENCY = {
    int: _role_notices(bindparam("agency", type_=Membership.__table__.c.agency_id.type)),
    str: _role_notices(select(Agency.id).where(Agency.code == bindparam("agency", type_=Agency.__table__.c.code.type))
                         .scalar_subquery()),
}


def agency_notice(session: Session, case: Case, agency: int | str, role: str, kind: str, actor: User | None,
                  due_at: datetime | None = None, title: str = "") -> int:
    """Tell the active users of one role of an agency (its liaisons; `agency` is its id or its
    code) something about a case rather than a task: that it was copied on it, what it is told
    as an observer, or that an action item given to it was withdrawn (`title` names what). The
    notice leads to the case. Caller's transaction; returns how many users were notified.

    One INSERT ... SELECT over the recipients, not a query for them and an INSERT of the rows."""
    params = {"title": title, "case_title": case.title, "case_number": case.number,
              "due_at": due_at.isoformat() if due_at else None, "actor": actor.display_name if actor else None}
    result = session.execute(_NOTIFY_AGENCY[type(agency)], {
        "agency": agency, "role": role, "kind": kind, "case_id": case.id, "params": params,
        "created_at": now(session)})
    return cast("CursorResult[Any]", result).rowcount  # a DML statement's result is a CursorResult


# --- damaged evidence files ---------------------------------------------------------------

EVIDENCE_DAMAGED, VERDICT_OVERRIDDEN = "evidence_damaged", "verdict_overridden"


def _evidence_params(case: Case, evidence_id: int, actor: User | None) -> dict:
    # The item by its number only, and a secret case without its title: supervisors read these.
    return {"title": f"#{evidence_id}", "evidence_id": evidence_id, "case_number": case.number,
            "case_title": case.title if case.confidentiality != "secret" else "", "due_at": None,
            "actor": actor.display_name if actor else None}


def evidence_damaged(session: Session, case: Case, evidence_id: int, actor: User | None) -> int:
    """An evidence file was first found not to match its SHA-256 (or gone): the supervisors
    (every active user with the supervisor role) and, when the procuratorate takes part in or
    observes the case, its liaisons (the procuratorate's supervision) hear of it. The notice
    names the item by number and leads to its page. Caller's transaction; returns how many
    users were notified."""
    procuratorate = [p.agency_id for p in case.participants if p.agency.code == "procuratorate"]
    recipients = session.scalars(
        select(User.id).join(Membership, Membership.user_id == User.id)
        .where(User.active.is_(True),
               or_(Membership.role == "supervisor",
                   and_(Membership.role == "liaison", Membership.agency_id.in_(procuratorate))))
        .order_by(User.id)).unique()
    params = _evidence_params(case, evidence_id, actor)
    return _write(session, list(recipients), EVIDENCE_DAMAGED, case.id, None, params, now(session))


def verdict_overridden(session: Session, case: Case, evidence_id: int, reviewer: User, chosen: str) -> int:
    """A reviewer's verdict on an evidence item was replaced by a rejection because its file no
    longer matches its SHA-256: the reviewer hears of it (the notice leads to the item's page,
    which says why; the review task itself is done). Caller's transaction."""
    params = {**_evidence_params(case, evidence_id, reviewer), "chosen": chosen}
    return _write(session, [reviewer.id], VERDICT_OVERRIDDEN, case.id, None, params, now(session))


# --- the deadline scan (worker) ------------------------------------------------------------

def _holders(session: Session, task: HumanTask) -> list[User]:
    return [task.assignee] if task.assignee is not None else list(lane_users(session, task))


def _overseers(session: Session, task: HumanTask) -> list[User]:
    """The heads of the task's agency and every supervisor."""
    return list(session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(User.active.is_(True),
               ((Membership.role == "head") & (Membership.agency_id == task.agency_id))
               | (Membership.role == "supervisor"))
        .order_by(User.id)
    ).unique())


def scan_deadlines(session: Session, limit: int = 100) -> int:
    """Notify open tasks whose deadline passed or ends within one working day, each (task,
    kind) once; each task in its own transaction. Returns how many tasks were notified."""
    at = now(session)
    soon = business_calendar(session).due(at, SOON).at
    conditions = {DEADLINE_PASSED: HumanTask.due_at <= at,
                  DEADLINE_SOON: and_(HumanTask.due_at > at, HumanTask.due_at <= soon)}
    notified = 0
    for kind, condition in conditions.items():
        due = session.scalars(
            select(HumanTask.id).where(
                HumanTask.state == HumanTaskState.OPEN, HumanTask.due_at.is_not(None), condition,
                ~exists().where(DeadlineNotice.task_id == HumanTask.id, DeadlineNotice.kind == kind))
            .order_by(HumanTask.due_at, HumanTask.id).limit(limit)
        ).all()
        session.rollback()  # end the read; each task gets a transaction of its own
        for task_id in due:
            notified += _notify_deadline(session, task_id, kind, at)
    return notified


def _notify_deadline(session: Session, task_id: int, kind: str, at: datetime) -> int:
    with transaction(session):
        # A concurrent scanner inserting the same key waits for this transaction, then inserts
        # nothing (PostgreSQL); on SQLite the write lock orders them the same way.
        if not insert_if_absent(session, DeadlineNotice, task_id=task_id, kind=kind, created_at=at):
            session.rollback()  # nothing of ours to keep
            return 0
        task = session.get_one(HumanTask, task_id, populate_existing=True)
        if task.state != HumanTaskState.OPEN:
            session.rollback()  # the task closed meanwhile: no notice, and no notice row either
            return 0
        if kind == DEADLINE_SOON and _soon_from_the_start(session, task):
            return 0  # the notice row stays: the scan does not look at this task again
        recipients = _holders(session, task)
        if kind == DEADLINE_PASSED:
            recipients += _overseers(session, task)
        _notify(session, recipients, kind, task)
        return 1


def _soon_from_the_start(session: Session, task: HumanTask) -> bool:
    """Whether the task was due within SOON of when it opened: its lane heard of it then."""
    return task.due_at is not None and task.due_at <= business_calendar(session).due(task.created_at, SOON).at


# --- reading -------------------------------------------------------------------------------

def _unread():
    """Not read, and not about a task that has closed since (read by its completion)."""
    return and_(Notification.read_at.is_(None),
                or_(Notification.task_id.is_(None),
                    exists().where(HumanTask.id == Notification.task_id,
                                   HumanTask.state == literal_column("'open'"))))


def unread_count(session: Session, user: User) -> int:
    """How many of the user's notifications are unread (the header badge)."""
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.recipient_id == user.id, _unread())) or 0


def my_notifications(session: Session, user: User, page: int = 1, per_page: int = 20,
                     unread_only: bool = False) -> Page[Notification]:
    """The user's own notifications, newest first."""
    base = select(Notification).where(Notification.recipient_id == user.id)
    if unread_only:
        base = base.where(_unread())
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    page = max(1, page)
    rows = session.scalars(
        base.options(selectinload(Notification.task))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset((page - 1) * per_page).limit(per_page)
    ).all()
    return Page(rows, total, page, per_page)


@transactional
def mark_read(session: Session, user: User, notification_id: int) -> Notification:
    """Mark one of the user's notifications read (again: unchanged). Another user's is
    NotFound, so ids reveal nothing. Personal state, not a case event: not audited."""
    row = session.get(Notification, notification_id)
    if row is None or row.recipient_id != user.id:
        raise NotFound(f"notification {notification_id} does not exist")
    if row.read_at is None:
        row.read_at = now(session)
    return row


@transactional
def mark_all_read(session: Session, user: User) -> int:
    """Mark every unread notification of the user read; returns how many."""
    return cast("CursorResult[Any]", session.execute(
        update(Notification)
        .where(Notification.recipient_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now(session))
        .execution_options(synchronize_session=False)
    )).rowcount
