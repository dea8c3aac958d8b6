"""Results after filing on the case page and through the API: the police's form records the
investigation with its measures, the procuratorate and the court follow, SAMR is notified, the
register shows the latest stage; bad input comes back field by field (page 422, problem+json
422), forbidden stages 403, a missing earlier stage or a running mechanism 409 naming it.
"""
from __future__ import annotations

from sqlalchemy import select

from models import User
from tests.helpers import FILE, police_decide, transferred
from web.db import db

from .api_helpers import ApiClient
from .helpers import post, text


def filed_case(app) -> int:
    with db.new_session(app) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        case = transferred(session, users, "甲公司配方被盗案")
        police_decide(session, users, case.id, FILE)
        return case.id


INVESTIGATION_FORM = {
    "outcome": "prosecution_recommended", "decided_on": "2026-03-02", "persons": "2", "document_number": "东公诉〔2026〕1号",
    "summary": "犯罪事实清楚", "measure_kind_0": "detention", "measure_date_0": "2026-03-02", "measure_persons_0": "2",
}


def test_police_record_the_investigation_on_the_case_page(app, client_for):
    case_id = filed_case(app)
    police = client_for("police_handler")
    page = text(police.get(f"/cases/{case_id}"))
    assert "立案后办理结果" in page and 'id="result-investigation"' in page
    assert 'id="result-prosecution"' not in page and 'id="result-judgment"' not in page

    refused = post(police, f"/cases/{case_id}/results/investigation",
                   {**INVESTIGATION_FORM, "decided_on": "2026-03-09", "summary": "", "measure_persons_0": "0"},
                   token_from=f"/cases/{case_id}")
    assert refused.status_code == 422
    body = text(refused)
    assert "日期不能晚于今天" in body and "此项为必填项" in body and "数字超出范围" in body
    assert 'value="2026-03-09"' in body  # what was typed stays

    done = post(police, f"/cases/{case_id}/results/investigation", INVESTIGATION_FORM, token_from=f"/cases/{case_id}")
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/cases/{case_id}#results")
    page = text(police.get(f"/cases/{case_id}"))
    assert "移送审查起诉" in page and "刑事拘留 2026-03-02 × 2" in page

    samr = client_for("samr_liaison")
    notices = text(samr.get("/notifications"))
    assert "登记了立案后的办理结果" in notices
    # The procuratorate, now a party, records its decision; the court cannot yet.
    assert 'id="result-prosecution"' in text(client_for("procuratorate_handler").get(f"/cases/{case_id}"))
    assert 'id="result-judgment"' not in text(client_for("procuratorate_handler").get(f"/cases/{case_id}"))
    court = client_for("court_handler")
    assert court.get(f"/cases/{case_id}").status_code == 404
    # SAMR sees the results but has no form to record them.
    samr_page = text(client_for("samr_handler").get(f"/cases/{case_id}"))
    assert "移送审查起诉" in samr_page and 'class="narrow result-form"' not in samr_page
    # An overseer sees no results (case content).
    assert "立案后办理结果" not in text(client_for("office_supervisor").get(f"/cases/{case_id}"))


def test_close_refused_while_mechanisms_run(app, client_for):
    case_id = filed_case(app)
    samr = client_for("samr_head")
    refused = post(samr, f"/cases/{case_id}/close", {"reason": "办结"}, token_from=f"/cases/{case_id}")
    assert refused.status_code == 409
    assert "立案协助" in text(refused) and "尚有机制在运行" in text(refused)
    api = ApiClient(app, "samr_head")
    problem = api.post(f"/cases/{case_id}/close", json={"reason": "办结"})
    assert problem.status_code == 409 and "case_transfer" in problem.get_json()["detail"]
    assert api.post(f"/cases/{case_id}/close", json={"reason": " "}).status_code == 422
    assert ApiClient(app, "police_head").post(f"/cases/{case_id}/close", json={"reason": "x"}).status_code == 403


