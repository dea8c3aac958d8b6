"""案情会商 played through the pages (started from the case page, each person in their own browser),
and the document 维权联动 sends the court."""
from __future__ import annotations

import re

from sqlalchemy import select

from .helpers import claim_and_complete, create_case, field_html, open_task, post, text

PROPOSAL = {
    "topic": "技术秘密定性问题", "questions": "涉案信息是否构成商业秘密？", "materials": "调查报告摘要。",
    "invited_agencies": ["police", "procuratorate"], "reply_deadline": "5wd",
}


def test_a_consultation_through_the_pages(app, client_for):
    handler, liaison = client_for("samr_handler"), client_for("samr_liaison")
    case_id = create_case(handler, title="某科技公司技术秘密被侵犯案")
    page = text(handler.get(f"/cases/{case_id}"))
    assert f'action="/cases/{case_id}/mechanisms"' in page
    assert '<option value="consultation">案情会商</option>' in page
    # A liaison may not convene: no control on the page, and the engine refuses the POST.
    assert "/mechanisms" not in text(liaison.get(f"/cases/{case_id}"))
    refused = post(liaison, f"/cases/{case_id}/mechanisms", {"key": "consultation"}, token_from=f"/cases/{case_id}")
    assert refused.status_code == 403

    started = post(handler, f"/cases/{case_id}/mechanisms", {"key": "consultation"}, token_from=f"/cases/{case_id}")
    assert started.status_code == 303 and started.headers["Location"].endswith(f"/cases/{case_id}")
    assert "已启动：案情会商" in text(handler.get(f"/cases/{case_id}"))

    propose = open_task(app, case_id, "propose_consultation")
    assert post(handler, f"/tasks/{propose.id}/claim", token_from=f"/tasks/{propose.id}").status_code == 303
    form = text(handler.get(f"/tasks/{propose.id}"))
    boxes = field_html(form, "invited_agencies")
    assert boxes.count('type="checkbox" name="invited_agencies"') == 4 and "区公安分局" in boxes
    assert re.search(r'value="3wd" checked', field_html(form, "reply_deadline")), "3 working days by default"
    # No agency ticked: the form comes back with the error next to the field and the answers kept.
    empty = post(handler, f"/tasks/{propose.id}/complete", {**PROPOSAL, "invited_agencies": []},
                 token_from=f"/tasks/{propose.id}")
    assert empty.status_code == 422
    assert "此项不能为空" in field_html(text(empty), "invited_agencies")
    assert "技术秘密定性问题" in text(empty)
    done = post(handler, f"/tasks/{propose.id}/complete", PROPOSAL, token_from=f"/tasks/{propose.id}")
    assert done.status_code == 303, text(done)

    steps = [
        ("samr_liaison", "approve_consultation", {"handoff_approved": "true", "comment": ""}),
        ("police_liaison", "answer_consultation", {"opinion": "公安机关意见：涉嫌犯罪。"}),
        ("procuratorate_liaison", "answer_consultation", {"opinion": "检察机关意见：同意移送。"}),
        ("samr_handler", "record_minutes", {
            "held_on": "2026-03-06", "participants": "市场监管、公安、检察", "minutes": "会议记录。",
            "conclusion": "移送公安机关。", "action_items": "", "request_transfer": "false"}),
    ]
    for username, bpmn_id, data in steps:
        browser = client_for(username)
        task = open_task(app, case_id, bpmn_id) if bpmn_id != "answer_consultation" else _answer_of(app, case_id, username)
        assert f'<a href="/tasks/{task.id}">' in text(browser.get("/")), (username, bpmn_id)
        response = claim_and_complete(browser, task.id, data)
        assert response.status_code == 303, (bpmn_id, text(response))

    page = text(handler.get(f"/cases/{case_id}"))
    assert re.search(r'<tr class="instance-completed">\s*<td>\d+</td><td>案情会商</td>', page)
    for title in ("案情会商函", "案情会商书面意见", "案情会商纪要"):
        assert title in page
    # The invited agencies read the questions and the minutes in the documents, not in messages.
    police = client_for("police_liaison")
    police_page = text(police.get(f"/cases/{case_id}"))
    links = dict(re.findall(r'<a href="(/documents/\d+)">[^<]*</a></td>\s*<td>([^<]+)</td>', police_page))
    letter = text(police.get(next(href for href, title in links.items() if title == "案情会商函")))
    assert "涉案信息是否构成商业秘密？" in letter and "5个工作日内书面答复" in letter and "区人民检察院" in letter
    minutes = text(police.get(next(href for href, title in links.items() if title == "案情会商纪要")))
    assert "移送公安机关。" in minutes


def _answer_of(app, case_id, username):
    from models import Agency, HumanTask
    from web.db import db

    with db.new_session(app) as session:
        task = session.scalar(select(HumanTask).join(Agency, HumanTask.agency_id == Agency.id).where(
            HumanTask.case_id == case_id, HumanTask.bpmn_id == "answer_consultation",
            HumanTask.state == "open", Agency.code == username.split("_")[0]))
        session.expunge(task)
        return task


def test_the_court_reads_the_civil_referral_without_the_secret(app, client_for):
    from engine import create_case
    from models import User
    from tests.helpers import act
    from web.db import db

    secret = "主轴热处理工艺参数表（绝密）"
    with db.new_session(app) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        case_id = create_case(session, users["samr_handler"], "某精密机械公司投诉案", mechanism="rights_protection").id
        act(session, users["samr_handler"], case_id, "register_complaint", {
            "complainant": "某精密机械有限公司", "complainant_contact": "0635-1234567", "received_on": "2026-03-02",
            "suspected_infringer": "某新材料有限公司", "secret_described": secret, "evidence_offered": "保密协议"})
        act(session, users["samr_handler"], case_id, "verify_complaint",
            {"verification_outcome": "file", "opinion": "建议立案"})
        act(session, users["samr_head"], case_id, "decide_filing", {"filing_decided": "file", "channels": ["civil"]})
        act(session, users["samr_liaison"], case_id, "refer_civil", {
            "parties": "某精密机械有限公司；某新材料有限公司", "holder_contact": "0635-1234567",
            "preservation_expected": True})
    court = client_for("court_liaison")
    page = text(court.get(f"/cases/{case_id}"))
    [href] = re.findall(r'<a href="(/documents/\d+)">[^<]*</a></td>\s*<td>商业秘密民事保护通报函</td>', page)
    letter = text(court.get(href))
    assert "某新材料有限公司" in letter and "权利人拟向你院申请诉前行为保全" in letter
    assert secret not in letter
