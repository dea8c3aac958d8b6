"""A damaged evidence file is shown as 已损坏 wherever its item appears beyond its own page: the
review task of 证据互认, the case page's package table, a task's attachments and a granted
information-sharing view (whose download answers 409 like any other). The first read that
finds it damaged tells the supervisors (and the procuratorate's liaisons when it takes part);
a reviewer whose verdict the damage overrode is told, and the timeline says why."""
from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

from sqlalchemy import select

from models import Agency, AuditEvent, Case, CaseParticipant, EvidenceItem, Notification, User, case_chain
from web.db import db

from .helpers import claim_and_complete, create_case, open_task, post, text, user_id
from .test_evidence_recognition import LOG, claim, complete, evidence_ids, open_reviews, upload

RECOGNISE = {"lawful": "true", "authentic": "true", "relevant": "true", "verdict": "recognised", "reason": ""}


def notices(app, kind: str) -> list[tuple[str, dict]]:
    with db.new_session(app) as session:
        return [(username, params) for username, params in session.execute(
            select(User.username, Notification.params).join(User, User.id == Notification.recipient_id)
            .where(Notification.kind == kind).order_by(Notification.id))]


def events(app, case_id: int, event_type: str) -> list[AuditEvent]:
    with db.new_session(app) as session:
        return session.scalars(select(AuditEvent).where(
            AuditEvent.chain == case_chain(case_id), AuditEvent.event_type == event_type)).all()


def tamper(app, evidence_id: int) -> None:
    with db.new_session(app) as session:
        name = session.get_one(EvidenceItem, evidence_id).storage_name
    (Path(app.config["EVIDENCE_DIR"]) / name).write_bytes(LOG + b"tampered")


def take_part(app, case_id: int, agency: str) -> None:
    """The agency becomes a party to the case, as the mechanism that reaches it would make it."""
    with db.new_session(app) as session, session.begin():
        session.add(CaseParticipant(case_id=case_id, joined_at=session.get_one(Case, case_id).created_at,
                                    agency_id=session.scalar(select(Agency.id).where(Agency.code == agency))))


def handed_to_police(app, client_for, confidentiality="confidential"):
    """A case with one electronic-data item handed over to the police and signed for, its reviews
    open: (the samr handler's client, case id, item id)."""
    handler = client_for("samr_handler")
    case_id = create_case(handler, confidentiality=confidentiality)
    upload(handler, case_id, kind="electronic_data", description="服务器日志",
           declared_sha256=hashlib.sha256(LOG).hexdigest(), file=(io.BytesIO(LOG), "日志.txt"))
    item_id = evidence_ids(app)["electronic_data"]
    post(handler, f"/cases/{case_id}/mechanisms", {"key": "evidence_recognition"}, token_from=f"/cases/{case_id}")
    submit = open_task(app, case_id, "submit_package")
    # A form that asks whether to hand anything over at all gets "yes".
    proceed = {"proceed": "true"} if 'name="proceed"' in claim(handler, submit.id) else {}
    done = complete(handler, submit.id, {"item_ids": [str(item_id)], "receiving_agency": "police",
                                         "purpose": "请公安机关审查认可", **proceed})
    assert done.status_code == 303, text(done)
    claim_and_complete(client_for("samr_liaison"), open_task(app, case_id, "approve_package_handoff").id,
                       {"handoff_approved": "true"})
    claim_and_complete(client_for("police_liaison"), open_task(app, case_id, "receive_package").id,
                       {"received": "true"})
    return handler, case_id, item_id


def test_the_review_task_and_the_package_mark_a_damaged_item_and_the_reviewer_learns_why(app, client_for):
    handler, case_id, item_id = handed_to_police(app, client_for)
    [review] = open_reviews(app, case_id)
    police = client_for("police_handler")
    assert "已损坏" not in claim(police, review)
    tamper(app, item_id)
    assert handler.get(f"/cases/{case_id}/evidence/{item_id}/download").status_code == 409

    page = text(police.get(f"/tasks/{review}"))
    assert re.search(rf'evidence/{item_id}">[^<]+</a> <span class="badge danger corrupted">已损坏', page)
    assert complete(police, review, {**RECOGNISE, "reason": "内容相关"}).status_code == 303

    # The reviewer is told, and the notice leads to the item's page, which says why.
    [(who, params)] = notices(app, "verdict_overridden")
    assert who == "police_handler" and params["evidence_id"] == item_id
    listing = text(police.get("/notifications"))
    assert f"您对证据 #{item_id} 的审查结论已改为不予认可" in listing
    notification_id = re.search(r'href="/notifications/(\d+)"', listing).group(1)
    opened = police.get(f"/notifications/{notification_id}")
    assert opened.headers["Location"].endswith(f"/cases/{case_id}/evidence/{item_id}")
    [event] = events(app, case_id, "evidence_verdict_overridden")
    assert event.detail["chosen"] == "recognised" and event.detail["problem"] == "declared_mismatch"
    assert event.detail["found"] == hashlib.sha256(LOG + b"tampered").hexdigest()
    case_page = text(handler.get(f"/cases/{case_id}"))
    assert "审查结论改为不予认可：文件未通过完整性校验" in case_page  # the timeline line
    package = re.search(r'<table class="recognition" data-package=.*?</table>', case_page, re.S).group(0)
    assert "已损坏" in package and "不予认可" in package
    # The supervisors heard of it once, at the download that found it, not again at the review.
    assert [who for who, _params in notices(app, "evidence_damaged")] == ["office_supervisor"]


