"""Cases, their documents and mechanisms, and their tasks."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from sqlalchemy.orm import Session

from models import Case, HumanTask, HumanTaskState, User

from .documents import is_copied_to
from .relations import (
    Participation,
    has_role_in,
    is_assigned,
    is_observer,
    is_overseer,
    is_party,
    takes_part,
    takes_part_among,
)

# --- cases -------------------------------------------------------------------------------

def can_view_case(session: Session, user: User, case: Case) -> bool:
    """Metadata (title, tasks, deadlines, timeline): party and observing agencies, overseers."""
    return _views_case(user, lambda role: takes_part(session, user, case, role))


def can_view_case_among(user: User, participants: Sequence[Participation]) -> bool:
    """`can_view_case` decided on the case's participants as read with it (their lines: agency_id
    and role), without its entity."""
    return _views_case(user, lambda role: takes_part_among(user, participants, role))


def _views_case(user: User, takes_part_as: Callable[[str], bool]) -> bool:
    """The one rule of `can_view_case` and `can_view_case_among`, whatever the participants were
    read as: overseers, and the agencies that take part as a party or as an observer."""
    return is_overseer(user) or takes_part_as("party") or takes_part_as("observer")


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
    """A document is case content: whoever may read the content of its case; and, on a secret
    case, a document the law copies to the user's agency (`reads_as_copy`)."""
    case = session.get_one(Case, document.case_id)
    return can_view_case_content(session, user, case) or reads_as_copy(session, user, document, case)


def reads_as_copy(session: Session, user: User, document: Any, case: Case | None = None) -> bool:
    """The user reads this document of a secret case only because the law copies it to their
    agency (documents.py `COPIED_TO`, its liaison): a reading of confidential material."""
    case = case or session.get_one(Case, document.case_id)
    return (case.confidentiality == "secret" and is_copied_to(session, user, document)
            and not can_view_case_content(session, user, case))


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


def can_withdraw_action_item(session: Session, user: User, item: Any) -> bool:
    """A consultation's action item is withdrawn by the agency that convened it: the user who
    recorded the minutes (`created_by`), or a liaison of that user's agency, while they may work on
    the case. Whether the item can still be withdrawn (open, a task) is the engine's question."""
    convener = session.get(User, item.created_by_id)
    if convener is None or convener.agency is None:
        return False
    if not (user.id == convener.id or has_role_in(user, "liaison", {convener.agency.id})):
        return False
    return can_work_on_case(session, user, session.get_one(Case, item.case_id))


def can_administer(user: User) -> bool:
    return user.has_role("admin")


# --- tasks -------------------------------------------------------------------------------

class InLane(Protocol):
    """What a task's lane is: its agency and role (a HumanTask, or a task just claimed)."""

    @property
    def agency_id(self) -> int: ...

    @property
    def role(self) -> str: ...


def works_in_lane(user: User, task: InLane) -> bool:
    """The user holds the task's role in the task's agency (by its id: an agency's code is
    unique, so this is the lane of `user.lanes`, without reading the task's agency)."""
    agency_id, role = task.agency_id, task.role
    return any(m.agency_id == agency_id and m.role == role for m in user.memberships)


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


def can_manage_standing_approvals(user: User, agency_id: int) -> bool:
    """An agency's liaisons approve its hand-offs, and so grant and revoke its standing approvals."""
    return any(m.role == "liaison" and m.agency_id == agency_id for m in user.memberships)
