"""信息共享 on request through the engine on the real diagram: the request, the owner's answer and
decision, a grant readable by named users until it expires by the clock, every view audited."""
from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

import engine
from engine import policy
from models import InformationGrant, InformationRequest
from tests.conftest import SHANGHAI, START
from tests.helpers import (
    APPROVE_HANDOFF,
    APPROVE_TRANSFER,
    FACTS_500K,
    FILE,
    act,
    event_types,
    instance_of,
    open_task,
    police_decide,
)

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"
REQUEST = {"owner_agency": "samr", "purpose": "核实嫌疑人此前是否受过行政处罚", "legal_basis": "刑事诉讼法第五十四条",
           "asked": "处罚决定及涉案配方文件", "needed_by": "2026-03-20"}


@pytest.fixture
def store(session, tmp_path):
    store = engine.EvidenceStore(tmp_path / "evidence", 1 << 20)
    session.info["evidence_store"] = store
    return store


@pytest.fixture
def case(session, users):
    """A case transferred to the police, so both agencies take part in it."""
    case = engine.create_case(session, users["samr_handler"], "配方被盗案")
    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    act(session, users["samr_liaison"], case.id, "approve_outgoing_handoff", APPROVE_HANDOFF)
    return case


@pytest.fixture
def formula(session, users, store, case):
    return engine.add_evidence(session, store, users["samr_handler"], case.id, {
        "kind": "documentary", "description": "涉案配方文件", "source": "权利人提供",
        "collected_at": START - timedelta(days=1), "collector_1": "王承办", "collector_2": "李承办",
        "confidential": True}, io.BytesIO(PDF), "配方.pdf")


def ask(session, users, case, **changes):
    engine.start_mechanism(session, users["police_handler"], case.id, "information_sharing")
    act(session, users["police_handler"], case.id, "request_information", {**REQUEST, **changes})


def request_row(session, case) -> InformationRequest:
    return session.scalars(select(InformationRequest).where(InformationRequest.case_id == case.id)
                           .execution_options(populate_existing=True)).one()


def answered(session, users, case, formula, decision):
    ask(session, users, case)
    act(session, users["police_liaison"], case.id, "approve_request_handoff", {"handoff_approved": True})
    act(session, users["samr_handler"], case.id, "prepare_answer",
        {"answer_text": "该公司2025年曾因同类行为受到处罚。", "evidence_ids": [formula.id]})
    act(session, users["samr_liaison"], case.id, "decide_sharing", decision)


def test_granted_answer_is_visible_to_named_users_until_it_expires(session, users, store, case, formula, clock):
    handler, head = users["police_handler"], users["police_head"]
    ask(session, users, case)
    release = open_task(session, case.id, "approve_request_handoff")
    assert (release.lane, release.handoff) == ("police.liaison", "outgoing")
    act(session, users["police_liaison"], case.id, "approve_request_handoff", {"handoff_approved": True})
    prepare = open_task(session, case.id, "prepare_answer")
    assert prepare.lane == "samr.handler"
    context = dict(engine.task_context(session, users["samr_handler"], prepare))
    assert (context["purpose"], context["needed_by"]) == (REQUEST["purpose"], "2026-03-20")
    act(session, users["samr_handler"], case.id, "prepare_answer",
        {"answer_text": "该公司2025年曾因同类行为受到处罚。", "evidence_ids": [formula.id]})
    decide = open_task(session, case.id, "decide_sharing")
    assert (decide.lane, decide.handoff) == ("samr.liaison", "outgoing")
    viewers = [v for v, _label in engine.form_choices(session, users["samr_liaison"], decide)["viewer_ids"]]
    assert handler.id in viewers and users["samr_handler"].id not in viewers
    act(session, users["samr_liaison"], case.id, "decide_sharing",
        {"sharing_approved": True, "expires_on": "2026-03-31", "viewer_ids": [handler.id]})
    assert open_task(session, case.id, "read_sharing_decision").lane == "police.handler"
    assert request_row(session, case).state == "granted"

    [grant] = engine.shared_with_me(session, handler)
    assert grant.expires_at == datetime(2026, 3, 31, 23, 59, 59, tzinfo=SHANGHAI)
    assert engine.shared_with_me(session, head) == []
    with pytest.raises(engine.NotFound):
        engine.open_grant(session, head, grant.id)
    shown, evidence, documents = engine.open_grant(session, handler, grant.id)
    assert shown.answer_text.startswith("该公司") and [e.id for e in evidence] == [formula.id] and documents == []
    # The police handler may not open the confidential file as a party; the grant lets them.
    assert not policy.can_open_evidence(session, handler, formula)
    assert engine.open_shared_evidence(session, store, handler, grant.id, formula.id).stream.read() == PDF
    assert event_types(session, case.id).count("shared_information_viewed") == 2

    clock.set(datetime(2026, 3, 31, 23, 59, 0, tzinfo=SHANGHAI))
    assert engine.shared_with_me(session, handler) == [grant]
    clock.set(datetime(2026, 4, 1, 0, 0, 0, tzinfo=SHANGHAI))
    assert engine.shared_with_me(session, handler) == []
    for opening in (lambda: engine.open_grant(session, handler, grant.id),
                    lambda: engine.open_shared_evidence(session, store, handler, grant.id, formula.id)):
        with pytest.raises(engine.Forbidden):
            opening()
    assert event_types(session, case.id).count("shared_information_viewed") == 2

    act(session, handler, case.id, "read_sharing_decision", {"acknowledged": True})
    instance = next(i for i in engine.case_instances(session, case) if i.process_model.key == "information_sharing")
    assert instance.status == "completed"
    for text in (REQUEST["purpose"], REQUEST["asked"], "该公司2025年"):
        assert text not in instance.state_json
    events = event_types(session, case.id)
    assert {"information_requested", "shared_information_granted", "handoff_approved"} <= set(events)
    assert engine.verify_audit(session, case.id) == []


