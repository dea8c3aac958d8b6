"""The task page and its actions: claim, release, complete, with the form from the JSON Schema."""
from __future__ import annotations

import pytest

from .helpers import FACTS, claim_and_complete, create_case, field_html, open_task, post, task_row, text, user_id


@pytest.fixture
def facts_task(app, client_for):
    """A fresh case's first task, and the handler's logged-in client."""
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    return handler, open_task(app, case_id, "register_facts"), case_id


def _claim(client, task_id):
    return post(client, f"/tasks/{task_id}/claim", token_from=f"/tasks/{task_id}")


def test_task_page_shows_case_context_and_claim_button(facts_task):
    handler, task, case_id = facts_task
    html = text(handler.get(f"/tasks/{task.id}"))
    assert f"LD2026-{case_id:05d}" in html and "某科技公司技术秘密被侵犯案" in html
    assert "立案协助" in html  # the process
    assert f'action="/tasks/{task.id}/claim"' in html
    assert "认领任务后即可填写表单。" in html
    assert f'action="/tasks/{task.id}/complete"' not in html


def test_claimed_task_shows_its_form_rendered_from_the_schema(facts_task):
    handler, task, _ = facts_task
    response = _claim(handler, task.id)
    assert response.status_code == 303 and response.headers["Location"] == f"/tasks/{task.id}"
    html = text(handler.get(f"/tasks/{task.id}"))
    assert "已认领任务。" in html
    assert f'action="/tasks/{task.id}/complete"' in html
    assert 'name="loss_amount" type="number"' in field_html(html, "loss_amount")
    assert 'min="0"' in field_html(html, "loss_amount")
    assert "<textarea" in field_html(html, "summary")  # maxLength 10000
    assert 'value="侵犯商业秘密罪"' in field_html(html, "suspected_offence")  # default
    bankruptcy = field_html(html, "bankruptcy_caused")
    assert 'type="radio" name="bankruptcy_caused" value="false" checked' in bankruptcy  # default false
    assert "是" in bankruptcy and "否" in bankruptcy
    assert 'class="required"' in field_html(html, "party_name")
    assert f'action="/tasks/{task.id}/unclaim"' in html


def test_claim_then_complete_with_valid_data_moves_the_case_on(app, facts_task):
    handler, task, case_id = facts_task
    response = claim_and_complete(handler, task.id, FACTS)
    # The completer lands on what happens next (tests/web/test_inbox_context.py).
    assert response.status_code == 303 and response.headers["Location"] == f"/tasks/{task.id}/done"
    assert "任务已办结：登记案件事实" in text(handler.get(response.headers["Location"]))
    done = task_row(app, task.id)
    assert done.state == "completed"
    assert done.result["loss_amount"] == 500000 and done.result["bankruptcy_caused"] is False
    assert open_task(app, case_id, "decide_transfer").assignee_id is None


def test_schema_violation_shows_errors_next_to_fields_and_keeps_values(app, facts_task):
    handler, task, _ = facts_task
    bad = {**FACTS, "party_name": "", "loss_amount": "-5", "illegal_gain": "很多"}
    response = claim_and_complete(handler, task.id, bad)
    assert response.status_code == 422
    html = text(response)
    assert "请输入数字" in field_html(html, "illegal_gain")
    assert 'value="很多"' in field_html(html, "illegal_gain")
    assert 'value="某某科技有限公司"' not in field_html(html, "party_name")
    # Conversion errors come first; once the numbers parse, the engine's schema errors show.
    response = post(handler, f"/tasks/{task.id}/complete", {**bad, "illegal_gain": "0"},
                    token_from=f"/tasks/{task.id}")
    assert response.status_code == 422
    html = text(response)
    assert "此项为必填项" in field_html(html, "party_name")
    assert "数值过小" in field_html(html, "loss_amount")
    assert 'value="-5"' in field_html(html, "loss_amount")
    assert "前员工离职后" in field_html(html, "summary")
    assert "数值过小" not in field_html(html, "illegal_gain")
    row = task_row(app, task.id)
    assert row.state == "open" and row.result is None


