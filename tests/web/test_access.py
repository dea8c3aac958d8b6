"""What pages show and allow per user: supervisors see timelines and deadlines but no content,
liaisons assign work within their lane, and wrong transitions change nothing."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import AuditEvent, case_chain
from web.db import db

from .helpers import FACTS, claim_and_complete, create_case, open_task, post, task_row, text, user_id


@pytest.fixture
def decided(app, client_for):
    """A case whose facts are registered; the head's decision is open and unclaimed."""
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    facts = open_task(app, case_id, "register_facts")
    assert claim_and_complete(handler, facts.id, FACTS).status_code == 303
    return case_id, facts.id, open_task(app, case_id, "decide_transfer")


def test_supervisor_sees_steps_and_deadlines_but_not_what_they_decided(decided, client_for):
    case_id, facts_id, decide = decided
    supervisor = client_for("office_supervisor")
    for task_id in (facts_id, decide.id):
        html = text(supervisor.get(f"/tasks/{task_id}"))
        assert "登记案件事实" in html and "王承办（市场监管）" in html  # who did what, when
        assert "500000" not in html and "权利人损失数额" not in html and "前员工离职后" not in html
        assert "各环节的办理内容不向您显示。" in html
        assert "/claim" not in html and "/complete" not in html and "/assign" not in html
    case_page = text(supervisor.get(f"/cases/{case_id}"))
    assert "负责人审批移送" in case_page and 'data-event="task_completed"' in case_page
    assert "500000" not in case_page and "前员工离职后" not in case_page
    assert f'action="/cases/{case_id}/evidence"' not in case_page
    head = text(client_for("samr_head").get(f"/tasks/{decide.id}"))
    assert "权利人损失数额（元）：500000" in head  # the agency's own people do see it


def test_secret_case_content_is_for_assigned_users_only(app, client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler, confidentiality="secret")
    claim_and_complete(handler, open_task(app, case_id, "register_facts").id, FACTS)
    decide = open_task(app, case_id, "decide_transfer")
    assert "500000" in text(handler.get(f"/tasks/{decide.id}"))
    head = client_for("samr_head")
    assert "500000" not in text(head.get(f"/tasks/{decide.id}"))
    post(head, f"/tasks/{decide.id}/claim", token_from=f"/tasks/{decide.id}")
    assert "500000" in text(head.get(f"/tasks/{decide.id}"))  # claiming it makes them assigned


def test_liaison_delegates_then_reassigns_within_the_lane(app, decided, client_for):
    case_id, _, decide = decided
    liaison = client_for("samr_liaison")
    html = text(liaison.get(f"/tasks/{decide.id}"))
    assert f'action="/tasks/{decide.id}/assign"' in html and "指派给" in html
    options = re.findall(r'<option value="(\d+)">', html.split('name="assignee_id"', 1)[1])
    assert options == [str(user_id(app, "samr_head"))]  # only the lane's users
    assert "/claim" not in html  # a liaison is not in the head's lane

    response = post(liaison, f"/tasks/{decide.id}/assign", {"assignee_id": user_id(app, "samr_head")},
                    token_from=f"/tasks/{decide.id}")
    assert response.status_code == 303
    assert "任务已指派给张局长（市场监管）。" in text(liaison.get(f"/tasks/{decide.id}"))
    assert task_row(app, decide.id).assignee_id == user_id(app, "samr_head")

    # A second head joins the lane; the liaison moves the claimed task to them.
    from engine import create_user
    with db.new_session(app) as session:
        create_user(session, "samr_head2", "pw-samr_head2-2026", "钱副局长", "samr", ["head"])
    html = text(liaison.get(f"/tasks/{decide.id}"))
    assert "改派给" in html
    post(liaison, f"/tasks/{decide.id}/assign", {"assignee_id": user_id(app, "samr_head2")},
         token_from=f"/tasks/{decide.id}")
    assert task_row(app, decide.id).assignee_id == user_id(app, "samr_head2")

    with db.new_session(app) as session:
        events = [(e.event_type, e.detail.get("before"), e.detail.get("after")) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.chain == case_chain(case_id)).order_by(AuditEvent.seq))
            if e.event_type in ("task_delegated", "task_reassigned")]
    assert events == [("task_delegated", None, user_id(app, "samr_head")),
                      ("task_reassigned", user_id(app, "samr_head"), user_id(app, "samr_head2"))]


