"""Rights holders and their notices on the case page and through the API: recording and correcting a
holder, the notices owed with their state and due time, generating one, recording its delivery, and
clear 4xx answers for bad input and for users who may not."""
from __future__ import annotations

from sqlalchemy import select

import engine
from models import RightsHolder, User
from tests.helpers import act
from tests.web.api_helpers import ApiClient
from tests.web.helpers import claim_and_complete, field_html, open_task, post, text
from web.db import db

HOLDER = {"name": "某精密机械有限公司", "kind": "company", "contact": "0635-1234567", "representative": "刘某",
          "agent": ""}
COMPLAINT = {
    "complainant": "某精密机械有限公司", "complainant_contact": "0635-1234567", "received_on": "2026-03-02",
    "suspected_infringer": "某新材料有限公司", "secret_described": "工艺参数表（绝密）", "evidence_offered": "保密协议。",
}
PROBLEM = "application/problem+json"


def decided_complaint(app) -> tuple[int, int]:
    """A complaint case SAMR decided not to file: (case id, id of the head's decision task)."""
    with db.new_session(app) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        case = engine.create_case(session, users["samr_handler"], "某精密机械公司投诉案", mechanism="rights_protection")
        act(session, users["samr_handler"], case.id, "register_complaint", COMPLAINT)
        act(session, users["samr_handler"], case.id, "verify_complaint",
            {"verification_outcome": "not_file", "opinion": "不属于。"})
        task = act(session, users["samr_head"], case.id, "decide_filing",
                   {"filing_decided": "not_file", "channels": [], "reasons": "证据不足。"})
        return case.id, task.id


def test_the_case_page_records_holders_and_delivers_their_notice(app, client_for, clock):
    case_id, decision_id = decided_complaint(app)
    handler = client_for("samr_handler")
    page = text(handler.get(f"/cases/{case_id}"))
    assert 'id="rights-holders"' in page and f"/cases/{case_id}/rights-holders/new" in page
    assert 'data-kind="complaint_decision_notice"' in page and 'class="notice-owed' in page

    form = f"/cases/{case_id}/rights-holders/new"
    refused = post(handler, form, {"name": "  ", "kind": "club", "contact": "x" * 301}, token_from=form)
    assert refused.status_code == 422
    assert "class=\"error\"" in field_html(text(refused), "name")
    assert "class=\"error\"" in field_html(text(refused), "kind")
    assert "class=\"error\"" in field_html(text(refused), "contact")
    assert post(handler, form, HOLDER, token_from=form).status_code == 303
    page = text(handler.get(f"/cases/{case_id}"))
    assert "某精密机械有限公司" in page and "刘某" in page
    with db.new_session(app) as session:
        holder_id = session.scalar(select(RightsHolder.id).where(RightsHolder.case_id == case_id))
    edit = f"/rights-holders/{holder_id}/edit"
    assert handler.get(edit).status_code == 200
    assert post(handler, edit, {**HOLDER, "contact": "0635-7654321"}, token_from=edit).status_code == 303
    assert "0635-7654321" in text(handler.get(f"/cases/{case_id}"))

    # Others: the police take no part (404); the supervisor sees the case, not its holders.
    police = client_for("police_handler")
    assert police.get(form).status_code == 404
    assert police.get(edit).status_code == 404
    supervisor_page = text(client_for("office_supervisor").get(f"/cases/{case_id}"))
    assert "某精密机械有限公司" not in supervisor_page and 'id="rights-holders"' not in supervisor_page
    # The head reads the holders but may not record one.
    head = client_for("samr_head")
    assert "某精密机械有限公司" in text(head.get(f"/cases/{case_id}"))
    assert head.get(form).status_code == 200
    assert post(head, form, HOLDER, token_from=form).status_code == 403

    generated = post(handler, f"/cases/{case_id}/holder-notices", {"task_id": str(decision_id)},
                     token_from=f"/cases/{case_id}")
    assert generated.status_code == 303
    assert post(handler, f"/cases/{case_id}/holder-notices", {"task_id": str(decision_id)},
                token_from=f"/cases/{case_id}").status_code == 409
    assert post(handler, f"/cases/{case_id}/holder-notices", {"task_id": "x"},
                token_from=f"/cases/{case_id}").status_code == 404
    page = text(handler.get(f"/cases/{case_id}"))
    assert 'class="notice-generated' in page
    with db.new_session(app) as session:
        user = session.scalar(select(User).where(User.username == "samr_handler"))
        [notice] = engine.holder_notices(session, user, case_id)
        document_id = notice.document.id
    document = text(handler.get(f"/documents/{document_id}"))
    assert "某精密机械有限公司：" in document and "决定不予立案" in document and "证据不足" in document

    clock.advance(hours=2)
    delivery = f"/holder-notices/{document_id}/deliveries/new"
    assert handler.get(delivery).status_code == 200
    bad = post(handler, delivery, {"method": "pigeon", "delivered_at": "2026-03-20T10:00", "delivered_by": "",
                                   "recipient": "张经理", "holder_id": "999999"}, token_from=delivery)
    assert bad.status_code == 422
    for name in ("method", "delivered_at", "delivered_by", "holder_id"):
        assert "class=\"error\"" in field_html(text(bad), name), name
    good = post(handler, delivery, {"method": "post", "delivered_at": "2026-03-02T10:30", "delivered_by": "赵联络员",
                                    "recipient": "张经理", "holder_id": str(holder_id), "note": "EMS"},
                token_from=delivery)
    assert good.status_code == 303
    page = text(handler.get(f"/cases/{case_id}"))
    assert 'class="notice-delivered' in page and "张经理" in page
    assert police.get(delivery).status_code == 404