def test_conditional_requirement_from_the_schema(app, client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    claim_and_complete(handler, open_task(app, case_id, "register_facts").id, FACTS)
    head = client_for("samr_head")
    decide = open_task(app, case_id, "decide_transfer")
    response = claim_and_complete(head, decide.id, {"transfer_approved": "false", "reasons": ""})
    assert response.status_code == 422
    html = text(response)
    assert "此项为必填项" in field_html(html, "reasons")
    assert 'value="false" checked' in field_html(html, "transfer_approved")
    assert task_row(app, decide.id).state == "open"


def test_completing_an_unclaimed_task_is_refused(app, facts_task):
    handler, task, _ = facts_task
    response = post(handler, f"/tasks/{task.id}/complete", FACTS, token_from=f"/tasks/{task.id}")
    assert response.status_code == 303 and response.headers["Location"] == f"/tasks/{task.id}"
    assert "请先认领任务，再提交办理。" in text(handler.get(f"/tasks/{task.id}"))
    assert task_row(app, task.id).state == "open"


def test_a_task_claimed_by_someone_else_cannot_be_claimed_or_completed(app, facts_task, client_for):
    handler, task, _ = facts_task
    _claim(handler, task.id)
    other = client_for("samr_handler2")
    response = _claim(other, task.id)
    assert response.status_code == 303
    assert "该任务已被他人认领或办结。" in text(other.get(f"/tasks/{task.id}"))
    post(other, f"/tasks/{task.id}/complete", FACTS, token_from=f"/tasks/{task.id}")
    row = task_row(app, task.id)
    assert row.state == "open" and row.assignee_id == user_id(app, "samr_handler")
    assert "王承办（市场监管）" in text(other.get(f"/tasks/{task.id}"))


def test_release_gives_the_task_back_to_its_lane(app, facts_task):
    handler, task, _ = facts_task
    _claim(handler, task.id)
    response = post(handler, f"/tasks/{task.id}/unclaim", token_from=f"/tasks/{task.id}")
    assert response.status_code == 303
    assert "已取消认领，任务回到本岗位待认领。" in text(handler.get(f"/tasks/{task.id}"))
    assert task_row(app, task.id).assignee_id is None


def test_wrong_lane_cannot_claim(app, facts_task, client_for):
    _, task, _ = facts_task
    head = client_for("samr_head")  # same agency: sees the case, but not in the handler lane
    html = text(head.get(f"/tasks/{task.id}"))
    assert f'action="/tasks/{task.id}/claim"' not in html
    _claim(head, task.id)
    assert "该任务不属于您的岗位，不能认领。" in text(head.get(f"/tasks/{task.id}"))
    assert task_row(app, task.id).assignee_id is None


@pytest.mark.parametrize("username", ["police_handler", "procuratorate_head", "court_liaison"])
def test_other_agencies_get_404_for_tasks_and_cases_they_cannot_see(facts_task, client_for, username):
    _, task, case_id = facts_task
    outsider = client_for(username)
    assert outsider.get(f"/tasks/{task.id}").status_code == 404
    assert outsider.get(f"/cases/{case_id}").status_code == 404
    assert outsider.get("/tasks/999999").status_code == 404
    assert post(outsider, f"/tasks/{task.id}/claim").status_code == 404
    assert f"LD2026-{case_id:05d}" not in text(outsider.get("/cases/"))


def test_completed_steps_show_their_decisions(app, client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    claim_and_complete(handler, open_task(app, case_id, "register_facts").id, FACTS)
    head = client_for("samr_head")
    html = text(head.get(f"/tasks/{open_task(app, case_id, 'decide_transfer').id}"))
    assert "登记案件事实" in html and "王承办（市场监管）" in html
    assert "权利人损失数额（元）：500000" in html
    # Free text of the facts form is not a workflow variable and is not shown here.
    assert "前员工离职后" not in html
