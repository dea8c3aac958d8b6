"""One evidence package played through the pages by the demo users: the market-supervision handler
picks items on the form, the liaisons release and sign for them, the police handler reviews each
item (an interview record cannot be recognised), and the case and evidence pages show the verdicts,
the custody record and the printable lists. Then information shared on request, seen under
"Shared with me" by the named user only, until it expires."""
from __future__ import annotations

import hashlib
import io
import re
from datetime import datetime

from sqlalchemy import select

from models import EvidenceItem, HumanTask
from tests.conftest import SHANGHAI
from web.db import db

from .helpers import (
    FACTS,
    claim_and_complete,
    create_case,
    csrf_token,
    field_html,
    open_task,
    post,
    text,
    user_id,
)

LOG = b"2026-02-01 10:00 user=jia copied formula.xlsx to usb\n"
BASE = {"source": "现场提取", "collected_at": "2026-03-01T10:00", "collector_1": "王承办",
        "collector_2": "李承办", "confidential": "true"}


def upload(client, case_id, **fields):
    data = {"csrf_token": csrf_token(client, f"/cases/{case_id}"), **BASE, **fields}
    response = client.post(f"/cases/{case_id}/evidence", data=data, content_type="multipart/form-data")
    assert response.status_code == 303, text(response)


def claim(client, task_id: int) -> str:
    """Claim a task and return its page (the form shows once the task is yours)."""
    assert post(client, f"/tasks/{task_id}/claim", token_from=f"/tasks/{task_id}").status_code == 303
    return text(client.get(f"/tasks/{task_id}"))


def complete(client, task_id: int, data: dict):
    return post(client, f"/tasks/{task_id}/complete", data, token_from=f"/tasks/{task_id}")


def evidence_ids(app) -> dict[str, int]:
    with db.new_session(app) as session:
        return {i.kind: i.id for i in session.scalars(select(EvidenceItem))}


def open_reviews(app, case_id) -> list[int]:
    with db.new_session(app) as session:
        return list(session.scalars(select(HumanTask.id).where(
            HumanTask.case_id == case_id, HumanTask.bpmn_id == "review_item", HumanTask.state == "open")
            .order_by(HumanTask.id)))


