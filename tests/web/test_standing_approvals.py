"""The standing-approvals page: a liaison approves a kind of hand-off once for
all, with a reason, and the next such hand-off goes on without them; refusals say why and change
nothing; only liaisons reach the page."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from models import AuditEvent, HumanTask, StandingApproval
from web.db import db

from .helpers import FACTS, claim_and_complete, create_case, open_task, post, text


def _count(app):
    with db.new_session(app) as session:
        return session.scalar(select(func.count()).select_from(StandingApproval))


def test_only_liaisons_reach_the_page(app, client_for):
    assert client_for("samr_handler").get("/handoffs/standing/").status_code == 403
    assert client_for("office_supervisor").get("/handoffs/standing/").status_code == 403
    page = client_for("police_liaison").get("/handoffs/standing/")
    assert page.status_code == 200
    body = text(page)
    assert 'data-step="case_transfer:approve_filing_notice_handoff"' in body
    # A step that asks more than a confirmation (how the transfer was received) is not offered.
    assert 'data-step="case_transfer:accept_receipt"' not in body
    assert "/handoffs/standing/" in text(client_for("police_liaison").get("/"))
    assert "/handoffs/standing/" not in text(client_for("police_handler").get("/"))


def test_a_grant_without_a_reason_is_refused_and_changes_nothing(app, client_for):
    liaison = client_for("samr_liaison")
    refused = post(liaison, "/handoffs/standing/grant", {"step": "case_transfer:approve_outgoing_handoff",
                                                         "reason": "  "})
    assert refused.status_code == 422
    assert "请说明理由" in text(refused)
    assert _count(app) == 0
    # A step that is not the agency's is refused with its field named.
    other = post(liaison, "/handoffs/standing/grant", {"step": "case_transfer:accept_receipt", "reason": "统一"})
    assert other.status_code == 422 and _count(app) == 0
    assert "只有本单位仅需确认的移交环节可以设定常设批准" in text(other)


def test_a_granted_step_goes_on_without_the_liaison_until_revoked(app, client_for):
    liaison = client_for("samr_liaison")
    granted = post(liaison, "/handoffs/standing/grant", {"step": "case_transfer:approve_outgoing_handoff",
                                                         "reason": "经局务会研究，移送材料由承办人与负责人把关"})
    assert granted.status_code == 303
    page = text(liaison.get("/handoffs/standing/"))
    assert "经局务会研究" in page

    handler, head = client_for("samr_handler"), client_for("samr_head")
    case_id = create_case(handler, title="配方甲案")
    assert claim_and_complete(handler, open_task(app, case_id, "register_facts").id, FACTS).status_code == 303
    decided = claim_and_complete(head, open_task(app, case_id, "decide_transfer").id,
                                 {"transfer_approved": "true", "administrative_penalty": "false"})
    assert decided.status_code == 303, text(decided)
    # The liaison's approval happened in their name as the head decided: the police sign next.
    assert open_task(app, case_id, "accept_receipt").state == "open"
    with db.new_session(app) as session:
        task = session.scalars(select(HumanTask).where(HumanTask.case_id == case_id,
                                                       HumanTask.bpmn_id == "approve_outgoing_handoff")).one()
        assert task.state == "completed" and task.completed_by.username == "samr_liaison"
        event = session.scalars(select(AuditEvent).where(AuditEvent.task_id == task.id,
                                                         AuditEvent.event_type == "handoff_approved")).one()
        standing_id = event.detail["standing"]["id"]
    timeline = text(handler.get(f"/cases/{case_id}"))
    assert "联络员审核移交 · 按常设批准" in timeline

    refused = post(liaison, f"/handoffs/standing/{standing_id}/revoke", {"revoke_reason": ""})
    assert refused.status_code == 422
    revoked = post(liaison, f"/handoffs/standing/{standing_id}/revoke", {"revoke_reason": "恢复逐件审核"})
    assert revoked.status_code == 303
    assert re.search("恢复逐件审核", text(liaison.get("/handoffs/standing/")))
    second = create_case(handler, title="配方乙案")
    assert claim_and_complete(handler, open_task(app, second, "register_facts").id, FACTS).status_code == 303
    assert claim_and_complete(head, open_task(app, second, "decide_transfer").id,
                              {"transfer_approved": "true", "administrative_penalty": "false"}).status_code == 303
    assert open_task(app, second, "approve_outgoing_handoff").state == "open"


def test_another_agency_s_approval_cannot_be_revoked(app, client_for):
    post(client_for("samr_liaison"), "/handoffs/standing/grant",
         {"step": "case_transfer:approve_outgoing_handoff", "reason": "统一审核"})
    with db.new_session(app) as session:
        standing_id = session.scalar(select(StandingApproval.id))
    assert post(client_for("police_liaison"), f"/handoffs/standing/{standing_id}/revoke",
                {"revoke_reason": "不是本单位的"}).status_code == 404

