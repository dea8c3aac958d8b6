"""The documents of the routes after a 不予立案 and of the procuratorate's opinions print: each
template renders the steps it is given, for a reader of the case."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from engine import create_case
from models import Agency, Document, HumanTask, User
from web.db import db

from .helpers import text

STEPS = {
    "reconsideration_request": {"acknowledge_decision": {"reconsideration_grounds": "鉴定意见证明损失已达50万元"}},
    "filing_supervision_proposal": {"acknowledge_decision": {"samr_request_reasons": "不予立案理由不成立"}},
    "returned_materials_receipt": {"return_materials": {"returned_items": "移送案卷｜1｜完好"},
                                   "check_returned_materials": {"return_discrepancies_found": True,
                                                                "return_discrepancies": "U盘实收1个"}},
    "correction_notice": {"issue_filing_order": {"order_reasons": "损失已达标准"},
                          "record_escalation": {"correction_opinion": "应当立即立案"}},
    "escalation_report": {"record_escalation": {"correction_opinion": "应当立即立案", "supervision_summary": "已纠正"}},
    "reverse_transfer_letter": {"propose_reverse_transfer": {"reverse_ground": "case_withdrawn", "reasons": "应予处罚",
                                                             "reverse_materials": "询问笔录｜3｜原件"}},
    "transfer_opinion": {"record_transfer_opinion": {"facts": "损失50万元未移送", "opinion": "应当移送"}},
    # The number the system gave the 立案决定书 is recorded on the decision; the notice quotes it.
    "filing_decision_record": {"decide_filing": {"filing_decision": "file", "filing_reasons": "损失已达标准",
                                                 "filing_number": "东公立字〔2026〕3号"}},
    "filing_notice": {"decide_filing": {"filing_decision": "file", "filing_reasons": "损失已达标准",
                                        "filing_number": "东公立字〔2026〕3号"}},
}
EXPECTED = {
    "reconsideration_request": ["提请复议", "鉴定意见证明损失已达50万元"],
    "filing_supervision_proposal": ["不经复议", "不予立案理由不成立"],
    "returned_materials_receipt": ["移送案卷", "U盘实收1个"],
    "correction_notice": ["纠正", "应当立即立案", "损失已达标准"],
    "escalation_report": ["上一级人民检察院", "已纠正"],
    "reverse_transfer_letter": ["立案侦查后已撤销案件", "询问笔录"],
    "transfer_opinion": ["应当移送", "损失50万元未移送"],
    "filing_decision_record": ["决定对某公司技术秘密案一案立案侦查", "损失已达标准"],
    "filing_notice": ["立案决定书文号：东公立字〔2026〕3号", "3日内"],
}


@pytest.mark.parametrize("kind", sorted(STEPS))
def test_the_document_prints(app, client_for, kind):
    with app.app_context():
        session = db.session
        handler = session.scalar(select(User).where(User.username == "samr_handler"))
        case = create_case(session, handler, "某公司技术秘密案")
        samr = session.scalar(select(Agency).where(Agency.code == "samr"))
        # Hung on the case's first task: what matters here is the template.
        task = session.scalar(select(HumanTask).where(HumanTask.case_id == case.id))
        document = Document(case_id=case.id, instance_id=task.instance_id, task_id=task.id, kind=kind, number="测〔2026〕1号",
                            issuing_agency_id=samr.id, recipient_agency_id=None,
                            content={"title": kind, "case": {"number": case.number, "title": case.title},
                                     "issuer": samr.name, "recipient": None, "copy_to": [],
                                     "issued_at": "2026-03-02T09:00:00+08:00", "signed_by": "甲",
                                     "steps": STEPS[kind]},
                            generated_at=datetime(2026, 3, 2, 1, tzinfo=timezone.utc), generated_by_id=handler.id)
        session.add(document)
        session.commit()
        document_id = document.id
    page = client_for("samr_handler").get(f"/documents/{document_id}")
    assert page.status_code == 200
    for words in EXPECTED[kind]:
        assert words in text(page), (kind, words)