def test_owner_refuses_with_reasons(session, users, store, case, formula):
    answered(session, users, case, formula, {"sharing_approved": False, "refusal_reasons": "超出办案需要"})
    row = request_row(session, case)
    assert (row.state, row.refusal_reasons, row.grant) == ("refused", "超出办案需要", None)
    assert session.scalars(select(InformationGrant)).all() == []
    read = open_task(session, case.id, "read_sharing_decision")
    context = dict(engine.task_context(session, users["police_handler"], read))
    assert context["refusal_reasons"] == "超出办案需要" and "draft_answer" not in context
    assert "shared_information_refused" in event_types(session, case.id)


def test_requester_liaison_does_not_send_the_request(session, users, store, case):
    ask(session, users, case)
    act(session, users["police_liaison"], case.id, "approve_request_handoff",
        {"handoff_approved": False, "comment": "依据不足"})
    assert request_row(session, case).state == "withdrawn"
    assert instance_of(session, case.id) is not None
    assert "prepare_answer" not in {t.bpmn_id for t in engine.case_tasks(session, case)}


def test_requests_and_decisions_are_checked(session, users, store, case, formula):
    engine.start_mechanism(session, users["police_handler"], case.id, "information_sharing")
    task = open_task(session, case.id, "request_information")
    engine.claim_task(session, users["police_handler"], task.id)
    for changes, field in (({"owner_agency": "police"}, "owner_agency"), ({"needed_by": "2026-03-01"}, "needed_by")):
        with pytest.raises(engine.InvalidInput) as exc:
            engine.complete_task(session, users["police_handler"], task.id, {**REQUEST, **changes})
        assert field in exc.value.errors
    engine.complete_task(session, users["police_handler"], task.id, REQUEST)
    act(session, users["police_liaison"], case.id, "approve_request_handoff", {"handoff_approved": True})
    prepare = open_task(session, case.id, "prepare_answer")
    engine.claim_task(session, users["samr_handler"], prepare.id)
    for answer, field in (({"answer_text": ""}, "answer_text"),
                          ({"answer_text": "", "evidence_ids": [formula.id + 100]}, "evidence_ids")):
        with pytest.raises(engine.InvalidInput) as exc:
            engine.complete_task(session, users["samr_handler"], prepare.id, answer)
        assert field in exc.value.errors
    engine.complete_task(session, users["samr_handler"], prepare.id, {"answer_text": "见附件", "evidence_ids": [formula.id]})
    decide = open_task(session, case.id, "decide_sharing")
    engine.claim_task(session, users["samr_liaison"], decide.id)
    for decision, field in (
        ({"expires_on": "2026-03-01", "viewer_ids": [users["police_handler"].id]}, "expires_on"),
        ({"expires_on": "2026-04-30", "viewer_ids": [users["samr_handler"].id]}, "viewer_ids"),
        ({"expires_on": "2026-04-30", "viewer_ids": []}, "viewer_ids"),
    ):
        with pytest.raises(engine.InvalidInput) as exc:
            engine.complete_task(session, users["samr_liaison"], decide.id, {"sharing_approved": True, **decision})
        assert field in exc.value.errors
    assert request_row(session, case).grant is None


def test_a_shared_document_is_read_through_the_grant(session, users, store, case, formula):
    # A penalty on a case the table calls criminal waits for the police's answer (以罚代刑).
    police_decide(session, users, case.id, FILE)
    engine.start_mechanism(session, users["samr_handler"], case.id, "penalty_disclosure")
    act(session, users["samr_handler"], case.id, "record_penalty_decision", {
        "decision_number": "东市监罚〔2026〕3号", "decided_on": "2026-03-02", "party_name": "某公司",
        "violation": "侵犯商业秘密", "penalty": "罚款五十万元", "fine_amount": 500000, "trade_secret_matter": True})
    act(session, users["samr_liaison"], case.id, "copy_penalty_decision", {"copied": True})
    [document] = [d for d in engine.case_documents(session, users["samr_handler"], case.id)
                  if d.kind == "penalty_decision_copy"]
    ask(session, users, case)
    act(session, users["police_liaison"], case.id, "approve_request_handoff", {"handoff_approved": True})
    act(session, users["samr_handler"], case.id, "prepare_answer", {"answer_text": "", "document_ids": [document.id]})
    act(session, users["samr_liaison"], case.id, "decide_sharing",
        {"sharing_approved": True, "expires_on": "2026-03-02", "viewer_ids": [users["police_handler"].id]})
    [grant] = engine.shared_with_me(session, users["police_handler"])
    assert engine.open_shared_document(session, users["police_handler"], grant.id, document.id).id == document.id
    with pytest.raises(engine.NotFound):
        engine.open_shared_document(session, users["police_handler"], grant.id, document.id + 1)
    assert event_types(session, case.id)[-1] == "shared_information_viewed"
