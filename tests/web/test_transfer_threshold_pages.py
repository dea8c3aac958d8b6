"""The threshold on the pages: amounts left empty are unknown, the handler and the head read the
table's answer in their language, a transfer below the standard without a reason is refused with
the field named, and the 移送书 states its ground, its signers and its attachments."""
from __future__ import annotations

import html
import re

from sqlalchemy import select

from models import HumanTask
from web.db import db

from .helpers import FACTS, claim_and_complete, create_case, field_html, open_task, text
from .test_evidence import upload

APPROVE = {"transfer_approved": "true", "reasons": "", "administrative_penalty": "false"}


def _plain(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def report_of(app, case_id: int) -> HumanTask:
    """The registered (completed) transfer report of a case."""
    with db.new_session(app) as session:
        task = session.scalars(select(HumanTask).where(
            HumanTask.case_id == case_id, HumanTask.bpmn_id == "register_facts")).one()
        session.expunge(task)
        return task


def registered(app, client_for, **facts) -> int:
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    task = open_task(app, case_id, "register_facts")
    assert claim_and_complete(handler, task.id, {**FACTS, **facts}).status_code == 303
    return case_id


def test_the_head_reads_the_answer_the_rule_and_the_table_version(app, client_for):
    case_id = registered(app, client_for, loss_amount="500,000")
    decide = open_task(app, case_id, "decide_transfer")
    page = _plain(text(client_for("samr_head").get(f"/tasks/{decide.id}")))
    assert "权利人损失 500,000元 ≥ 300,000元：达到立案追诉标准" in page
    assert "适用规则 给权利人造成损失数额三十万元以上：达到立案追诉标准" in page
    assert "版本 2021.1，2021-03-01起适用" in page
    assert re.search(r"移送报告签名的执法人员 王承办（市场监管）\S{1,2}李承办（市场监管）", page)
    # The case page's and the supervisors' timelines record it, with the row that fired.
    case_page = _plain(text(client_for("samr_handler").get(f"/cases/{case_id}")))
    assert "判断刑事立案追诉标准" in case_page
    supervisor = client_for("office_supervisor")
    assert "判断刑事立案追诉标准" in _plain(text(supervisor.get(f"/supervision/cases/{case_id}")))
    csv = supervisor.get(f"/supervision/cases/{case_id}/timeline.csv").get_data(as_text=True)
    # Worded like the page (no event code), with the version of the table that decided.
    assert "threshold_assessed" not in csv
    assert "判断刑事立案追诉标准" in csv and "给权利人造成损失数额三十万元以上：达到立案追诉标准 · 标准版本 2021.1" in csv
    # The handler sees it on the registered report too.
    report = report_of(app, case_id)
    mine = _plain(text(client_for("samr_handler").get(f"/tasks/{report.id}")))
    assert "达到立案追诉标准" in mine


def test_especially_serious_from_two_and_a_half_million(app, client_for):
    case_id = registered(app, client_for, loss_amount="2500000")
    decide = open_task(app, case_id, "decide_transfer")
    page = _plain(text(client_for("samr_head").get(f"/tasks/{decide.id}")))
    assert "权利人损失 2,500,000元 ≥ 2,500,000元：达到立案追诉标准，情节特别严重" in page


def test_an_empty_amount_is_unknown_not_zero(app, client_for):
    case_id = registered(app, client_for, loss_amount="", illegal_gain="")
    report = report_of(app, case_id)
    assert report.result["loss_amount"] is None and report.result["illegal_gain"] is None
    decide = open_task(app, case_id, "decide_transfer")
    page = _plain(text(client_for("samr_head").get(f"/tasks/{decide.id}")))
    assert "尚不能判断：数额尚未查明" in page and "权利人损失 不明（尚未查明）" in page
    assert "批准移送须写明理由" in page


def test_below_the_standard_an_approval_without_reason_is_refused_naming_the_field(app, client_for):
    case_id = registered(app, client_for, loss_amount="299999")
    decide = open_task(app, case_id, "decide_transfer")
    head = client_for("samr_head")
    response = claim_and_complete(head, decide.id, APPROVE)
    assert response.status_code == 422
    assert "未达到立案追诉标准，也无合理怀疑" in field_html(text(response), "reasons")
    assert open_task(app, case_id, "decide_transfer").state == "open"
    # The administrative route is offered on the same form.
    assert 'name="administrative_penalty"' in text(head.get(f"/tasks/{decide.id}"))


def test_the_letter_states_the_ground_the_signers_and_the_attachments(app, client_for, runner):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    assert upload(handler, case_id, name="配方.pdf").status_code == 303
    task = open_task(app, case_id, "register_facts")
    assert claim_and_complete(handler, task.id, FACTS).status_code == 303
    decide = open_task(app, case_id, "decide_transfer")
    assert claim_and_complete(client_for("samr_head"), decide.id, APPROVE).status_code == 303
    handoff = open_task(app, case_id, "approve_outgoing_handoff")
    assert claim_and_complete(client_for("samr_liaison"), handoff.id,
                              {"handoff_approved": "true", "comment": ""}).status_code == 303
    case_page = text(handler.get(f"/cases/{case_id}"))
    [letter] = re.findall(r'href="(/documents/\d+)"', case_page)[:1]
    page = _plain(text(handler.get(letter)))
    assert "给权利人造成损失数额三十万元以上：达到立案追诉标准，认为该案涉嫌犯罪" in page
    assert "王承办（市场监管）、李承办（市场监管）提出" in page
    assert "配方.pdf" in page and "涉嫌犯罪案件调查报告（移送报告）" in page
    assert "2. 涉案物品清单" not in page