@pytest.mark.parametrize("username, assignee, message", [
    ("samr_handler", "samr_head", "只有本单位联络员才能将此任务指派给本岗位人员。"),
    ("police_liaison", "samr_head", None),  # cannot see the case at all
    ("samr_liaison", "samr_handler", "请选择本岗位的人员。"),
    ("samr_liaison", "x", "请选择本岗位的人员。"),
])
def test_assignment_refused_changes_nothing(app, decided, client_for, username, assignee, message):
    _, _, decide = decided
    client = client_for(username)
    target = user_id(app, assignee) if assignee != "x" else "not-a-number"
    response = post(client, f"/tasks/{decide.id}/assign", {"assignee_id": target})
    if message is None:
        assert response.status_code == 404
    else:
        assert response.status_code == 303
        assert message in text(client.get(f"/tasks/{decide.id}"))
    assert task_row(app, decide.id).assignee_id is None


def test_completing_a_completed_task_changes_nothing(app, decided, client_for):
    _, facts_id, _ = decided
    handler = client_for("samr_handler")
    before = task_row(app, facts_id)
    response = post(handler, f"/tasks/{facts_id}/complete", {**FACTS, "loss_amount": "1"},
                    token_from=f"/tasks/{facts_id}")
    assert response.status_code == 303
    assert "该任务已被他人办结或更改。" in text(handler.get(f"/tasks/{facts_id}"))
    after = task_row(app, facts_id)
    assert (after.state, after.result, after.completed_at) == (before.state, before.result, before.completed_at)
    assert post(handler, f"/tasks/{facts_id}/claim").status_code == 303
    assert task_row(app, facts_id).assignee_id == before.assignee_id


def test_claiming_another_agencys_task_is_refused(app, client_for):
    from models import User
    from tests.helpers import APPROVE_HANDOFF, APPROVE_TRANSFER, FACTS_500K, act

    handler = client_for("samr_handler")
    case_id = create_case(handler)
    with db.new_session(app) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        act(session, users["samr_handler"], case_id, "register_facts", FACTS_500K)
        act(session, users["samr_head"], case_id, "decide_transfer", APPROVE_TRANSFER)
        act(session, users["samr_liaison"], case_id, "approve_outgoing_handoff", APPROVE_HANDOFF)
    receipt = open_task(app, case_id, "accept_receipt")
    response = post(handler, f"/tasks/{receipt.id}/claim", token_from=f"/tasks/{receipt.id}")
    assert response.status_code == 303
    assert "该任务不属于您的岗位，不能认领。" in text(handler.get(f"/tasks/{receipt.id}"))
    assert task_row(app, receipt.id).assignee_id is None


@pytest.mark.parametrize("method, path", [
    ("get", "/tasks/999999"), ("post", "/tasks/999999/claim"), ("post", "/tasks/999999/complete"),
    ("post", "/tasks/999999/assign"), ("get", "/cases/999999"), ("post", "/cases/999999/evidence"),
    ("get", "/cases/999999/evidence/1"), ("post", "/cases/1/evidence/custody/999999/receive"),
    ("get", "/tasks/abc"),
])
def test_unknown_ids_are_404(client_for, method, path):
    client = client_for("samr_handler")
    response = post(client, path) if method == "post" else client.get(path)
    assert response.status_code == 404


