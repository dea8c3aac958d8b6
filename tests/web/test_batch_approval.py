"""A liaison approves several hand-offs from the inbox at once: each is claimed and completed the
normal way, in its own transaction, and audited as the liaison's approval; a task that cannot be
approved so is left alone with the reason."""
from __future__ import annotations

import re

from sqlalchemy import select

from models import AuditEvent, HumanTask
from web.db import db

from .helpers import FACTS, claim_and_complete, create_case, open_task, post, text


def _to_liaison(app, client_for, title: str) -> HumanTask:
    handler, head = client_for("samr_handler"), client_for("samr_head")
    case_id = create_case(handler, title=title)
    assert claim_and_complete(handler, open_task(app, case_id, "register_facts").id, FACTS).status_code == 303
    decision = claim_and_complete(head, open_task(app, case_id, "decide_transfer").id, {"transfer_approved": "true", "administrative_penalty": "false"})
    assert decision.status_code == 303, text(decision)
    return open_task(app, case_id, "approve_outgoing_handoff")


def test_a_liaison_approves_two_hand_offs_at_once(app, client_for):
    first, second = (_to_liaison(app, client_for, title) for title in ("批量甲案", "批量乙案"))
    liaison = client_for("samr_liaison")
    inbox = text(liaison.get("/"))
    ticks = re.findall(r'<input type="checkbox" name="task_id" value="(\d+)" form="batch-approval"', inbox)
    assert {str(first.id), str(second.id)} <= set(ticks)
    assert "批准所选移交" in inbox or "Approve the selected hand-offs" in inbox
    # A handler sees no ticks: nothing of theirs is a hand-off.
    assert 'name="task_id"' not in text(client_for("samr_handler").get("/"))

    done = post(liaison, "/tasks/approve", {"task_id": [str(first.id), str(second.id)]})
    assert done.status_code == 303 and done.headers["Location"] == "/"
    page = text(liaison.get("/"))
    assert "已批准 2 项移交" in page or "2 hand-offs approved" in page
    with db.new_session(app) as session:
        for task in (first, second):
            row = session.get(HumanTask, task.id)
            assert row.state == "completed" and row.completed_by.username == "samr_liaison"
            assert row.result == {"handoff_approved": True}
            events = [e.event_type for e in session.scalars(
                select(AuditEvent).where(AuditEvent.task_id == task.id).order_by(AuditEvent.seq))]
            assert events[-3:] == ["task_claimed", "task_completed", "handoff_approved"] or \
                ("task_claimed" in events and "handoff_approved" in events)
    # Each went on as from its own page: the police liaison signs for both.
    for task in (first, second):
        assert open_task(app, task.case_id, "accept_receipt").state == "open"


def test_what_cannot_be_approved_in_a_batch_is_said_and_left(app, client_for):
    handoff = _to_liaison(app, client_for, "批量丙案")
    liaison = client_for("samr_liaison")
    other = client_for("samr_handler")
    case_id = create_case(other, title="非移交任务")
    not_a_handoff = open_task(app, case_id, "register_facts")
    done = post(liaison, "/tasks/approve", {"task_id": [str(not_a_handoff.id), str(handoff.id)]})
    assert done.status_code == 303
    page = text(liaison.get("/"))
    assert f"任务 {not_a_handoff.id} 未批准" in page or f"Task {not_a_handoff.id} was not approved" in page
    with db.new_session(app) as session:
        assert session.get(HumanTask, not_a_handoff.id).state == "open"
        assert session.get(HumanTask, not_a_handoff.id).assignee_id is None
        assert session.get(HumanTask, handoff.id).state == "completed"
    empty = post(liaison, "/tasks/approve", {})
    assert empty.status_code == 303