def test_a_review_that_finds_the_damage_marks_the_item_and_tells_the_supervisors(app, client_for):
    _handler, case_id, item_id = handed_to_police(app, client_for, confidentiality="secret")
    take_part(app, case_id, "procuratorate")  # as it does once it supervises a filing
    tamper(app, item_id)
    [review] = open_reviews(app, case_id)
    police = client_for("police_handler")
    claim(police, review)
    assert complete(police, review, RECOGNISE).status_code == 303

    with db.new_session(app) as session:
        assert session.get_one(EvidenceItem, item_id).corrupted_at is not None
    told = notices(app, "evidence_damaged")
    assert sorted(who for who, _params in told) == ["office_supervisor", "procuratorate_liaison"]
    # A secret case is named by its number only; the item by its number only.
    assert all(params["case_title"] == "" and params["title"] == f"#{item_id}" for _who, params in told)
    supervisor = client_for("office_supervisor")
    listing = text(supervisor.get("/notifications"))
    assert f"证据 #{item_id} 已损坏" in listing and "服务器日志" not in listing
    assert "已损坏" in text(supervisor.get(f"/cases/{case_id}/evidence/{item_id}"))
    assert [who for who, _params in notices(app, "verdict_overridden")] == ["police_handler"]


def test_a_reviewer_who_rejected_anyway_is_not_told_of_an_override(app, client_for):
    _handler, case_id, item_id = handed_to_police(app, client_for)
    tamper(app, item_id)
    [review] = open_reviews(app, case_id)
    police = client_for("police_handler")
    claim(police, review)
    assert complete(police, review, {**RECOGNISE, "verdict": "rejected", "reason": "来源不明"}).status_code == 303
    assert notices(app, "verdict_overridden") == [] and events(app, case_id, "evidence_verdict_overridden") == []
    assert len(notices(app, "evidence_damaged")) == 1


def test_a_granted_view_marks_the_damaged_item_and_its_download_answers_409(app, client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    upload(handler, case_id, kind="electronic_data", description="服务器日志",
           declared_sha256=hashlib.sha256(LOG).hexdigest(), file=(io.BytesIO(LOG), "日志.txt"))
    item_id = evidence_ids(app)["electronic_data"]
    take_part(app, case_id, "police")  # as a transfer would make it
    police = client_for("police_handler")
    post(police, f"/cases/{case_id}/mechanisms", {"key": "information_sharing"}, token_from=f"/cases/{case_id}")
    ask = open_task(app, case_id, "request_information")
    claim(police, ask.id)
    assert complete(police, ask.id, {"owner_agency": "samr", "purpose": "核实证据", "legal_basis": "刑事诉讼法第五十四条",
                                     "asked": "服务器日志", "needed_by": "2026-03-20"}).status_code == 303
    claim_and_complete(client_for("police_liaison"), open_task(app, case_id, "approve_request_handoff").id,
                       {"handoff_approved": "true"})
    claim_and_complete(handler, open_task(app, case_id, "prepare_answer").id, {"evidence_ids": [str(item_id)]})
    samr_liaison = client_for("samr_liaison")
    decide = open_task(app, case_id, "decide_sharing")
    claim(samr_liaison, decide.id)
    assert complete(samr_liaison, decide.id, {"sharing_approved": "true", "expires_on": "2026-03-31",
                                              "viewer_ids": [str(user_id(app, "police_handler"))]}).status_code == 303
    grant_id = re.search(r'href="/shared/(\d+)"', text(police.get("/shared/"))).group(1)
    download = f"/shared/{grant_id}/evidence/{item_id}"
    assert download in text(police.get(f"/shared/{grant_id}")) and police.get(download).data == LOG

    tamper(app, item_id)
    refused = police.get(download)
    assert refused.status_code == 409 and refused.data != LOG + b"tampered"
    assert events(app, case_id, "evidence_integrity_failed")[-1].detail["evidence_id"] == item_id
    page = text(police.get(f"/shared/{grant_id}"))
    assert "已损坏" in page and "不提供下载" in page and download not in page
    # The handler's task pages list the case's files: the damaged one is marked, not linked.
    task_page = text(handler.get(f"/tasks/{decide.id}"))
    assert "已损坏" in task_page and f"/cases/{case_id}/evidence/{item_id}/download" not in task_page
