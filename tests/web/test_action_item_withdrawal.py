"""A consultation's action items on the case page and in the API: the convening agency withdraws an
open task item with its reason (a form for those the engine allows, CSRF-protected; the API's
POST), everyone else is refused, and the page, the timeline and the responsible agency's notice say
so in Chinese and English."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

import engine
from models import ConsultationActionItem, User
from tests.engine.test_consultation import MINUTES
from tests.engine.test_consultation_actions import to_minutes
from tests.helpers import act
from web.db import db

from .api_helpers import ApiClient
from .helpers import post, text

PLAN = "启动｜证据互认\n交办｜公安｜5｜调取涉案账户的银行流水\n交办｜检察院｜3｜就损失认定提出书面意见"
REASON = "会商决定改由市场监管部门自行调取"


@pytest.fixture
def recorded(app):
    """A case whose minutes (recorded by samr_handler) started a mechanism and gave the police and
    the procuratorate a task each: (case id, [item ids])."""
    with db.new_session(app) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        case = engine.create_case(session, users["samr_handler"], "某公司技术秘密被侵犯案", mechanisms=[])
        to_minutes(session, users, case)
        act(session, users["samr_handler"], case.id, "record_minutes", {**MINUTES, "action_plan": PLAN})
        ids = list(session.scalars(select(ConsultationActionItem.id).where(ConsultationActionItem.case_id == case.id)
                                   .order_by(ConsultationActionItem.id)))
        return case.id, ids


def item_row(app, item_id: int) -> ConsultationActionItem:
    with db.new_session(app) as session:
        item = session.get(ConsultationActionItem, item_id)
        session.expunge(item)
        return item


def forms_on(page: str) -> list[str]:
    return re.findall(r'action="/cases/\d+/action-items/(\d+)/withdraw"', page)


def test_the_convener_withdraws_an_item_on_the_case_page(app, client_for, recorded):
    case_id, (_mechanism, police, procuratorate) = recorded
    handler = client_for("samr_handler")
    page = text(handler.get(f"/cases/{case_id}"))
    # Only the open task items offer the form, with a required reason and the CSRF token.
    assert forms_on(page) == [str(police), str(procuratorate)]
    form = page[page.index(f"/action-items/{police}/withdraw"):]
    form = form[:form.index("</form>")]
    assert '<textarea id="withdraw-reason-' in form and 'name="reason"' in form and "required" in form
    assert 'name="csrf_token"' in page[page.index('<table class="action-items">'):]
    assert "撤回理由（将通知责任单位）" in form

    # Without the CSRF token the post is refused; without a reason the page says so.
    assert handler.post(f"/cases/{case_id}/action-items/{police}/withdraw", data={"reason": REASON}).status_code == 400
    blank = post(handler, f"/cases/{case_id}/action-items/{police}/withdraw", {"reason": "  "},
                 token_from=f"/cases/{case_id}")
    assert blank.status_code == 422 and "请写明撤回该落实事项的理由" in text(blank)
    assert item_row(app, police).state == "open"

    done = post(handler, f"/cases/{case_id}/action-items/{police}/withdraw", {"reason": REASON},
                token_from=f"/cases/{case_id}")
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/cases/{case_id}#action-items")
    page = text(handler.get(f"/cases/{case_id}"))
    assert "落实事项已撤回，已通知责任单位联络员。" in page
    row = re.search(rf'<tr data-action-item="{police}" data-state="withdrawn".*?</tr>', page, re.S).group(0)
    assert "召集单位已撤回" in row and f"撤回理由：{REASON}" in row
    assert forms_on(page) == [str(procuratorate)]
    # The timeline words the event and, for readers of the content, the reason.
    assert "召集单位撤回会商落实事项" in page and f"理由：{REASON}" in page

    # Again: the item is closed (409), the page says why.
    again = post(handler, f"/cases/{case_id}/action-items/{police}/withdraw", {"reason": REASON},
                 token_from=f"/cases/{case_id}")
    assert again.status_code == 409 and "该落实事项已办结" in text(again)


def test_the_responsible_agency_is_told_in_its_language(app, client_for, recorded):
    case_id, (_mechanism, police, _procuratorate) = recorded
    handler = client_for("samr_handler")
    post(handler, f"/cases/{case_id}/action-items/{police}/withdraw", {"reason": REASON}, token_from=f"/cases/{case_id}")
    liaison = client_for("police_liaison")
    notices = text(liaison.get("/notifications"))
    assert "撤回了交办本单位的会商落实事项：调取涉案账户的银行流水" in notices
    liaison.get("/?lang=en")
    english = text(liaison.get("/notifications"))
    assert "withdrew the consultation action item given to your agency: 调取涉案账户的银行流水" in english
    page = text(handler.get(f"/cases/{case_id}?lang=en"))
    assert "Withdrawn by the convener" in page and f"Reason for withdrawal: {REASON}" in page
    assert "Consultation action item withdrawn by the convener" in page


@pytest.mark.parametrize("username", ["police_liaison", "samr_head"])
def test_others_get_no_form_and_are_refused(app, client_for, recorded, username):
    case_id, (_mechanism, police, _procuratorate) = recorded
    browser = client_for(username)
    assert forms_on(text(browser.get(f"/cases/{case_id}"))) == []
    refused = post(browser, f"/cases/{case_id}/action-items/{police}/withdraw", {"reason": REASON},
                   token_from=f"/cases/{case_id}")
    assert refused.status_code == 403
    assert item_row(app, police).state == "open"


def test_the_api_lists_and_withdraws(app, recorded):
    case_id, (mechanism, police, procuratorate) = recorded
    handler, liaison = ApiClient(app, "samr_handler"), ApiClient(app, "samr_liaison")

    listed = handler.get(f"/cases/{case_id}/action-items")
    assert listed.status_code == 200
    rows = listed.get_json()
    assert [(r["id"], r["kind"], r["agency"], r["state"], r["withdrawable"]) for r in rows] == [
        (mechanism, "mechanism", "samr", "done", False), (police, "task", "police", "open", True),
        (procuratorate, "task", "procuratorate", "open", True)]
    assert rows[1]["deadline"] == "5wd" and rows[1]["created_by"] == "samr_handler" and rows[1]["closed_by"] is None

    withdrawn = liaison.post(f"/cases/{case_id}/action-items/{police}/withdraw", json={"reason": f" {REASON} "})
    assert withdrawn.status_code == 200, withdrawn.get_json()
    body = withdrawn.get_json()
    assert (body["state"], body["note"], body["closed_by"], body["withdrawable"]) == (
        "withdrawn", REASON, "samr_liaison", False)
    assert [r["state"] for r in handler.get(f"/cases/{case_id}/action-items").get_json()] == [
        "done", "withdrawn", "open"]

    again = liaison.post(f"/cases/{case_id}/action-items/{police}/withdraw", json={"reason": REASON})
    assert again.status_code == 409 and "already withdrawn" in again.get_json()["detail"]
    mechanism_item = liaison.post(f"/cases/{case_id}/action-items/{mechanism}/withdraw", json={"reason": REASON})
    assert mechanism_item.status_code == 409


@pytest.mark.parametrize(("body", "status"), [
    ({}, 422), ({"reason": ""}, 422), ({"reason": "   "}, 422), ({"reason": "理" * 1001}, 422),
    ({"reason": REASON, "extra": 1}, 422), ({"reason": 5}, 422),
])
def test_the_api_names_the_field_of_bad_input(app, recorded, body, status):
    case_id, (_mechanism, police, _procuratorate) = recorded
    refused = ApiClient(app, "samr_handler").post(f"/cases/{case_id}/action-items/{police}/withdraw", json=body)
    assert refused.status_code == status, refused.get_json()
    problem = refused.get_json()
    assert "reason" in str(problem.get("errors", problem)) or "extra" in str(problem.get("errors", problem))
    assert item_row(app, police).state == "open"


def test_the_api_refuses_others_and_hides_what_they_may_not_see(app, recorded):
    case_id, (_mechanism, police, _procuratorate) = recorded
    police_liaison = ApiClient(app, "police_liaison")
    assert [r["withdrawable"] for r in police_liaison.get(f"/cases/{case_id}/action-items").get_json()] == [
        False, False, False]
    assert police_liaison.post(f"/cases/{case_id}/action-items/{police}/withdraw",
                               json={"reason": REASON}).status_code == 403
    # An overseer sees the case but not its content: no items, and none to withdraw.
    supervisor = ApiClient(app, "office_supervisor")
    assert supervisor.get(f"/cases/{case_id}/action-items").get_json() == []
    assert supervisor.post(f"/cases/{case_id}/action-items/{police}/withdraw", json={"reason": REASON}).status_code == 404
    assert police_liaison.get("/cases/999999/action-items").status_code == 404
    assert ApiClient(app, "court_liaison").get(f"/cases/{case_id}/action-items").status_code == 404


def test_the_openapi_document_lists_them(app, recorded):
    paths = app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    listed = paths["/api/v1/cases/{case_id}/action-items"]["get"]
    withdraw = paths["/api/v1/cases/{case_id}/action-items/{item_id}/withdraw"]["post"]
    assert "200" in listed["responses"] and "404" in listed["responses"]
    assert {"200", "403", "404", "409", "422"} <= set(withdraw["responses"])
    schema = withdraw["requestBody"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/WithdrawIn")
