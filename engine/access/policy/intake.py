"""Clues and the service stations that register them, before there is a case."""
from __future__ import annotations

from typing import Any

from engine.runtime.lanes import AGENCY_CODES, LANE_ROLES
from models import User

from .relations import agency_ids, is_overseer

# --- clues and service stations -------------------------------------------------------------
# A clue (线索) is registered before there is a case. `triage_agency` is the code of the agency
# whose handlers and heads triage clues (configured by the web app, SAMR by default).

CLUE_AGENCIES = ("samr", "police", "procuratorate")


def is_station_staff(user: User) -> bool:
    """Intake staff of a service station (服务站点): they register clues and see their own,
    nothing else (their agency never takes part in a case)."""
    return any(m.role == "intake" and m.agency.kind == "service_station" for m in user.memberships)


def has_inbox(user: User) -> bool:
    """Whether a task can ever reach the user: they hold a lane's role (LANE_ROLES) in one of the
    agencies diagrams route to (AGENCY_CODES), the only lanes a deployed diagram may name. A
    service station's intake staff and administrators hold none: their inbox is always empty,
    so they land on their own work and see no inbox link."""
    return any(m.role in LANE_ROLES and m.agency.code in AGENCY_CODES for m in user.memberships)


def can_register_clue(user: User) -> bool:
    """Handlers of SAMR, the police and the procuratorate, and a service station's intake staff."""
    return any((m.role == "handler" and m.agency.code in CLUE_AGENCIES)
               or (m.role == "intake" and m.agency.kind == "service_station") for m in user.memberships)


def can_triage_clues(user: User, triage_agency: str) -> bool:
    """Handlers and heads of the triage agency."""
    return any(m.role in ("handler", "head") and m.agency.code == triage_agency for m in user.memberships)


def clue_agency_scope(user: User, triage_agency: str) -> set[int] | None:
    """Whose clues the user sees: None for every agency's (the triage agency's handlers and heads,
    overseers), else the registering agencies they belong to (their own agency's clues)."""
    if is_overseer(user) or can_triage_clues(user, triage_agency):
        return None
    return agency_ids(user)


def can_view_clue(user: User, clue: Any, triage_agency: str) -> bool:
    """Its number, source, status and dates."""
    scope = clue_agency_scope(user, triage_agency)
    return scope is None or clue.agency_id in scope


def can_view_clue_content(user: User, clue: Any, triage_agency: str) -> bool:
    """Rights holder, suspect, summary, amounts and attachments: the registering agency and the
    triagers; being an overseer adds nothing here."""
    return clue.agency_id in agency_ids(user) or can_triage_clues(user, triage_agency)


def can_add_clue_attachment(user: User, clue: Any, triage_agency: str) -> bool:
    """While it waits for triage: who may register clues in its agency, and the triagers."""
    if clue.status != "pending":
        return False
    return ((can_register_clue(user) and clue.agency_id in agency_ids(user))
            or can_triage_clues(user, triage_agency))


def can_triage_clue(user: User, clue: Any, triage_agency: str) -> bool:
    """A clue waiting for triage, by a handler or head of the triage agency."""
    return clue.status == "pending" and can_triage_clues(user, triage_agency)


def can_start_with_new_case(user: User, model: Any) -> bool:
    """Whether a mechanism may be started on a case the user is opening: the diagram's
    `startable_by` lanes include the user's (`*.role`: their agency will be the case's owner)."""
    for lane in model.startable_by or []:
        agency, _, role = lane.partition(".")
        if any(m.role == role and (agency == "*" or m.agency.code == agency) for m in user.memberships):
            return True
    return False
