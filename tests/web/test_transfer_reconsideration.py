"""立案协助's reconsideration-then-supervision path played through the web pages by the demo users,
each in their own browser, with the documents printed on the way, until SAMR's request for filing
supervision waits in the prosecutor's inbox."""
from __future__ import annotations

import re

from sqlalchemy import select

from models import Document, Message
from web.db import db

from .helpers import FACTS, claim_and_complete, create_case, open_task, text

RECEIPT = {"received": "true", "receipt_outcome": "accepted", "missing_materials": "", "forwarded_to": ""}
STEPS = [
    ("samr_handler", "register_facts", FACTS),
    ("samr_head", "decide_transfer", {"transfer_approved": "true", "administrative_penalty": "false"}),
    ("samr_liaison", "approve_outgoing_handoff", {"handoff_approved": "true", "comment": ""}),
    ("police_liaison", "accept_receipt", RECEIPT),
    ("police_head", "extend_review", {"review_period": "10d", "extension_reasons": "需调取银行流水"}),
    ("police_handler", "review_case", {"recommendation": "not_file", "opinion": "损失计算依据不足。"}),
    ("police_head", "decide_filing", {"filing_decision": "not_file", "filing_reasons": "损失数额计算依据不足"}),
    ("police_liaison", "approve_filing_notice_handoff", {"released": "true"}),
    ("samr_liaison", "accept_filing_notice", {"received": "true"}),
    ("samr_handler", "acknowledge_decision", {"acknowledged": "true", "request_reconsideration": "true",
                                              "reconsideration_grounds": "司法鉴定意见证明损失达50万元",
                                              "request_supervision": "false"}),
    ("samr_liaison", "approve_reconsideration_handoff", {"released": "true"}),
    ("police_liaison", "accept_reconsideration_request", {"received": "true"}),
    ("police_head", "decide_reconsideration", {"reconsideration_outcome": "upheld",
                                               "reconsideration_reasons": "鉴定意见不能证明实际损失"}),
    ("police_liaison", "approve_reconsideration_decision_handoff", {"released": "true"}),
    ("samr_liaison", "accept_reconsideration_decision", {"received": "true"}),
    ("samr_handler", "consider_supervision", {"request_supervision": "true",
                                              "samr_request_reasons": "不予立案理由不能成立"}),
    ("samr_liaison", "approve_supervision_handoff", {"released": "true"}),
]


def test_reconsideration_then_supervision_through_the_pages(app, client_for, runner):
    browsers = {username: client_for(username) for username in {step[0] for step in STEPS}}
    case_id = create_case(browsers["samr_handler"], title="某精密机械公司技术秘密被侵犯案")
    for username, bpmn_id, data in STEPS:
        task = open_task(app, case_id, bpmn_id)
        assert f'href="/tasks/{task.id}"' in text(browsers[username].get("/")), (username, bpmn_id)
        response = claim_and_complete(browsers[username], task.id, data)
        assert response.status_code == 303, (bpmn_id, text(response))
        assert runner.invoke(args=["worker", "--once"]).exit_code == 0

    with db.new_session(app) as s:
        [sent] = s.scalars(select(Message).where(Message.case_id == case_id,
                                                 Message.name == "filing_supervision_requested"))
        assert sent.payload == {"supervision_trigger": "samr_request", "non_filing_reasons": "鉴定意见不能证明实际损失",
                                "samr_request_reasons": "不予立案理由不能成立"}
        assert sent.status == "delivered", "the worker started the procuratorate's filing supervision"
        documents = {d.kind: d.id for d in s.scalars(select(Document).where(Document.case_id == case_id))}
    assert set(documents) == {"transfer_letter", "receipt", "non_filing_notice", "reconsideration_request",
                              "reconsideration_decision", "filing_supervision_proposal"}

    samr = browsers["samr_handler"]
    case_page = text(samr.get(f"/cases/{case_id}"))
    for document_id in documents.values():
        assert f"/documents/{document_id}" in case_page
    letter = text(samr.get(f"/documents/{documents['transfer_letter']}"))
    assert "涉嫌犯罪案件移送书" in letter and re.search(r"抄送：[^<]*人民检察院", letter)
    receipt = text(samr.get(f"/documents/{documents['receipt']}"))
    assert "接受移送案件回执" in receipt and "3日内作出立案或者不予立案的决定" in receipt
    decision = text(samr.get(f"/documents/{documents['reconsideration_decision']}"))
    assert "决定维持原不予立案决定" in decision and "鉴定意见不能证明实际损失" in decision
    assert "建议人民检察院依法进行立案监督" in decision
    request = text(samr.get(f"/documents/{documents['reconsideration_request']}"))
    assert "提请复议书" in request and "司法鉴定意见证明损失达50万元" in request
    proposal = text(samr.get(f"/documents/{documents['filing_supervision_proposal']}"))
    assert "立案监督建议书" in proposal and "公安机关维持原决定" in proposal and "不予立案理由不能成立" in proposal
    assert FACTS["summary"] not in text(browsers["police_head"].get(f"/documents/{documents['receipt']}"))

    # The prosecutor logs in and finds SAMR's request waiting in the inbox, with its reasons.
    prosecutor = client_for("procuratorate_handler")
    examine = open_task(app, case_id, "examine_supervision")
    assert examine.lane == "procuratorate.handler"
    assert f'href="/tasks/{examine.id}"' in text(prosecutor.get("/"))
    page = text(prosecutor.get(f"/tasks/{examine.id}"))
    assert "不予立案理由不能成立" in page and "鉴定意见不能证明实际损失" in page
    assert f'href="/tasks/{examine.id}"' not in text(browsers["samr_handler"].get("/")), "SAMR only waits"


def test_supplement_request_and_handover_list_print(app, client_for):
    from models import User
    from tests.helpers import FILE, NO_DISCREPANCY, act, hand_over, police_decide, transferred
    from tests.helpers import RECEIPT as FULL_RECEIPT

    with db.new_session(app) as s:
        users = {u.username: u for u in s.scalars(select(User))}
        case = transferred(s, users)
        act(s, users["police_liaison"], case.id, "accept_receipt",
            {**FULL_RECEIPT, "receipt_outcome": "incomplete", "missing_materials": "鉴定机构资质证明"})
        act(s, users["samr_liaison"], case.id, "accept_supplement_request", {"received": True})
        act(s, users["samr_handler"], case.id, "supply_supplement", {"supplied_materials": "资质证书复印件"})
        act(s, users["samr_liaison"], case.id, "approve_supplement_handoff", {"released": True})
        police_decide(s, users, case.id, FILE)
        hand_over(s, users, case.id, {**NO_DISCREPANCY, "discrepancies_found": True, "discrepancies": "U盘实收1个"})
        documents = {d.kind: d.id for d in s.scalars(select(Document).where(Document.case_id == case.id))}
    samr = client_for("samr_handler")
    request = text(samr.get(f"/documents/{documents['supplement_request']}"))
    assert "补充材料通知书" in request and "鉴定机构资质证明" in request
    listing = text(samr.get(f"/documents/{documents['handover_list']}"))
    assert "涉案物品交接单" in listing
    assert re.search(r"<td>1</td><td>涉案U盘</td><td>2</td>\s*<td>封存完好</td>", listing)
    assert "<td>2</td><td>配方打印件</td><td>15</td>" in listing and "核对差异：U盘实收1个" in listing
    police = client_for("police_handler")
    assert police.get(f"/documents/{documents['handover_list']}").status_code == 200
