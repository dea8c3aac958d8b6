"""Who may do what. Every permission is decided here, for pages, API and templates alike.

A user stands in one or more of these relations to a case:
- party: their agency takes part in the case (a task of it reached the agency, or it owns it);
- observer: their agency is copied on the case to oversee it (the procuratorate, from the
  transfer letter on: DOMAIN §1) and reads its metadata, timeline, decisions and documents
  without working on it: no evidence of its own, no comments, no mechanisms any party may start;
- assigned: they opened the case, or claimed or completed a task of it (need to know);
- overseer: supervisor or administrator, who sees every case's timeline and deadlines but
  never its content (task results, case facts, evidence files, documents).

Content of a `secret` case is for the users assigned to it only; of other cases for every
member of a party or observing agency. Confidential evidence (DOMAIN §2, CPL art. 54(3)) opens only for
handlers assigned to the case in an agency that holds the item, and for the liaisons who
signed its handoffs. `allowed(session, user, action, resource)` is the one entry point the web
layer's templates use; the engine calls the named functions directly.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from models import Case, CaseParticipant, EvidenceCustody, EvidenceItem, HumanTask, HumanTaskState, User


def _agency_ids(user: User) -> set[int]:
    return {m.agency_id for m in user.memberships}


def _has_role_in(user: User, role: str, agency_ids: set[int]) -> bool:
    return any(m.role == role and m.agency_id in agency_ids for m in user.memberships)


def is_overseer(user: User) -> bool:
    return user.has_role("supervisor") or user.has_role("admin")


def visible_cases_condition(user: User):
    """`can_view_case` as a SQL condition on Case, for lists: None when the user sees every case.
    Parties and observers alike (any participant row)."""
    if is_overseer(user):
        return None
    agency_ids = [m.agency_id for m in user.memberships]
    return Case.id.in_(select(CaseParticipant.case_id).where(CaseParticipant.agency_id.in_(agency_ids)))


def _takes_part(session: Session, user: User, case: Case, role: str) -> bool:
    """The user's agency takes part in the case as `role`. From the case's participants when they
    were loaded with it (a case page needs them anyway: engine/oversight/queries.py `visible_case`):
    agencies only ever join a case or become parties, so a list read earlier in the request can
    only be missing a change since, which it then refuses."""
    agencies = _agency_ids(user)
    if "participants" in case.__dict__:
        return any(p.agency_id in agencies and p.role == role for p in case.participants)
    return bool(session.scalar(select(exists().where(
        CaseParticipant.case_id == case.id, CaseParticipant.agency_id.in_(agencies), CaseParticipant.role == role
    ))))


def is_party(session: Session, user: User, case: Case) -> bool:
    """The user's agency takes part in the case as a party: it owns the case or a task of it
    reached the agency."""
    return _takes_part(session, user, case, "party")


def is_observer(session: Session, user: User, case: Case) -> bool:
    """The user's agency is copied on the case to oversee it, and is no party to it."""
    return _takes_part(session, user, case, "observer")


def is_assigned(session: Session, user: User, case: Case) -> bool:
    """The user opened the case, or has claimed or completed a task of it."""
    if case.created_by_id == user.id:
        return True
    return bool(session.scalar(select(exists().where(
        HumanTask.case_id == case.id,
        or_(HumanTask.assignee_id == user.id, HumanTask.completed_by_id == user.id),
    ))))


# --- cases -------------------------------------------------------------------------------

def can_view_case(session: Session, user: User, case: Case) -> bool:
    """Metadata (title, tasks, deadlines, timeline): party and observing agencies, overseers."""
    return is_overseer(user) or is_party(session, user, case) or is_observer(session, user, case)


def can_view_case_content(session: Session, user: User, case: Case) -> bool:
    """Task results (the decisions), case facts and documents: party and observing agencies; for
    a secret case, assigned users only. Being an overseer adds nothing here."""
    if case.confidentiality == "secret":
        return is_assigned(session, user, case)
    return is_party(session, user, case) or is_observer(session, user, case)


def can_work_on_case(session: Session, user: User, case: Case) -> bool:
    """What reading the content allows a party beyond reading (comments, drafting documents,
    mechanisms any party may start); an observer reads only."""
    return can_view_case_content(session, user, case) and not (
        is_observer(session, user, case) and not is_party(session, user, case))


def can_start_case(user: User) -> bool:
    return any(m.role == "handler" and m.agency.code == "samr" for m in user.memberships)