def test_the_api_records_holders_notices_and_deliveries(app, clock):
    case_id, decision_id = decided_complaint(app)
    handler, head, police = ApiClient(app, "samr_handler"), ApiClient(app, "samr_head"), ApiClient(app, "police_handler")
    holders = f"/cases/{case_id}/rights-holders"

    bad = handler.post(holders, {"name": " ", "kind": "club", "contact": "x" * 301, "extra": 1})
    assert bad.status_code == 422 and bad.mimetype == PROBLEM
    assert set(bad.get_json()["errors"]) == {"name", "kind", "contact", "extra"}
    assert handler.post(holders, {"kind": "company"}).status_code == 422
    assert head.post(holders, HOLDER).status_code == 403
    assert police.post(holders, HOLDER).status_code == 404
    created = handler.post(holders, HOLDER)
    assert created.status_code == 201, created.get_json()
    holder = created.get_json()
    assert (holder["name"], holder["kind"], holder["created_by"]) == ("某精密机械有限公司", "company", "samr_handler")
    assert [h["id"] for h in handler.get(holders).get_json()] == [holder["id"]]
    assert police.get(holders).status_code == 404
    changed = handler.client.put(f"/api/v1/rights-holders/{holder['id']}", headers=handler.headers,
                                 json={**HOLDER, "agent": "陈律师"})
    assert changed.status_code == 200 and changed.get_json()["agent"] == "陈律师"
    assert handler.client.put(f"/api/v1/rights-holders/{holder['id']}", headers=handler.headers,
                              json={**HOLDER, "kind": "x"}).status_code == 422
    assert police.get(f"/rights-holders/{holder['id']}").status_code == 404

    notices = f"/cases/{case_id}/holder-notices"
    [owed] = handler.get(notices).get_json()
    assert (owed["kind"], owed["state"], owed["task_id"], owed["document"], owed["can_generate"]) == (
        "complaint_decision_notice", "owed", decision_id, None, True)
    assert owed["due_at"].startswith("2026-03-09T15:59:59")
    assert handler.post(notices, {"task_id": "x"}).status_code == 422
    assert handler.post(notices, {}).status_code == 422
    assert head.post(notices, {"task_id": decision_id}).status_code == 201
    assert handler.post(notices, {"task_id": decision_id}).status_code == 409
    [generated] = handler.get(notices).get_json()
    document_id = generated["document"]["id"]
    assert generated["state"] == "generated"

    deliveries = f"/holder-notices/{document_id}/deliveries"
    clock.advance(hours=2)
    naive = handler.post(deliveries, {"method": "post", "delivered_at": "2026-03-02T10:00:00", "delivered_by": "赵",
                                      "recipient": "张经理"})
    assert naive.status_code == 422 and "delivered_at" in naive.get_json()["errors"]
    future = handler.post(deliveries, {"method": "email", "delivered_at": "2026-03-20T10:00:00+08:00",
                                       "delivered_by": "赵", "recipient": "张经理"})
    assert future.status_code == 422 and list(future.get_json()["errors"]) == ["delivered_at"]
    assert handler.post(deliveries, {"method": "fax", "delivered_at": "2026-03-02T10:00:00+08:00",
                                     "delivered_by": "赵", "recipient": "张经理"}).status_code == 422
    assert police.post(deliveries, {"method": "post", "delivered_at": "2026-03-02T10:00:00+08:00",
                                    "delivered_by": "赵", "recipient": "张经理"}).status_code == 404
    recorded = handler.post(deliveries, {"method": "post", "delivered_at": "2026-03-02T10:00:00+08:00",
                                         "delivered_by": "赵联络员", "recipient": "张经理", "holder_id": holder["id"]})
    assert recorded.status_code == 201, recorded.get_json()
    assert recorded.get_json()["recorded_by"] == "samr_handler"
    assert [d["id"] for d in handler.get(deliveries).get_json()] == [recorded.get_json()["id"]]
    [delivered] = handler.get(notices).get_json()
    assert (delivered["state"], delivered["overdue"]) == ("delivered", False)
    assert police.get(notices).status_code == 404
    assert handler.get("/holder-notices/99999/deliveries").status_code == 404


def test_the_police_register_a_holders_report_on_the_task_page(app, client_for):
    """The holder is chosen from the case's recorded holders; the head's 不予立案 issues the notice."""
    from tests.helpers import RECEIPT, transferred

    with db.new_session(app) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        case = transferred(session, users)
        holder = engine.add_rights_holder(session, users["samr_handler"], case.id, HOLDER)
        act(session, users["police_liaison"], case.id, "accept_receipt", RECEIPT)
        case_id, holder_id = case.id, holder.id
    police = client_for("police_handler")
    started = post(police, f"/cases/{case_id}/mechanisms", {"key": "rights_holder_remedies"},
                   token_from=f"/cases/{case_id}")
    assert started.status_code == 303
    task = open_task(app, case_id, "register_holder_report")
    assert post(police, f"/tasks/{task.id}/claim", token_from=f"/tasks/{task.id}").status_code == 303
    page = text(police.get(f"/tasks/{task.id}"))
    assert f'value="{holder_id}"' in page and "某精密机械有限公司" in page
    done = post(police, f"/tasks/{task.id}/complete", {"holder_id": str(holder_id), "received_on": "2026-03-02",
                                                       "report_kind": "accusation", "summary": "控告事实"},
                token_from=f"/tasks/{task.id}")
    assert done.status_code == 303, text(done)
    head = client_for("police_head")
    decide = open_task(app, case_id, "decide_holder_report")
    assert claim_and_complete(head, decide.id, {"report_decision": "not_file",
                                                "reasons": "没有犯罪事实。"}).status_code == 303
    page = text(police.get(f"/cases/{case_id}"))
    assert 'data-kind="holder_non_filing_notice"' in page and 'class="notice-generated' in page
