"""Standing approvals of hand-offs: an agency's liaison approves one kind of
hand-off once for all; each such task is then approved in their name as it opens, audited as
their approval and naming the standing approval, until revoked. Real transfer diagram, both
databases."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    drain_worker,
    grant_standing_approval,
    handoff_steps,
    revoke_standing_approval,
    standing_approvals,
    verify_audit,
)
from engine.casework import tasks as plain_tasks
from models import AuditEvent, HumanTask, StandingApproval, case_chain
from tests.helpers import FILE, RECEIPT, RELEASE, act, open_task, open_tasks, transferred

KEY = "case_transfer"


def grant(session, user, bpmn_id, reason="本单位统一签收"):
    return grant_standing_approval(session, user, user.agency.id, KEY, bpmn_id, reason)


def filed(session, users):
    """A transferred case the police received, reviewed and decided to file."""
    case = transferred(session, users)
    act(session, users["police_liaison"], case.id, "accept_receipt", RECEIPT)
    act(session, users["police_handler"], case.id, "review_case", {"recommendation": "file", "opinion": "建议立案"})
    act(session, users["police_head"], case.id, "decide_filing", FILE)
    return case


def waiting(session, case_id):
    return [t.bpmn_id for t in open_tasks(session, case_id)]


def approvals(session, case_id):
    return [(e.detail["bpmn_id"], e.actor_id, e.detail.get("standing", {}).get("id"))
            for e in session.scalars(select(AuditEvent).where(
                AuditEvent.chain == case_chain(case_id), AuditEvent.event_type == "handoff_approved")
                .order_by(AuditEvent.seq))]


def test_the_steps_a_liaison_may_approve_standing_are_their_agency_s_yes_only_handoffs(session, users):
    police = {(s.process_key, s.bpmn_id): s for s in handoff_steps(session, users["police_liaison"].agency)}
    assert (KEY, "approve_filing_notice_handoff") in police
    assert (KEY, "accept_handover") in police
    assert police[(KEY, "accept_handover")].direction == "incoming"
    # The receipt asks how the transfer was received (accepted, supplements, forwarded): never standing.
    assert (KEY, "accept_receipt") not in police
    # SAMR's steps are not the police's to approve.
    assert (KEY, "accept_filing_notice") not in police


def test_a_filing_notice_travels_without_a_click_under_both_agencies_standing_approvals(session, users):
    police_grant = grant(session, users["police_liaison"], "approve_filing_notice_handoff")
    samr_grant = grant(session, users["samr_liaison"], "accept_filing_notice")
    case = filed(session, users)

    # The head's decision opened the police release, approved in the police liaison's name, which
    # opened SAMR's receipt, approved in the SAMR liaison's: the SAMR handler has the next step.
    assert waiting(session, case.id) == ["prepare_handover"]
    assert approvals(session, case.id)[-2:] == [
        ("approve_filing_notice_handoff", users["police_liaison"].id, police_grant.id),
        ("accept_filing_notice", users["samr_liaison"].id, samr_grant.id),
    ]
    done = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id,
                                                   HumanTask.bpmn_id == "accept_filing_notice")).one()
    assert done.completed_by_id == users["samr_liaison"].id
    assert done.result["received"] is True
    assert verify_audit(session, case.id) == []


def test_without_a_standing_approval_the_handoff_waits_for_its_liaison(session, users):
    case = filed(session, users)
    assert "approve_filing_notice_handoff" in waiting(session, case.id)
    assert all(standing is None for *_, standing in approvals(session, case.id))


def test_a_revoked_approval_no_longer_approves(session, users):
    standing = grant(session, users["police_liaison"], "approve_filing_notice_handoff")
    revoked = revoke_standing_approval(session, users["police_liaison"], standing.id, "改为逐件审核")
    assert revoked.revoked_at is not None and revoked.revoke_reason == "改为逐件审核"
    case = filed(session, users)
    assert "approve_filing_notice_handoff" in waiting(session, case.id)
    # A new grant for the same step is possible once the old one is revoked.
    assert grant(session, users["police_liaison"], "approve_filing_notice_handoff").id != standing.id
    events = [e.event_type for e in session.scalars(select(AuditEvent).where(
        AuditEvent.event_type.like("standing_approval_%")).order_by(AuditEvent.id))]
    assert events == ["standing_approval_granted", "standing_approval_revoked", "standing_approval_granted"]


def test_tasks_open_before_the_grant_wait_for_their_liaison(session, users, clock):
    case = filed(session, users)
    clock.advance(minutes=5)
    grant(session, users["police_liaison"], "approve_filing_notice_handoff")
    drain_worker(session)
    assert "approve_filing_notice_handoff" in waiting(session, case.id)


def test_the_worker_approves_a_handoff_opened_another_way(session, users):
    standing = grant(session, users["samr_liaison"], "accept_filing_notice")
    case = filed(session, users)
    release = open_task(session, case.id, "approve_filing_notice_handoff")
    plain_tasks.claim_task(session, users["police_liaison"], release.id)
    # Completed without the follow-up the pages and the API run: the worker's pass catches it.
    plain_tasks.complete_task(session, users["police_liaison"], release.id, RELEASE)
    session.info.clear()
    assert "accept_filing_notice" in waiting(session, case.id)
    assert drain_worker(session).approvals == 1
    assert waiting(session, case.id) == ["prepare_handover"]
    assert approvals(session, case.id)[-1] == ("accept_filing_notice", users["samr_liaison"].id, standing.id)


def test_a_grantor_who_left_the_lane_approves_nothing(session, users):
    grant(session, users["police_liaison"], "approve_filing_notice_handoff")
    users["police_liaison"].active = False
    session.commit()
    case = filed(session, users)
    task = open_task(session, case.id, "approve_filing_notice_handoff")
    assert task.assignee_id is None  # still claimable by the agency's other liaisons


@pytest.mark.parametrize(("who", "step", "reason", "error"), [
    ("police_handler", "approve_filing_notice_handoff", "理由", Forbidden),
    ("samr_liaison", "approve_filing_notice_handoff", "理由", InvalidInput),  # not SAMR's step
    ("police_liaison", "accept_receipt", "理由", InvalidInput),  # asks more than a yes
    ("police_liaison", "approve_filing_notice_handoff", "  ", InvalidInput),
    ("police_liaison", "no_such_step", "理由", InvalidInput),
])
def test_a_grant_that_cannot_be_is_refused_and_changes_nothing(session, users, who, step, reason, error):
    user = users[who]
    agency_id = user.agency.id
    with pytest.raises(error):
        grant_standing_approval(session, user, agency_id, KEY, step, reason)
    assert session.scalar(select(func.count()).select_from(StandingApproval)) == 0
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.event_type == "standing_approval_granted")) == 0


def test_one_active_approval_per_step_and_only_the_agency_s_liaisons_manage_them(session, users):
    standing = grant(session, users["police_liaison"], "accept_handover")
    with pytest.raises(Conflict):
        grant(session, users["police_liaison"], "accept_handover")
    with pytest.raises(NotFound):
        revoke_standing_approval(session, users["samr_liaison"], standing.id, "不是本单位的")
    with pytest.raises(Forbidden):
        standing_approvals(session, users["police_handler"], users["police_liaison"].agency.id)
    assert [s.id for s in standing_approvals(session, users["police_liaison"],
                                             users["police_liaison"].agency.id)] == [standing.id]
    with pytest.raises(InvalidInput):
        revoke_standing_approval(session, users["police_liaison"], standing.id, "")
    revoke_standing_approval(session, users["police_liaison"], standing.id, "停止")
    with pytest.raises(Conflict):
        revoke_standing_approval(session, users["police_liaison"], standing.id, "再次")