def can_generate_document(session: Session, user: User, case: Case) -> bool:
    """Documents carry case content: handlers and heads who may read that content."""
    return ((user.has_role("handler") or user.has_role("head"))
            and can_work_on_case(session, user, case))


def can_view_document(session: Session, user: User, document: Any) -> bool:
    """A document is case content: whoever may read the content of its case."""
    return can_view_case_content(session, user, session.get_one(Case, document.case_id))


def can_start_mechanism(session: Session, user: User, case: Case, model: Any) -> bool:
    """A mechanism's diagram names the lanes that may start it (`startable_by`); `*.role` means
    that role in any agency that takes part in the case as a party. An observing agency starts
    only what names it (the procuratorate's 立案监督 on its own motion, CPL art. 113)."""
    if not can_view_case_content(session, user, case):
        return False
    party = can_work_on_case(session, user, case)
    for lane in model.startable_by or []:
        agency, _, role = lane.partition(".")
        if agency == "*" and not party:
            continue
        if any(m.role == role and (agency == "*" or m.agency.code == agency) for m in user.memberships):
            return True
    return False


def can_administer(user: User) -> bool:
    return user.has_role("admin")


# --- tasks -------------------------------------------------------------------------------

def works_in_lane(user: User, task: HumanTask) -> bool:
    return (task.agency.code, task.role) in user.lanes


def can_view_task(session: Session, user: User, task: HumanTask) -> bool:
    """The task's lane, its assignee, or anyone who may see its case."""
    if task.assignee_id == user.id or works_in_lane(user, task):
        return True
    return can_view_case(session, user, task.case)


def can_view_task_content(session: Session, user: User, task: HumanTask) -> bool:
    """What tasks of the case were completed with."""
    return can_view_case_content(session, user, task.case)


def can_comment(session: Session, actor: User, task: HumanTask) -> bool:
    """Comments on a task: whoever may read what the case's tasks were completed with, in an
    agency of their own that works on the case (an observer reads only)."""
    return actor.agency is not None and can_work_on_case(session, actor, task.case)


def can_claim(user: User, task: HumanTask) -> bool:
    """An open, unclaimed task of one of the user's lanes."""
    return task.state == HumanTaskState.OPEN and task.assignee_id is None and works_in_lane(user, task)


def can_complete(user: User, task: HumanTask) -> bool:
    return task.state == HumanTaskState.OPEN and task.assignee_id == user.id


def can_approve_handoff(user: User, task: HumanTask) -> bool:
    """A handoff between agencies is approved by completing its liaison task."""
    return bool(task.handoff) and can_complete(user, task)


def can_manage_lane(user: User, task: HumanTask) -> bool:
    """Liaisons unclaim, reassign and delegate work within their own agency."""
    return any(m.role == "liaison" and m.agency_id == task.agency_id for m in user.memberships)


def can_unclaim(user: User, task: HumanTask) -> bool:
    return (task.state == HumanTaskState.OPEN and task.assignee_id is not None
            and (task.assignee_id == user.id or can_manage_lane(user, task)))


def can_reassign(user: User, task: HumanTask) -> bool:
    """Hand an open task (claimed or not) to another user of its lane."""
    return task.state == HumanTaskState.OPEN and can_manage_lane(user, task)


# --- evidence ----------------------------------------------------------------------------

def holding_agency_ids(session: Session, item: EvidenceItem) -> set[int]:
    """The owning agency and every agency that received the item through a signed handoff
    (the recognising agencies)."""
    received = session.scalars(select(EvidenceCustody.to_agency_id).where(
        EvidenceCustody.evidence_id == item.id, EvidenceCustody.state == "received"))
    return {item.owner_agency_id, *received}


def signed_handoff(session: Session, user: User, item: EvidenceItem) -> bool:
    """The user released or received the item as a liaison."""
    return bool(session.scalar(select(exists().where(
        EvidenceCustody.evidence_id == item.id,
        or_(EvidenceCustody.released_by_id == user.id, EvidenceCustody.received_by_id == user.id),
    ))))


def is_confidential(item: EvidenceItem) -> bool:
    """Marked as involving the secret, or in a secret case (where everything is)."""
    return item.confidential or item.case.confidentiality == "secret"


def can_view_evidence(session: Session, user: User, item: EvidenceItem) -> bool:
    """Metadata (kind, source, collectors, hashes, custody): whoever sees the case."""
    return can_view_case(session, user, item.case)


