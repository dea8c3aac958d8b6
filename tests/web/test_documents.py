"""Issued documents are listed on the case page and print as official papers."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from engine import create_case
from engine.bootstrap import deploy_folder
from engine.casework.cases import start_mechanism
from models import Document, User
from tests.helpers import act, event_types
from web.db import db

from .helpers import login

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn"


def issue(app, choice: str, title: str = "某公司配方案") -> tuple[int, int]:
    with db.new_session(app) as s:
        deploy_folder(s, FIXTURES)
        handler = s.scalars(select(User).where(User.username == "samr_handler")).one()
        case = create_case(s, handler, title)
        start_mechanism(s, handler, case.id, "document_issue")
        act(s, handler, case.id, "decide", {"choice": choice, "reasons": "没有犯罪事实"})
        return case.id, s.scalars(select(Document.id)).one()


def test_case_page_lists_the_document_and_the_page_prints_it(app, client):
    case_id, document_id = issue(app, "not_file")
    login(client, "samr_handler")
    case_page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "东公不立〔2026〕1号" in case_page and f"/documents/{document_id}" in case_page
    page = client.get(f"/documents/{document_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "不予立案通知书" in html and "东公不立〔2026〕1号" in html
    assert "不予立案的理由：没有犯罪事实" in html
    assert "2026年3月2日" in html  # the test clock's day, written as on official papers
    assert "<script>" not in html.replace('<script src="/static/print.js"></script>', "")
    with db.new_session(app) as s:
        assert event_types(s, case_id)[-1] == "document_viewed"


def test_document_title_is_escaped(app, client):
    _, document_id = issue(app, "file", title="<script>alert(1)</script>")
    login(client, "samr_handler")
    html = client.get(f"/documents/{document_id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html


def test_an_agency_outside_the_case_gets_404(app, client):
    _, document_id = issue(app, "file")
    login(client, "court_handler")
    assert client.get(f"/documents/{document_id}").status_code == 404
