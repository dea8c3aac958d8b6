"""The task page beyond its form: documents, attachments (case files the user may open) and
comments, each shown only to whom policy allows."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AuditEvent, TaskComment
from web.db import db

from .helpers import FACTS, claim_and_complete, create_case, field_html, open_task, post, text
from .test_evidence import upload

# The transfer up to the police liaison's receipt (the message is delivered by the worker).
TO_POLICE = [
    ("samr_handler", "register_facts", FACTS),
    ("samr_head", "decide_transfer", {"transfer_approved": "true", "administrative_penalty": "false"}),
    ("samr_liaison", "approve_outgoing_handoff", {"handoff_approved": "true", "comment": ""}),
]


@pytest.fixture
def transferred(app, client_for, runner):
    """A case with a confidential and an open file of samr, transferred to the police."""
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    assert upload(handler, case_id, name="配方.pdf").status_code == 303
    assert upload(handler, case_id, name="营业执照.pdf", confidential="").status_code == 303
    for username, bpmn_id, data in TO_POLICE:
        task = open_task(app, case_id, bpmn_id)
        assert claim_and_complete(client_for(username), task.id, data).status_code == 303
        assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    return case_id


def _comment(client, task_id: int, body: str):
    return post(client, f"/tasks/{task_id}/comments", {"body": body}, token_from=f"/tasks/{task_id}")


def test_attachments_are_the_files_each_agency_may_open(app, client_for, transferred):
    police_task = open_task(app, transferred, "accept_receipt")
    police = text(client_for("police_liaison").get(f"/tasks/{police_task.id}"))
    attachments = police.split('id="attachments"')[1].split('id="comments"')[0]
    assert "营业执照.pdf" in attachments and "配方.pdf" not in attachments


def test_the_uploading_handler_sees_both_files_and_the_documents(app, client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    upload(handler, case_id, name="配方.pdf")
    task = open_task(app, case_id, "register_facts")
    page = text(handler.get(f"/tasks/{task.id}"))
    attachments = page.split('id="attachments"')[1].split('id="comments"')[0]
    assert "配方.pdf" in attachments and f"/cases/{case_id}/evidence/" in attachments
    assert "<h2>法律文书</h2>" in page
    # Another handler of the agency, not on the case, sees the task but not the confidential file.
    other = text(client_for("samr_handler2").get(f"/tasks/{task.id}"))
    assert "配方.pdf" not in other.split('id="attachments"')[1]


def test_comments_are_kept_within_the_agency_that_wrote_them(app, client_for, transferred):
    task = open_task(app, transferred, "accept_receipt")
    liaison = client_for("police_liaison")
    response = _comment(liaison, task.id, "材料清点中，<b>明日</b>签收。")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/tasks/{task.id}#comments")
    page = text(liaison.get(f"/tasks/{task.id}"))
    assert "材料清点中，&lt;b&gt;明日&lt;/b&gt;签收。" in page and "备注已添加。" in page
    assert "材料清点中" in text(client_for("police_head").get(f"/tasks/{task.id}"))
    # The samr liaison sees the task (its case), not the police's comment.
    samr = text(client_for("samr_liaison").get(f"/tasks/{task.id}"))
    assert "材料清点中" not in samr
    with db.new_session(app) as session:
        [comment] = session.scalars(select(TaskComment)).all()
        event = session.scalar(select(AuditEvent).where(AuditEvent.event_type == "comment_added"))
        assert event.detail["comment_id"] == comment.id and "材料" not in str(event.detail)


@pytest.mark.parametrize("body", ["", "   ", "长" * 4001])
def test_an_empty_or_long_comment_is_refused_next_to_its_field(app, client_for, body):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    task = open_task(app, case_id, "register_facts")
    response = _comment(handler, task.id, body)
    assert response.status_code == 422
    assert "请填写 1 至 4000 个字的备注。" in field_html(text(response), "body")
    with db.new_session(app) as session:
        assert session.scalars(select(TaskComment)).all() == []


def test_supervisors_and_outsiders_cannot_comment(app, client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    task = open_task(app, case_id, "register_facts")
    supervisor = client_for("office_supervisor")
    assert "此任务的备注不向您显示。" in text(supervisor.get(f"/tasks/{task.id}"))
    assert _comment(supervisor, task.id, "督办意见").status_code == 303
    assert _comment(client_for("police_handler"), task.id, "x").status_code == 404
    with db.new_session(app) as session:
        assert session.scalars(select(TaskComment)).all() == []
