"""The procuratorate's documents (要求说明不立案理由通知书, 通知立案书, 检察意见书) print as official papers."""
from __future__ import annotations

from sqlalchemy import select

from engine import create_case, start_mechanism
from models import Document, User
from tests.engine.test_filing_supervision import join
from tests.helpers import act
from tests.workflows.test_filing_supervision_diagram import EXAMINE, EXPLAIN, FAIL, ORDER, RECEIVED, RELEASE
from tests.workflows.test_procuratorial_opinion_diagram import DRAFT
from web.db import db

from .helpers import login, text


def issue(app, key: str, steps: list[tuple[str, str, dict]]) -> dict[str, int]:
    """Start `key` as a prosecutor on a case the procuratorate takes part in, act the steps,
    and return the issued documents' ids by kind."""
    with db.new_session(app) as s:
        users = {u.username: u for u in s.scalars(select(User))}
        case = create_case(s, users["samr_handler"], "某公司技术秘密被侵犯案")
        join(s, case, "procuratorate")
        start_mechanism(s, users["procuratorate_handler"], case.id, key)
        for username, bpmn_id, data in steps:
            act(s, users[username], case.id, bpmn_id, data)
        return {d.kind: d.id for d in s.scalars(select(Document))}


def test_explain_request_and_filing_order_print_for_the_police(app, client):
    docs = issue(app, "filing_supervision", [
        ("procuratorate_handler", "examine_supervision", EXAMINE),
        ("procuratorate_liaison", "send_explain_request", RELEASE),
        ("police_liaison", "accept_explain_request", RECEIVED),
        ("police_handler", "explain_non_filing", EXPLAIN),
        ("police_liaison", "send_explanation", RELEASE),
        ("procuratorate_liaison", "receive_explanation", RECEIVED),
        ("procuratorate_handler", "assess_explanation", FAIL),
        ("procuratorate_head", "issue_filing_order", ORDER),
    ])
    login(client, "police_head")
    request = text(client.get(f"/documents/{docs['explain_request']}"))
    assert "要求说明不立案理由通知书" in request and "东检要说〔2026〕1号" in request
    assert "7日以内" in request and EXAMINE["questions"] in request
    order = text(client.get(f"/documents/{docs['filing_order']}"))
    assert "通知立案书" in order and "东检通立〔2026〕1号" in order
    assert ORDER["order_reasons"] in order and "15日以内" in order
    assert "聊城市公安局东昌府分局：" in order


def test_procuratorial_opinion_prints_for_samr(app, client):
    document_id = issue(app, "procuratorial_opinion", [
        ("procuratorate_handler", "record_non_prosecution", DRAFT),
        ("procuratorate_head", "approve_procuratorial_opinion", {"opinion_approved": True}),
    ])["procuratorial_opinion"]
    login(client, "samr_handler")
    page = text(client.get(f"/documents/{document_id}"))
    assert "检察意见书" in page and "东检检意〔2026〕1号" in page
    assert DRAFT["opinion"] in page and DRAFT["non_prosecution_number"] in page and "2个月内" in page
