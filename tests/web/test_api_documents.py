"""Documents through the API: the case's list, one document's content and its printable page,
under the same policy and with the same `document_viewed` record as the pages."""
from __future__ import annotations

from sqlalchemy import select

from models import AuditEvent
from tests.web.test_api import api, assert_problem  # noqa: F401 - the api fixture
from web.db import db

from .test_documents import issue


def viewed(app, case_id: int) -> list[dict]:
    with db.new_session(app) as session:
        return [e.detail for e in session.scalars(
            select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.event_type == "document_viewed")
            .order_by(AuditEvent.seq))]


def test_a_document_is_listed_read_and_printed(app, api):
    case_id, document_id = issue(app, "not_file", "配方泄露案")
    handler = api("samr_handler")
    listed = handler.get(f"/cases/{case_id}/documents")
    assert listed.status_code == 200, listed.get_data(as_text=True)
    [notice] = listed.get_json()
    assert (notice["id"], notice["kind"], notice["title"]) == (document_id, "non_filing_notice", "不予立案通知书")
    assert (notice["number"], notice["issuing_agency"], notice["recipient_agency"]) == (
        "东公不立〔2026〕1号", "police", "samr")
    assert notice["generated_by"] == "samr_handler" and notice["task_id"] is not None
    assert viewed(app, case_id) == [], "listing numbers and titles is not a reading"

    shown = handler.get(f"/documents/{document_id}")
    assert shown.status_code == 200
    assert shown.get_json()["content"]["steps"]["decide"]["reasons"] == "没有犯罪事实"

    printed = handler.get(notice["print_url"].removeprefix("/api/v1"))
    assert printed.status_code == 200 and printed.mimetype == "text/html"
    page = printed.get_data(as_text=True)
    assert "东公不立〔2026〕1号" in page and "不予立案的理由：没有犯罪事实" in page and "配方泄露案" in page
    assert [d["number"] for d in viewed(app, case_id)] == ["东公不立〔2026〕1号"] * 2


def test_a_script_in_the_case_title_prints_as_text(app, api):
    _case_id, document_id = issue(app, "not_file", "<script>alert(1)</script>")
    page = api("samr_handler").get(f"/documents/{document_id}/print").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page


def test_outsiders_get_404_for_the_list_and_each_document(app, api):
    case_id, document_id = issue(app, "not_file")
    court = api("court_handler")
    assert_problem(court.get(f"/cases/{case_id}/documents"), 404, "not-found")
    assert_problem(court.get(f"/documents/{document_id}"), 404, "not-found")
    assert_problem(court.get(f"/documents/{document_id}/print"), 404, "not-found")
    assert_problem(api("samr_handler").get("/documents/999999"), 404, "not-found")
    assert viewed(app, case_id) == []


def test_documents_are_in_the_openapi_spec(app):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    assert {"/api/v1/cases/{case_id}/documents", "/api/v1/documents/{document_id}",
            "/api/v1/documents/{document_id}/print"} <= set(spec["paths"])
