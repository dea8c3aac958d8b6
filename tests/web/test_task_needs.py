"""Each task shows what its decision needs: an invited agency's written opinion shows the
consultation's questions, the minutes show every answer; the inbox row says what the task is
about; task names carry no modelling notes. In English too."""
from __future__ import annotations

import re

from sqlalchemy import select

from engine.mechanisms.consultation import AnswerState, _minutes_context
from models import Agency, HumanTask, User
from web.db import db

from .helpers import claim_and_complete, create_case, open_task, post, text

PROPOSAL = {
    "topic": "技术秘密定性问题", "questions": "涉案信息是否构成商业秘密？损失如何认定？", "materials": "调查报告摘要。",
    "invited_agencies": ["police", "procuratorate"], "reply_deadline": "5wd",
}


def _answer_of(app, case_id: int, code: str) -> HumanTask:
    with db.new_session(app) as session:
        task = session.scalar(select(HumanTask).join(Agency, HumanTask.agency_id == Agency.id).where(
            HumanTask.case_id == case_id, HumanTask.bpmn_id == "answer_consultation",
            HumanTask.state == "open", Agency.code == code))
        session.expunge(task)
        return task


def _context(html: str) -> str:
    match = re.search(r'<section class="task-context">(.*?)</section>', html, re.S)
    assert match, "the page says what the task is about"
    return match.group(1)


def _invite(app, client_for) -> int:
    handler = client_for("samr_handler")
    case_id = create_case(handler, title="会商上下文测试案")
    post(handler, f"/cases/{case_id}/mechanisms", {"key": "consultation"}, token_from=f"/cases/{case_id}")
    assert claim_and_complete(handler, open_task(app, case_id, "propose_consultation").id, PROPOSAL).status_code == 303
    approve = open_task(app, case_id, "approve_consultation")
    assert claim_and_complete(client_for("samr_liaison"), approve.id,
                              {"handoff_approved": "true", "comment": ""}).status_code == 303
    return case_id


def test_the_invited_agency_answers_the_questions_it_sees(app, client_for):
    case_id = _invite(app, client_for)
    police = client_for("police_liaison")
    task = _answer_of(app, case_id, "police")
    assert task.title == "出具书面意见"  # no "（每个受邀单位）"
    # The inbox row says what the task is about: the consultation's convener.
    row = re.search(rf'<tr[^>]*>(?:(?!</tr>).)*?href="/tasks/{task.id}".*?</tr>', text(police.get("/")), re.S).group(0)
    assert "会商上下文测试案" in row and '<small class="subject">' in row
    page = text(police.get(f"/tasks/{task.id}"))
    context = _context(page)
    for shown in ("会商议题", "技术秘密定性问题", "需要答复的问题", "涉案信息是否构成商业秘密？损失如何认定？",
                  "会商材料", "调查报告摘要。", "召集单位"):
        assert shown in context, shown
    english = _context(text(police.get(f"/tasks/{task.id}?lang=en")))
    assert "Questions to answer" in english and "Topic" in english and "需要答复的问题" not in english


def test_the_minutes_show_every_answer_and_who_has_not_answered(app, client_for):
    case_id = _invite(app, client_for)
    answer = {"opinion": "公安机关意见：涉嫌犯罪。", "legal_basis": "刑法第二百一十九条", "attendees": "张警官"}
    assert claim_and_complete(client_for("police_liaison"), _answer_of(app, case_id, "police").id,
                              answer).status_code == 303
    # The minutes task opens only when all have answered; until then the answers are on the
    # invited agency's documents. The procuratorate answers without a legal basis.
    assert claim_and_complete(client_for("procuratorate_liaison"), _answer_of(app, case_id, "procuratorate").id,
                              {"opinion": "检察机关意见：同意移送。"}).status_code == 303
    minutes = open_task(app, case_id, "record_minutes")
    handler = client_for("samr_handler")
    context = _context(text(handler.get(f"/tasks/{minutes.id}")))
    assert "东昌府分局的书面意见" in context and "公安机关意见：涉嫌犯罪。" in context
    assert "东昌府分局所引法律依据" in context and "刑法第二百一十九条" in context
    assert "张警官" in context
    assert "人民检察院的书面意见" in context and "检察机关意见：同意移送。" in context
    assert "未写明" in context  # no legal basis given
    assert "技术秘密定性问题" in context
    english = _context(text(handler.get(f"/tasks/{minutes.id}?lang=en")))
    assert "Written opinion of " in english and "东昌府分局" in english and "None given" in english


def test_an_answer_not_given_is_said_so(app, client_for):
    case_id = _invite(app, client_for)
    assert claim_and_complete(client_for("police_liaison"), _answer_of(app, case_id, "police").id,
                              {"opinion": "意见"}).status_code == 303
    waiting_id = _answer_of(app, case_id, "procuratorate").id
    with db.new_session(app) as session:
        # What the minutes' hook says while one invited agency has yet to answer.
        handler = session.scalar(select(User).where(User.username == "samr_handler"))
        waiting = session.get(HumanTask, waiting_id)
        values = [value for _title, value in _minutes_context(session, handler, waiting, {})]
        assert AnswerState.NOT_ANSWERED in values and "意见" in values


def test_a_transfer_started_by_the_minutes_starts_with_the_consultation_s_facts(app, client_for):
    import engine

    case_id = _invite(app, client_for)
    for code in ("police", "procuratorate"):
        assert claim_and_complete(client_for(f"{code}_liaison"), _answer_of(app, case_id, code).id,
                                  {"opinion": "同意移送。"}).status_code == 303
    handler = client_for("samr_handler")
    minutes = {"held_on": "2026-03-06", "participants": "市场监管、公安、检察", "minutes": "会议记录。",
               "conclusion": "涉嫌犯罪，移送公安机关。", "request_transfer": "true",
               # 立案协助 already runs on the case (opened with it): a second one needs its reason.
               "action_plan": "启动｜立案协助｜会商查明的事实需另行移送"}
    assert claim_and_complete(handler, open_task(app, case_id, "record_minutes").id, minutes).status_code == 303
    with db.new_session(app) as session:
        assert engine.deliver_pending(session) >= 1
    facts = max((t for t in _open_register_facts(app, case_id)), key=lambda t: t.id)
    assert post(handler, f"/tasks/{facts.id}/claim", token_from=f"/tasks/{facts.id}").status_code == 303
    summary = re.search(r'<textarea id="f-summary"[^>]*>(.*?)</textarea>', text(handler.get(f"/tasks/{facts.id}")), re.S)
    assert summary and "调查报告摘要。" in summary.group(1) and "涉嫌犯罪，移送公安机关。" in summary.group(1)


def _open_register_facts(app, case_id: int) -> list[HumanTask]:
    with db.new_session(app) as session:
        found = session.scalars(select(HumanTask).where(
            HumanTask.case_id == case_id, HumanTask.bpmn_id == "register_facts", HumanTask.state == "open")).all()
        for task in found:
            session.expunge(task)
        return list(found)
