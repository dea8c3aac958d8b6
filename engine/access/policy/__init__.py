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

The rules are grouped by what they guard (relations, cases and tasks, evidence, oversight, intake,
outcomes), one module each; everything is imported from here (`from engine.access import policy`).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from models import User

from .cases import (
    can_administer,
    can_approve_handoff,
    can_claim,
    can_comment,
    can_complete,
    can_generate_document,
    can_manage_lane,
    can_manage_standing_approvals,
    can_reassign,
    can_start_case,
    can_start_mechanism,
    can_unclaim,
    can_view_case,
    can_view_case_among,
    can_view_case_content,
    can_view_document,
    can_view_task,
    can_view_task_content,
    can_withdraw_action_item,
    can_work_on_case,
    reads_as_copy,
    works_in_lane,
)
from .evidence import (
    can_add_evidence,
    can_hand_over_evidence,
    can_open_evidence,
    can_receive_evidence,
    can_view_evidence,
    holding_agency_ids,
    is_confidential,
    signed_handoff,
)
from .intake import (
    CLUE_AGENCIES,
    can_add_clue_attachment,
    can_register_clue,
    can_start_with_new_case,
    can_triage_clue,
    can_triage_clues,
    can_view_clue,
    can_view_clue_content,
    clue_agency_scope,
    has_inbox,
    is_station_staff,
)
from .outcomes import (
    RESULT_RECORDERS,
    can_close_case,
    can_manage_rights_holders,
    can_record_delivery,
    can_record_result,
    can_view_results,
    can_view_rights_holders,
    can_view_statistics,
    statistics_agency_ids,
)
from .oversight import RegisterScope, can_supervise, can_supervise_case, register_scope, supervised_agency_ids
from .relations import agency_ids, has_role_in, is_assigned, is_observer, is_overseer, is_party, visible_cases_condition

__all__ = [
    "ACTIONS",
    "CLUE_AGENCIES",
    "RESULT_RECORDERS",
    "RegisterScope",
    "agency_ids",
    "allowed",
    "can_add_clue_attachment",
    "can_add_evidence",
    "can_administer",
    "can_approve_handoff",
    "can_claim",
    "can_close_case",
    "can_comment",
    "can_complete",
    "can_generate_document",
    "can_hand_over_evidence",
    "can_manage_lane",
    "can_manage_rights_holders",
    "can_manage_standing_approvals",
    "can_open_evidence",
    "can_reassign",
    "can_receive_evidence",
    "can_record_delivery",
    "can_record_result",
    "can_register_clue",
    "can_start_case",
    "can_start_mechanism",
    "can_start_with_new_case",
    "can_supervise",
    "can_supervise_case",
    "can_triage_clue",
    "can_triage_clues",
    "can_unclaim",
    "can_view_case",
    "can_view_case_among",
    "can_view_case_content",
    "can_view_clue",
    "can_view_clue_content",
    "can_view_document",
    "can_view_evidence",
    "can_view_results",
    "can_view_rights_holders",
    "can_view_statistics",
    "can_view_task",
    "can_view_task_content",
    "can_withdraw_action_item",
    "can_work_on_case",
    "clue_agency_scope",
    "has_inbox",
    "has_role_in",
    "holding_agency_ids",
    "is_assigned",
    "is_confidential",
    "is_observer",
    "is_overseer",
    "is_party",
    "is_station_staff",
    "reads_as_copy",
    "register_scope",
    "signed_handoff",
    "statistics_agency_ids",
    "supervised_agency_ids",
    "visible_cases_condition",
    "works_in_lane",
]


# --- one entry point ---------------------------------------------------------------------

ACTIONS: dict[str, Callable[..., bool]] = {
    "start_case": lambda s, u, _r: can_start_case(u),
    "use_inbox": lambda s, u, _r: has_inbox(u),
    "administer": lambda s, u, _r: can_administer(u),
    "view_case": can_view_case,
    "view_case_content": can_view_case_content,
    "generate_document": can_generate_document,
    "view_document": can_view_document,
    "read_document_as_copy": reads_as_copy,
    "view_task": can_view_task,
    "view_task_content": can_view_task_content,
    "claim": lambda s, u, t: can_claim(u, t),
    "complete": lambda s, u, t: can_complete(u, t),
    "approve_handoff": lambda s, u, t: can_approve_handoff(u, t),
    "manage_standing_approvals": lambda s, u, _r: any(m.role == "liaison" for m in u.memberships),
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
    "withdraw_action_item": can_withdraw_action_item,
}


def allowed(session: Session, user: User, action: str, resource: Any = None) -> bool:
    """Whether `user` may do `action` to `resource`; an unknown action is a programming error."""
    if action not in ACTIONS:
        raise KeyError(f"unknown action '{action}'")
    return bool(ACTIONS[action](session, user, resource))