def can_open_evidence(session: Session, user: User, item: EvidenceItem) -> bool:
    """The file itself. A confidential one never for an observer as such: it opens for the
    assigned handlers of an agency holding it, whatever their agency's relation to the case."""
    if not is_confidential(item):
        return can_view_case_content(session, user, item.case)
    # The uploader had the file already; a liaison who signed a handoff vouched for its hash.
    if item.uploaded_by_id == user.id or signed_handoff(session, user, item):
        return True
    return (_has_role_in(user, "handler", holding_agency_ids(session, item))
            and is_assigned(session, user, item.case))


def can_add_evidence(session: Session, user: User, case: Case) -> bool:
    """Handlers of an agency taking part in the case as a party."""
    return user.has_role("handler") and is_party(session, user, case)


def can_hand_over_evidence(session: Session, user: User, item: EvidenceItem) -> bool:
    """A liaison of an agency holding the item releases it to another agency."""
    return _has_role_in(user, "liaison", holding_agency_ids(session, item))


def can_receive_evidence(user: User, custody: EvidenceCustody) -> bool:
    """A liaison of the receiving agency signs for a pending handoff."""
    return custody.state == "pending" and _has_role_in(user, "liaison", {custody.to_agency_id})


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


# --- clues and service stations -------------------------------------------------------------
# A clue (线索) is registered before there is a case. `triage_agency` is the code of the agency
# whose handlers and heads triage clues (configured by the web app, SAMR by default).

CLUE_AGENCIES = ("samr", "police", "procuratorate")


def is_station_staff(user: User) -> bool:
    """Intake staff of a service station (服务站点): they register clues and see their own,
    nothing else (their agency never takes part in a case)."""
    return any(m.role == "intake" and m.agency.kind == "service_station" for m in user.memberships)


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
    return _agency_ids(user)


def can_view_clue(user: User, clue: Any, triage_agency: str) -> bool:
    """Its number, source, status and dates."""
    scope = clue_agency_scope(user, triage_agency)
    return scope is None or clue.agency_id in scope


def can_view_clue_content(user: User, clue: Any, triage_agency: str) -> bool:
    """Rights holder, suspect, summary, amounts and attachments: the registering agency and the
    triagers; being an overseer adds nothing here."""
    return clue.agency_id in _agency_ids(user) or can_triage_clues(user, triage_agency)


def can_add_clue_attachment(user: User, clue: Any, triage_agency: str) -> bool:
    """While it waits for triage: who may register clues in its agency, and the triagers."""
    if clue.status != "pending":
        return False
    return ((can_register_clue(user) and clue.agency_id in _agency_ids(user))
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
    return ((_has_role_in(user, "handler", owner) or _has_role_in(user, "head", owner))
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


# --- one entry point ---------------------------------------------------------------------

ACTIONS: dict[str, Callable[..., bool]] = {
    "start_case": lambda s, u, _r: can_start_case(u),
    "administer": lambda s, u, _r: can_administer(u),
    "view_case": can_view_case,
    "view_case_content": can_view_case_content,
    "generate_document": can_generate_document,
    "view_document": can_view_document,
    "view_task": can_view_task,
    "view_task_content": can_view_task_content,
    "claim": lambda s, u, t: can_claim(u, t),
    "complete": lambda s, u, t: can_complete(u, t),
    "approve_handoff": lambda s, u, t: can_approve_handoff(u, t),
    "unclaim": lambda s, u, t: can_unclaim(u, t),
    "reassign": lambda s, u, t: can_reassign(u, t),
    "add_evidence": can_add_evidence,
    "view_evidence": can_view_evidence,
    "open_evidence": can_open_evidence,
    "hand_over_evidence": can_hand_over_evidence,
    "receive_evidence": lambda s, u, c: can_receive_evidence(u, c),
    "supervise": lambda s, u, _r: can_supervise(u),
    "supervise_case": can_supervise_case,
    "record_result": lambda s, u, r: can_record_result(s, u, r[0], r[1]),
    "view_results": can_view_results,
    "close_case": can_close_case,
    "view_statistics": lambda s, u, _r: can_view_statistics(u),
    "view_rights_holders": can_view_rights_holders,
    "manage_rights_holders": can_manage_rights_holders,
    "record_delivery": can_record_delivery,
}


def allowed(session: Session, user: User, action: str, resource: Any = None) -> bool:
    """Whether `user` may do `action` to `resource`; an unknown action is a programming error."""
    if action not in ACTIONS:
        raise KeyError(f"unknown action '{action}'")
    return bool(ACTIONS[action](session, user, resource))
