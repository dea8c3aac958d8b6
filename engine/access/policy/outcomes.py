"""Results after filing, closing a case, the task force's statistics, and the rights holders
with the notices delivered to them."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from models import Case, User

from .cases import can_view_case_content, can_work_on_case
from .relations import has_role_in, is_overseer

# --- results after filing, closing a case, the task force's statistics ----------------------

# Which agency records each stage's results (models.RESULT_AGENCIES, repeated here so the rule is
# read where every other permission is).
RESULT_RECORDERS = {"investigation": "police", "prosecution": "procuratorate", "judgment": "court"}


def can_record_result(session: Session, user: User, case: Case, stage: str) -> bool:
    """A stage's results are recorded by the handlers and heads of its agency (police: the
    investigation, procuratorate: the decision to prosecute, court: the judgment) who may read
    the case's content."""
    code = RESULT_RECORDERS.get(stage)
    return (code is not None
            and any(m.agency.code == code and m.role in ("handler", "head") for m in user.memberships)
            and can_view_case_content(session, user, case))


def can_view_results(session: Session, user: User, case: Case) -> bool:
    """Results (outcomes, persons, sentences) are case content."""
    return can_view_case_content(session, user, case)


def can_close_case(session: Session, user: User, case: Case) -> bool:
    """The owning agency's handlers and heads who may read the case's content close it."""
    owner = {case.owner_agency_id}
    return ((has_role_in(user, "handler", owner) or has_role_in(user, "head", owner))
            and can_view_case_content(session, user, case))


def statistics_agency_ids(user: User) -> set[int] | None:
    """Whose figures the user reads: None for every agency (the office's supervisors,
    administrators), the agencies where they are head for agency heads, else an empty set.
    Figures are counts and sums, never a case's content."""
    if is_overseer(user):
        return None
    return {m.agency_id for m in user.memberships if m.role == "head"}


def can_view_statistics(user: User) -> bool:
    scope = statistics_agency_ids(user)
    return scope is None or bool(scope)


# --- rights holders and the notices delivered to them -----------------------------------------

def can_view_rights_holders(session: Session, user: User, case: Case) -> bool:
    """A holder's name, contact and representatives, and the notices owed to it, are case
    content: whoever may read the case's content (never an overseer as such)."""
    return can_view_case_content(session, user, case)


def can_manage_rights_holders(session: Session, user: User, case: Case) -> bool:
    """Recording and correcting a case's holders: handlers of a party agency with content access
    (an observing agency reads them only)."""
    return user.has_role("handler") and can_work_on_case(session, user, case)


def can_record_delivery(session: Session, user: User, document: Any) -> bool:
    """The delivery of a holder's notice is recorded by the agency that issued it: its handlers,
    heads and liaisons who may work on the case."""
    case = session.get_one(Case, document.case_id)
    return (any(m.agency_id == document.issuing_agency_id and m.role in ("handler", "head", "liaison")
                for m in user.memberships)
            and can_work_on_case(session, user, case))