def test_an_evidence_package_through_the_pages(app, client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    upload(handler, case_id, kind="electronic_data", description="服务器日志",
           declared_sha256=hashlib.sha256(LOG).hexdigest(), file=(io.BytesIO(LOG), "日志.txt"))
    upload(handler, case_id, kind="interview_record", description="对前员工甲的询问笔录")
    ids = evidence_ids(app)

    started = post(handler, f"/cases/{case_id}/mechanisms", {"key": "evidence_recognition"},
                   token_from=f"/cases/{case_id}")
    assert started.status_code == 303
    submit = open_task(app, case_id, "submit_package")
    page = claim(handler, submit.id)
    assert f'name="item_ids" value="{ids["electronic_data"]}"' in page and "服务器日志" in page
    done = complete(handler, submit.id, {
        "proceed": "true", "item_ids": [str(ids["electronic_data"]), str(ids["interview_record"])],
        "receiving_agency": "police", "purpose": "请公安机关审查认可"})
    assert done.status_code == 303, text(done)

    release = open_task(app, case_id, "approve_package_handoff")
    liaison = client_for("samr_liaison")
    assert "服务器日志" in text(liaison.get(f"/tasks/{release.id}"))
    assert claim_and_complete(liaison, release.id, {"handoff_approved": "true"}).status_code == 303
    police_liaison = client_for("police_liaison")
    receipt = open_task(app, case_id, "receive_package")
    assert claim_and_complete(police_liaison, receipt.id, {"received": "true"}).status_code == 303

    police = client_for("police_handler")
    for task_id in open_reviews(app, case_id):
        page = claim(police, task_id)
        verdict = {"lawful": "true", "authentic": "true", "relevant": "true", "verdict": "recognised", "reason": ""}
        if "对前员工甲的询问笔录" in page:
            assert "询问笔录不能互认，须由接收机关重新制作。" in page
            refused = complete(police, task_id, verdict)
            assert refused.status_code == 422 and "询问笔录不能互认" in text(refused)
            verdict = {**verdict, "verdict": "rejected", "reason": "须重新询问"}
        else:
            assert "完整性校验（现在重新计算）" in page and "一致" in page and "电子数据：" in page
            # The same lines in English: the engine gives codes, the page words them.
            english = text(police.get(f"/tasks/{task_id}?lang=en"))
            assert "Integrity check (recomputed now)" in english and "Matches" in english
            assert ": 服务器日志" in english and "Electronic data" in english and "完整性" not in english
            police.get(f"/tasks/{task_id}?lang=zh_CN")
        done = complete(police, task_id, verdict)
        assert done.status_code == 303, text(done)
    result = open_task(app, case_id, "approve_result")
    assert claim_and_complete(police_liaison, result.id, {"handoff_approved": "true"}).status_code == 303
    ack = open_task(app, case_id, "acknowledge_recognition")
    assert claim_and_complete(handler, ack.id, {"acknowledged": "true"}).status_code == 303

    case_page = text(handler.get(f"/cases/{case_id}"))
    assert "证据互认" in case_page and "予以认可" in case_page and "不予认可" in case_page
    assert "电子数据清单" in case_page and "证据材料交接单" in case_page
    item_page = text(handler.get(f"/cases/{case_id}/evidence/{ids['electronic_data']}"))
    assert "赵联络员（市场监管）" in item_page and "孙联络员（公安）" in item_page  # both custody signatures
    assert hashlib.sha256(LOG).hexdigest() in item_page
    listing = re.search(r'href="/documents/(\d+)">[^<]+</a></td>\s*<td>电子数据清单', case_page)
    document = text(handler.get(f"/documents/{listing.group(1)}"))
    assert "服务器日志" in document and hashlib.sha256(LOG).hexdigest() in document
    # The police handler now holds the item and may download the confidential file.
    download = police.get(f"/cases/{case_id}/evidence/{ids['electronic_data']}/download")
    assert download.status_code == 200 and download.data == LOG


def test_information_shared_on_request_is_visible_to_the_named_user_until_it_expires(app, client_for, clock):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    register = open_task(app, case_id, "register_facts")
    claim_and_complete(handler, register.id, FACTS)
    claim_and_complete(client_for("samr_head"), open_task(app, case_id, "decide_transfer").id,
                       {"transfer_approved": "true", "administrative_penalty": "false"})
    claim_and_complete(client_for("samr_liaison"), open_task(app, case_id, "approve_outgoing_handoff").id,
                       {"handoff_approved": "true"})

    police = client_for("police_handler")
    post(police, f"/cases/{case_id}/mechanisms", {"key": "information_sharing"}, token_from=f"/cases/{case_id}")
    ask = open_task(app, case_id, "request_information")
    assert 'type="date"' in claim(police, ask.id)
    assert complete(police, ask.id, {
        "owner_agency": "samr", "purpose": "核实处罚情况", "legal_basis": "刑事诉讼法第五十四条",
        "asked": "处罚决定", "needed_by": "2026-03-20"}).status_code == 303
    claim_and_complete(client_for("police_liaison"), open_task(app, case_id, "approve_request_handoff").id,
                       {"handoff_approved": "true"})
    claim_and_complete(handler, open_task(app, case_id, "prepare_answer").id,
                       {"answer_text": "当事人2025年已受过行政处罚。"})
    decide = open_task(app, case_id, "decide_sharing")
    samr_liaison = client_for("samr_liaison")
    viewers = field_html(claim(samr_liaison, decide.id), "viewer_ids")
    assert "周侦查员（公安）" in viewers and "王承办（市场监管）" not in viewers  # the requester's users only
    assert complete(samr_liaison, decide.id, {
        "sharing_approved": "true", "expires_on": "2026-03-31",
        "viewer_ids": [str(user_id(app, "police_handler"))]}).status_code == 303
    # The request's state on the requester's next task, named by the page in its language.
    read = open_task(app, case_id, "read_sharing_decision")
    assert "已同意共享" in text(police.get(f"/tasks/{read.id}"))
    assert "Sharing granted" in text(police.get(f"/tasks/{read.id}?lang=en"))
    police.get("/?lang=zh_CN")

    shared = text(police.get("/shared/"))
    grant_id = re.search(r'href="/shared/(\d+)"', shared).group(1)
    assert "当事人2025年已受过行政处罚。" in text(police.get(f"/shared/{grant_id}"))
    assert "当事人2025年" not in text(client_for("police_head").get("/shared/"))
    assert client_for("police_head").get(f"/shared/{grant_id}").status_code == 404
    assert "核实处罚情况" in text(police.get(f"/cases/{case_id}"))  # the request on the case page

    clock.set(datetime(2026, 4, 1, 0, 0, tzinfo=SHANGHAI))
    assert f'href="/shared/{grant_id}"' not in text(police.get("/shared/"))
    expired = police.get(f"/shared/{grant_id}")
    assert expired.status_code == 403 and "当事人2025年" not in text(expired)
