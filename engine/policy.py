"""Who may do what. Every permission is decided here, for pages and API alike."""
from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from models import Case, CaseParticipant, HumanTask, User


def _agency_ids(user: User) -> set[int]:
    return {m.agency_id for m in user.memberships}


def can_view_case(session: Session, user: User, case: Case) -> bool:
    """An agency sees a case once the case has reached it; supervisors see every case."""
    if user.has_role("supervisor") or user.has_role("admin"):
        return True
    return bool(session.scalar(
        select(exists().where(
            CaseParticipant.case_id == case.id, CaseParticipant.agency_id.in_(_agency_ids(user))
        ))
    ))


def can_view_task(session: Session, user: User, task: HumanTask) -> bool:
    """The task's lane, its assignee, or anyone who may see its case."""
    if task.assignee_id == user.id or (task.agency.code, task.role) in user.lanes:
        return True
    return can_view_case(session, user, task.case)


def can_claim(user: User, task: HumanTask) -> bool:
    return (task.agency.code, task.role) in user.lanes


def can_manage_lane(user: User, task: HumanTask) -> bool:
    """Liaisons unclaim and reassign work within their own agency."""
    return any(m.role == "liaison" and m.agency_id == task.agency_id for m in user.memberships)


def can_start_case(user: User) -> bool:
    return any(m.role == "handler" and m.agency.code == "samr" for m in user.memberships)


def can_administer(user: User) -> bool:
    return user.has_role("admin")
