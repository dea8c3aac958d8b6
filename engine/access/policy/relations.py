"""How a user stands to a case (overseer, party, observer, assigned): the relations every rule
of the policy is written in."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from models import Case, CaseParticipant, HumanTask, User


def agency_ids(user: User) -> set[int]:
    return {m.agency_id for m in user.memberships}


def has_role_in(user: User, role: str, agency_ids: set[int]) -> bool:
    return any(m.role == role and m.agency_id in agency_ids for m in user.memberships)


def is_overseer(user: User) -> bool:
    return user.has_role("supervisor") or user.has_role("admin")


def visible_cases_condition(user: User):
    """`can_view_case` as a SQL condition on Case, for lists: None when the user sees every case.
    Parties and observers alike (any participant row)."""
    if is_overseer(user):
        return None
    agencies = [m.agency_id for m in user.memberships]
    return Case.id.in_(select(CaseParticipant.case_id).where(CaseParticipant.agency_id.in_(agencies)))


class Participation(Protocol):
    """How an agency takes part in a case: a CaseParticipant, or its line read with the case
    (engine/oversight/case_reads.py `visible_case` with `lines`)."""

    @property
    def agency_id(self) -> int: ...

    @property
    def role(self) -> str: ...


def takes_part_among(user: User, participants: Iterable[Participation], role: str) -> bool:
    """The user's agency takes part in the case as `role`, decided on the case's participants
    read with it (entities or lines alike)."""
    agencies = agency_ids(user)
    return any(p.agency_id in agencies and p.role == role for p in participants)


def takes_part(session: Session, user: User, case: Case, role: str) -> bool:
    """The user's agency takes part in the case as `role`. From the case's participants when they
    were loaded with it (a case page needs them anyway: engine/oversight/case_reads.py `visible_case`):
    agencies only ever join a case or become parties, so a list read earlier in the request can
    only be missing a change since, which it then refuses."""
    if "participants" in case.__dict__:
        return takes_part_among(user, case.participants, role)
    return bool(session.scalar(select(exists().where(
        CaseParticipant.case_id == case.id, CaseParticipant.agency_id.in_(agency_ids(user)),
        CaseParticipant.role == role
    ))))


def is_party(session: Session, user: User, case: Case) -> bool:
    """The user's agency takes part in the case as a party: it owns the case or a task of it
    reached the agency."""
    return takes_part(session, user, case, "party")


def is_observer(session: Session, user: User, case: Case) -> bool:
    """The user's agency is copied on the case to oversee it, and is no party to it."""
    return takes_part(session, user, case, "observer")


def is_assigned(session: Session, user: User, case: Case) -> bool:
    """The user opened the case, or has claimed or completed a task of it."""
    if case.created_by_id == user.id:
        return True
    return bool(session.scalar(select(exists().where(
        HumanTask.case_id == case.id,
        or_(HumanTask.assignee_id == user.id, HumanTask.completed_by_id == user.id),
    ))))