def test_the_observing_procuratorate_reads_the_letter_and_timeline_not_confidential_evidence(app, client_for):
    """Copied on the transfer, the procuratorate's users see the case, its 移送书, its timeline and
    decisions, through the pages and the API; a confidential file stays closed, the police's task
    is not theirs to claim, and the case page offers the prosecutor 立案监督 on their own motion."""
    from models import Document, HumanTask, User
    from tests.helpers import transferred
    from tests.web.api_helpers import ApiClient
    from tests.web.test_evidence import upload

    handler = client_for("samr_handler")
    with db.new_session(app) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        case_id = transferred(session, users).id
        letter_id = session.scalar(select(Document.id).where(Document.case_id == case_id))
    assert upload(handler, case_id, confidential="true").status_code == 303
    evidence = re.findall(r'data-evidence="(\d+)"', text(handler.get(f"/cases/{case_id}")))
    assert len(evidence) == 1

    liaison = client_for("procuratorate_liaison")
    page = text(liaison.get(f"/cases/{case_id}"))
    assert "抄送监督" in page and 'data-event="observer_joined"' in page and "抄送监督单位" in page
    assert f'href="/documents/{letter_id}"' in page
    letter = text(liaison.get(f"/documents/{letter_id}"))
    assert "涉嫌犯罪案件移送书" in letter and "人民检察院" in letter
    assert liaison.get(f"/cases/{case_id}/evidence/{evidence[0]}/download").status_code in (403, 404)
    assert f'action="/cases/{case_id}/evidence"' not in page  # no upload form for an observer
    decision = open_task(app, case_id, "accept_receipt")
    assert "登记案件事实" in page  # the steps and who did them
    with db.new_session(app) as session:
        facts_id = session.scalar(select(HumanTask.id).where(HumanTask.case_id == case_id,
                                                             HumanTask.bpmn_id == "register_facts"))
    facts = text(liaison.get(f"/tasks/{facts_id}"))
    assert "500000" in facts and "comment-form" not in facts  # it reads what was decided, and only reads
    response = post(liaison, f"/tasks/{decision.id}/claim", token_from=f"/tasks/{decision.id}")
    assert response.status_code == 303 and task_row(app, decision.id).assignee_id is None
    assert 'class="start-mechanism"' not in page  # the liaison starts nothing

    prosecutor = client_for("procuratorate_handler")
    page = text(prosecutor.get(f"/cases/{case_id}"))
    options = re.findall(r'<option value="([a-z_]+)">', page.split('class="start-mechanism"', 1)[1].split("</form>")[0])
    # What names the procuratorate; nothing any party may start.
    assert {"filing_supervision", "procuratorial_opinion"} <= set(options)
    assert not {"consultation", "evidence_recognition", "information_sharing"} & set(options)
    response = post(prosecutor, f"/cases/{case_id}/mechanisms", {"key": "filing_supervision"},
                    token_from=f"/cases/{case_id}")
    assert response.status_code == 303
    assert open_task(app, case_id, "examine_supervision").lane == "procuratorate.handler"

    api = ApiClient(app, "procuratorate_liaison")
    case = api.get(f"/cases/{case_id}").get_json()
    assert "procuratorate" in [p["agency"] for p in case["participants"]]
    assert "observer_joined" in [e["event_type"] for e in api.get(f"/cases/{case_id}/timeline").get_json()]
    documents = api.get(f"/cases/{case_id}/documents").get_json()
    assert [d["kind"] for d in documents] == ["transfer_letter"]
    assert api.get(f"/documents/{letter_id}").status_code == 200
    assert api.get(f"/evidence/{evidence[0]}/file").status_code in (403, 404)
    assert api.get(f"/evidence/{evidence[0]}").status_code == 200  # its metadata


def test_each_notice_to_the_observer_reads_in_chinese(app):
    from engine.oversight.notifications import CASE_COPIED, OBSERVER_REPORTS
    from models import Notification
    from web.notifications import notification_text

    expected = {"case_copied": "移送书已抄送本单位", "non_filing_reported": "不予立案",
                "non_filing_upheld_reported": "复议决定维持", "transfer_refused_reported": "不予移送",
                "transfer_abandoned_reported": "终止移送", "filing_overdue_reported": "作出是否立案的决定"}
    assert set(expected) == {CASE_COPIED, *OBSERVER_REPORTS}
    with app.test_request_context("/"):
        for kind, words in expected.items():
            row = Notification(kind=kind, params={"title": "", "case_number": "LD2026-00001", "actor": None,
                                                  "due_at": "2026-03-05T15:59:59+00:00"})
            shown = notification_text(row)
            assert words in shown and "LD2026-00001" in shown, shown
    assert "2026-03-05 23:59" in shown  # the missed deadline, in Beijing time


def test_the_observing_prosecutor_starts_filing_supervision_by_the_api(app):
    from engine import create_case as open_new_case
    from models import User
    from tests.helpers import transferred
    from tests.web.api_helpers import ApiClient

    with db.new_session(app) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        case_id = transferred(session, users).id
        untransferred = open_new_case(session, users["samr_handler"], "尚未移送").id
    liaison, prosecutor = ApiClient(app, "procuratorate_liaison"), ApiClient(app, "procuratorate_handler")
    assert liaison.post(f"/cases/{case_id}/mechanisms", {"key": "filing_supervision"}).status_code == 403
    # What any party may start is not the observer's to start.
    assert prosecutor.post(f"/cases/{case_id}/mechanisms", {"key": "consultation"}).status_code == 403
    assert prosecutor.post(f"/cases/{untransferred}/mechanisms", {"key": "filing_supervision"}).status_code == 404
    started = prosecutor.post(f"/cases/{case_id}/mechanisms", {"key": "filing_supervision"})
    assert started.status_code == 201, started.get_data(as_text=True)
    assert open_task(app, case_id, "examine_supervision").lane == "procuratorate.handler"
    participants = prosecutor.get(f"/cases/{case_id}").get_json()["participants"]
    assert "procuratorate" in [p["agency"] for p in participants]