def test_api_records_every_stage_in_order(app):
    case_id = filed_case(app)
    police, procuratorate, court = (ApiClient(app, u) for u in ("police_handler", "procuratorate_handler",
                                                                  "court_handler"))
    early = procuratorate.post(f"/cases/{case_id}/results/prosecution",
                               json={"outcome": "prosecuted", "decided_on": "2026-03-02", "persons": 1, "summary": "x"})
    # Not a party yet (404), or copied on the transfer as an observer but with nothing sent to it (409).
    assert early.status_code in (404, 409)
    bad = police.post(f"/cases/{case_id}/results/investigation", json={
        "outcome": "prosecution_recommended", "decided_on": "2026-03-02", "persons": 10000, "summary": "x",
        "measures": [{"kind": "torture", "ordered_on": "2026-03-02", "persons": 1}], "extra": 1})
    assert bad.status_code == 422
    assert {"persons", "measures.0.kind", "extra"} <= set(bad.get_json()["errors"])
    wrong_outcome = police.post(f"/cases/{case_id}/results/investigation", json={
        "outcome": "prosecuted", "decided_on": "2026-03-02", "persons": 1, "summary": "x"})
    assert wrong_outcome.status_code == 422 and "outcome" in wrong_outcome.get_json()["errors"]
    created = police.post(f"/cases/{case_id}/results/investigation", json={
        "outcome": "prosecution_recommended", "decided_on": "2026-03-02", "persons": 2, "summary": "移送审查起诉",
        "measures": [{"kind": "arrest", "ordered_on": "2026-03-02", "persons": 2}]})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["measures"] == [{"kind": "arrest", "ordered_on": "2026-03-02", "persons": 2}]
    assert court.post(f"/cases/{case_id}/results/judgment", json={
        "outcome": "convicted", "decided_on": "2026-03-02", "persons": 2, "summary": "x"}).status_code == 404
    assert police.post(f"/cases/{case_id}/results/prosecution", json={
        "outcome": "prosecuted", "decided_on": "2026-03-02", "persons": 2, "summary": "x"}).status_code == 403
    assert procuratorate.post(f"/cases/{case_id}/results/prosecution", json={
        "outcome": "prosecuted", "decided_on": "2026-03-02", "persons": 2, "summary": "提起公诉"}).status_code == 201
    judged = court.post(f"/cases/{case_id}/results/judgment", json={
        "outcome": "convicted", "decided_on": "2026-03-02", "persons": 2, "summary": "有期徒刑", "compensation": 300000})
    assert judged.status_code == 201 and judged.get_json()["agency"] == "court"
    read = ApiClient(app, "samr_handler").get(f"/cases/{case_id}/results").get_json()
    assert [r["stage"] for r in read["results"]] == ["investigation", "prosecution", "judgment"]
    assert read["latest_stage"] == "judgment" and read["closure"] is None
    rows = ApiClient(app, "samr_handler").get("/register?per_page=100").get_json()["items"]
    assert {r["result_stage"] for r in rows if r["case"]["id"] == case_id} == {"judgment"}
    assert police.post(f"/cases/{case_id}/results/appeal", json={}).status_code == 404


def test_closing_once_every_mechanism_ended(app, client_for):
    from tests.helpers import hand_over

    case_id = filed_case(app)
    with db.new_session(app) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        hand_over(session, users, case_id)
    samr = client_for("samr_head")
    done = post(samr, f"/cases/{case_id}/close", {"reason": "刑事部分已判决，案件办结"}, token_from=f"/cases/{case_id}")
    assert done.status_code == 303
    page = text(samr.get(f"/cases/{case_id}"))
    assert "已办结" in page and "刑事部分已判决，案件办结" in page and "办结案件" not in page
    police = text(client_for("police_handler").get(f"/cases/{case_id}"))
    assert 'id="result-investigation"' not in police  # a closed case takes no further results
    closure = ApiClient(app, "samr_handler").get(f"/cases/{case_id}/results").get_json()["closure"]
    assert closure["closed_by"] == "samr_head" and closure["reason"] == "刑事部分已判决，案件办结"
