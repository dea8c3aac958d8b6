"""Supervision of deadlines, and the shared case register."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from models import Case, CaseParticipant, User

from .relations import is_overseer, visible_cases_condition

# --- supervision --------------------------------------------------------------------------

def supervised_agency_ids(user: User) -> set[int] | None:
    """Whose deadlines the user follows: None for every agency (supervisors, administrators),
    the agencies where they are head for agency heads, and an empty set for everyone else."""
    if is_overseer(user):
        return None
    return {m.agency_id for m in user.memberships if m.role == "head"}


def can_supervise(user: User) -> bool:
    """Supervision pages (deadlines, timelines, metrics; never case content)."""
    scope = supervised_agency_ids(user)
    return scope is None or bool(scope)


def can_supervise_case(session: Session, user: User, case: Case) -> bool:
    """Overseers follow every case; an agency head the cases their agency is a party to (an
    observing agency reads the case's own page)."""
    scope = supervised_agency_ids(user)
    if scope is None:
        return True
    return bool(scope) and bool(session.scalar(select(exists().where(
        CaseParticipant.case_id == case.id, CaseParticipant.agency_id.in_(scope), CaseParticipant.role == "party"))))


# --- the shared case register ---------------------------------------------------------------

@dataclass(frozen=True)
class RegisterScope:
    """Which register rows a user sees: `cases` a SQL condition on Case (None: every case), and
    whether the titles of secret cases are shown (overseers see rows, never content)."""

    cases: Any
    secret_titles: bool


def register_scope(user: User) -> RegisterScope:
    """The shared case register (DOMAIN §4): an agency's users see the rows of the cases their
    agency is a party to or observes (the procuratorate, copied on transfers), titles included
    (the case's metadata); supervisors and administrators see every row, but a secret case by
    its number only."""
    if is_overseer(user):
        return RegisterScope(None, secret_titles=False)
    return RegisterScope(visible_cases_condition(user), secret_titles=True)
