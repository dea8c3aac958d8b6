"""证据互认 through the engine on the real diagram: every role, every path, custody and documents.

The provider's handler picks items (only its own items of the case), its liaison releases them
(custody rows with the re-computed hash), the receiving liaison signs for them, each item is
reviewed in its own task, the receiving liaison approves the result; supplements go back and forth
in bounded rounds. The workflow holds ids and verdicts only.
"""
from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

import engine
from engine import policy
from engine.casework.documents import case_documents
from models import EvidenceCustody, EvidencePackage, HumanTask
from tests.conftest import START
from tests.helpers import act, event_types, open_task, open_tasks

LOG = b"2026-02-01 10:00 user=jia copied formula.xlsx to usb\n"
PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"
BASE = {"source": "现场提取", "collected_at": START - timedelta(days=3), "collector_1": "王承办",
        "collector_2": "李承办", "confidential": True}
RECOGNISE = {"lawful": True, "authentic": True, "relevant": True, "verdict": "recognised", "reason": ""}
REJECT = {"lawful": False, "authentic": True, "relevant": True, "verdict": "rejected", "reason": "未附提取笔录"}
SUPPLEMENT = {"lawful": True, "authentic": True, "relevant": True, "verdict": "supplement",
              "reason": "请补充见证人签名"}
OK = {"handoff_approved": True}


@pytest.fixture
def store(session, tmp_path):
    store = engine.EvidenceStore(tmp_path / "evidence", 1 << 20)
    session.info["evidence_store"] = store  # what the web app binds to every session
    return store


@pytest.fixture
def case(session, users):
    return engine.create_case(session, users["samr_handler"], "某公司配方被盗案")


def add(session, store, user, case, kind, content=None, name=None, **fields):
    data = {**BASE, "kind": kind, "description": f"{kind} 证据", **fields}
    if kind == "electronic_data" and content is not None:
        data.setdefault("declared_sha256", hashlib.sha256(content).hexdigest())
    return engine.add_evidence(session, store, user, case.id, data,
                               io.BytesIO(content) if content is not None else None, name)


@pytest.fixture
def items(session, users, store, case):
    handler = users["samr_handler"]
    return {
        "log": add(session, store, handler, case, "electronic_data", LOG, "日志.txt"),
        "contract": add(session, store, handler, case, "documentary", PDF, "保密协议.pdf"),
        "interview": add(session, store, handler, case, "interview_record"),
    }


def start(session, user, case, to="police", item_ids=None, items=None):
    engine.start_mechanism(session, user, case.id, "evidence_recognition")
    ids = item_ids if item_ids is not None else [i.id for i in items.values()]
    act(session, user, case.id, "submit_package",
        {"proceed": True, "item_ids": ids, "receiving_agency": to, "purpose": "请审查认可本案证据"})


def package(session, case) -> EvidencePackage:
    return session.scalars(select(EvidencePackage).where(EvidencePackage.case_id == case.id)
                           .execution_options(populate_existing=True)).one()


def reviews(session, case) -> dict[int, HumanTask]:
    """The open review tasks by the item each one is for (from the task page's context)."""
    found = {}
    for task in open_tasks(session, case.id):
        if task.bpmn_id == "review_item":
            context = engine.task_context(session, task.case.created_by, task)
            found[next(line[2] for line in context if line[0] == "item")] = task
    return found


def review(session, user, case, verdicts: dict[int, dict], order=None):
    open_reviews = reviews(session, case)
    assert sorted(open_reviews) == sorted(verdicts)
    for item_id in order or verdicts:
        engine.claim_task(session, user, open_reviews[item_id].id)
        engine.complete_task(session, user, open_reviews[item_id].id, verdicts[item_id])


def hand_over(session, users, case, items, store):
    start(session, users["samr_handler"], case, items=items)
    act(session, users["samr_liaison"], case.id, "approve_package_handoff", OK)
    act(session, users["police_liaison"], case.id, "receive_package", {"received": True})


@pytest.mark.parametrize("order", [("interview", "log", "contract"), ("contract", "log", "interview")])
def test_package_is_handed_over_reviewed_in_any_order_and_recognised(session, users, store, case, items, clock,
                                                                      order):
    log, contract, interview = items["log"], items["contract"], items["interview"]
    start(session, users["samr_handler"], case, items=items)
    release = open_task(session, case.id, "approve_package_handoff")
    assert (release.lane, release.handoff) == ("samr.liaison", "outgoing")
    assert release.due_at == clock.now() + timedelta(hours=24)
    clock.advance(hours=2)
    act(session, users["samr_liaison"], case.id, "approve_package_handoff", OK)

    custody = session.scalars(select(EvidenceCustody).order_by(EvidenceCustody.id)).all()
    assert [(c.evidence_id, c.state, c.to_agency.code, c.sha256) for c in custody] == [
        (log.id, "pending", "police", hashlib.sha256(LOG).hexdigest()),
        (contract.id, "pending", "police", hashlib.sha256(PDF).hexdigest()),
        (interview.id, "pending", "police", None)]
    receipt = open_task(session, case.id, "receive_package")
    assert (receipt.lane, receipt.handoff) == ("police.liaison", "incoming")
    # Before signing, the police handler may not open the confidential files.
    assert not policy.can_open_evidence(session, users["police_handler"], log)
    act(session, users["police_liaison"], case.id, "receive_package", {"received": True, "receipt_note": "相符"})
    assert {c.state for c in session.scalars(select(EvidenceCustody)
                                             .execution_options(populate_existing=True))} == {"received"}

    open_reviews = reviews(session, case)
    assert sorted(open_reviews) == sorted([log.id, contract.id, interview.id])
    assert {t.lane for t in open_reviews.values()} == {"police.handler"}
    review(session, users["police_handler"], case,
           {log.id: RECOGNISE, contract.id: RECOGNISE, interview.id: REJECT},
           order=[items[name].id for name in order])
    # Having claimed a review, the police handler is assigned and the police now hold the items.
    assert policy.can_open_evidence(session, users["police_handler"], log)
    act(session, users["police_liaison"], case.id, "approve_result", {"handoff_approved": True})
    act(session, users["samr_handler"], case.id, "acknowledge_recognition", {"acknowledged": True})

    verdicts = {e.evidence_id: e.verdict for e in package(session, case).items}
    assert verdicts == {log.id: "recognised", contract.id: "recognised", interview.id: "rejected"}
    instance = package(session, case)
    assert instance.state == "received" and instance.receiving_agency.code == "police"
    process = session.get(type(open_reviews[log.id].instance), open_reviews[log.id].instance_id)
    assert process.status == "completed"
    # The workflow carries ids and verdicts; descriptions, reasons and hashes stay in the tables.
    state = process.state_json
    for secret in ("请审查认可本案证据", "未附提取笔录", "electronic_data 证据", hashlib.sha256(LOG).hexdigest()):
        assert secret not in state
    assert f'"{log.id}":"recognised"' in state

    kinds = {d.kind: d for d in case_documents(session, users["samr_handler"], case.id)}
    listing = kinds["electronic_data_list"]
    assert (listing.issuing_agency.code, listing.recipient_agency.code) == ("samr", "police")
    assert [i["id"] for i in listing.content["items"]] == [log.id]
    assert listing.content["items"][0]["sha256"] == hashlib.sha256(LOG).hexdigest()
    handover = kinds["evidence_handover"]
    assert (handover.issuing_agency.code, handover.recipient_agency.code) == ("police", "samr")
    assert len(handover.content["items"]) == 3
    assert (handover.content["released_by"], handover.content["received_by"]) == (
        users["samr_liaison"].display_name, users["police_liaison"].display_name)

    events = event_types(session, case.id)
    for expected in ("evidence_package_submitted", "evidence_handed_over", "evidence_received",
                     "evidence_reviewed", "handoff_approved", "document_generated"):
        assert expected in events
    assert events.count("evidence_reviewed") == 3 and events.count("evidence_handed_over") == 3
    assert engine.verify_audit(session, case.id) == []


def test_only_the_providers_own_items_of_the_case_can_be_sent(session, users, store, case, items):
    other = engine.create_case(session, users["samr_handler2"], "另一案件")
    foreign = add(session, store, users["samr_handler2"], other, "documentary", PDF, "别案.pdf")
    engine.start_mechanism(session, users["samr_handler"], case.id, "evidence_recognition")
    task = open_task(session, case.id, "submit_package")
    engine.claim_task(session, users["samr_handler"], task.id)
    for ids, to in (([foreign.id], "police"), ([items["log"].id, 999999], "police"),
                    ([items["log"].id], "samr")):
        with pytest.raises(engine.InvalidInput) as exc:
            engine.complete_task(session, users["samr_handler"], task.id,
                                 {"proceed": True, "item_ids": ids, "receiving_agency": to, "purpose": "x"})
        assert set(exc.value.errors) <= {"item_ids", "receiving_agency"} and exc.value.errors
    assert session.scalars(select(EvidencePackage)).all() == []
    choices = engine.form_choices(session, users["samr_handler"], task)["item_ids"]
    assert [value for value, _label in choices] == [i.id for i in items.values()]


def test_interview_records_cannot_be_recognised(session, users, store, case, items):
    hand_over(session, users, case, items, store)
    task = reviews(session, case)[items["interview"].id]
    engine.claim_task(session, users["police_handler"], task.id)
    with pytest.raises(engine.InvalidInput) as exc:
        engine.complete_task(session, users["police_handler"], task.id, RECOGNISE)
    assert "verdict" in exc.value.errors
    assert ("note", engine.Term("Evidence", "interview_not_recognised")) in engine.task_context(
        session, users["police_handler"], task)
    engine.complete_task(session, users["police_handler"], task.id, REJECT)


def test_electronic_data_whose_file_changed_is_rejected_with_the_reason(session, users, store, case, items):
    hand_over(session, users, case, items, store)
    log = items["log"]
    (store.root / log.storage_name).write_bytes(LOG + b"tampered")
    task = reviews(session, case)[log.id]
    context = {line[0]: line[1] for line in engine.task_context(session, users["police_handler"], task)}
    assert context["integrity"].code == "declared_mismatch" and context["integrity"].args["found"] != log.declared_sha256
    engine.claim_task(session, users["police_handler"], task.id)
    engine.complete_task(session, users["police_handler"], task.id, {**RECOGNISE, "reason": "内容相关"})

    entry = next(e for e in package(session, case).items if e.evidence_id == log.id)
    found = hashlib.sha256(LOG + b"tampered").hexdigest()
    assert (entry.verdict, entry.forced, entry.sha256_found) == ("rejected", True, found)
    assert log.declared_sha256 in entry.reason and found in entry.reason and "内容相关" in entry.reason
    session.refresh(task)
    assert task.result["verdict"] == "rejected" and task.result["authentic"] is False
    assert "evidence_integrity_failed" in event_types(session, case.id)
    review(session, users["police_handler"], case, {items["contract"].id: RECOGNISE,
                                                    items["interview"].id: REJECT})
    act(session, users["police_liaison"], case.id, "approve_result", {"handoff_approved": True})
    ack = open_task(session, case.id, "acknowledge_recognition")
    assert any(title.args["id"] == log.id and text.args["verdict"] == "rejected" and "内容相关" in text.args["reason"]
               for title, text, *_ in engine.task_context(session, users["samr_handler"], ack)[3:])


def test_supplement_rounds_are_bounded_and_the_last_result_cannot_be_returned(session, users, store, case, items):
    log, contract, interview = items["log"], items["contract"], items["interview"]
    hand_over(session, users, case, items, store)
    review(session, users["police_handler"], case, {log.id: RECOGNISE, contract.id: SUPPLEMENT, interview.id: REJECT})
    for round_ in (2, 3):
        act(session, users["police_liaison"], case.id, "approve_result", {"handoff_approved": True})
        supply = open_task(session, case.id, "supply_supplement")
        assert (supply.lane, supply.deadline_rule) == ("samr.handler", "3d")
        act(session, users["samr_handler"], case.id, "supply_supplement", {"supplement_note": f"第{round_ - 1}次补充"})
        act(session, users["samr_liaison"], case.id, "approve_supplement", OK)
        task = reviews(session, case)[contract.id]
        assert (engine.Term("Evidence", "supplement_round", {"round": round_ - 1}), f"第{round_ - 1}次补充") in engine.task_context(
            session, users["police_handler"], task)
        review(session, users["police_handler"], case, {contract.id: SUPPLEMENT})
    result = open_task(session, case.id, "approve_result")
    engine.claim_task(session, users["police_liaison"], result.id)
    with pytest.raises(engine.InvalidInput) as exc:
        engine.complete_task(session, users["police_liaison"], result.id,
                             {"handoff_approved": False, "comment": "再审一次"})
    assert "handoff_approved" in exc.value.errors
    engine.complete_task(session, users["police_liaison"], result.id, {"handoff_approved": True})
    assert [t.bpmn_id for t in open_tasks(session, case.id) if t.bpmn_id != "register_facts"] == \
        ["acknowledge_recognition"]
    assert [s["round"] for s in package(session, case).items[0].package.supplements] == [1, 2]
    entries = {e.evidence_id: e for e in package(session, case).items}
    assert (entries[contract.id].verdict, entries[contract.id].review_round) == ("supplement", 3)


def test_receiving_liaison_returns_the_result_for_a_second_review(session, users, store, case, items):
    hand_over(session, users, case, items, store)
    ids = [i.id for i in items.values()]
    review(session, users["police_handler"], case, dict.fromkeys(ids, REJECT))
    act(session, users["police_liaison"], case.id, "approve_result", {"handoff_approved": False, "comment": "重审"})
    assert "handoff_rejected" in event_types(session, case.id)
    review(session, users["police_handler"], case, {ids[0]: RECOGNISE, ids[1]: RECOGNISE, ids[2]: REJECT})
    act(session, users["police_liaison"], case.id, "approve_result", {"handoff_approved": True})
    assert {e.evidence_id: e.review_round for e in package(session, case).items} == dict.fromkeys(ids, 2)


def test_provider_liaison_refuses_the_handoff(session, users, store, case, items):
    start(session, users["samr_handler"], case, items=items)
    act(session, users["samr_liaison"], case.id, "approve_package_handoff",
        {"handoff_approved": False, "comment": "清单有误"})
    assert package(session, case).state == "refused"
    assert session.scalars(select(EvidenceCustody)).all() == []
    assert [t.bpmn_id for t in open_tasks(session, case.id)] == ["register_facts"], "only the transfer's task"
    assert "electronic_data_list" not in {d.kind for d in case_documents(session, users["samr_handler"], case.id)}


def test_the_receiving_agency_is_chosen_by_the_provider(session, users, store, case, items):
    start(session, users["samr_handler"], case, to="procuratorate", item_ids=[items["contract"].id])
    act(session, users["samr_liaison"], case.id, "approve_package_handoff", OK)
    assert open_task(session, case.id, "receive_package").lane == "procuratorate.liaison"
    act(session, users["procuratorate_liaison"], case.id, "receive_package", {"received": True})
    [task] = reviews(session, case).values()
    assert task.lane == "procuratorate.handler"
    engine.claim_task(session, users["procuratorate_handler"], task.id)
    engine.complete_task(session, users["procuratorate_handler"], task.id, RECOGNISE)
    act(session, users["procuratorate_liaison"], case.id, "approve_result", {"handoff_approved": True})
    assert package(session, case).items[0].verdict == "recognised"


def test_a_finished_review_still_says_what_it_was_about(session, users, store, case, items):
    # Finished review items leave the stored workflow state (engine/runtime/history.py); the page of such a
    # task then describes the package, with every verdict, from the domain rows.
    hand_over(session, users, case, items, store)
    log, contract, interview = items["log"], items["contract"], items["interview"]
    review(session, users["police_handler"], case, {log.id: RECOGNISE, contract.id: RECOGNISE, interview.id: REJECT})
    done = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.bpmn_id == "review_item",
                                                   HumanTask.state == "completed")).all()
    assert len(done) == 3
    named = []
    for task in done:
        context = engine.task_context(session, task.case.created_by, task)
        named.append(sorted(line[2] for line in context if len(line) == 3))
    # The item it reviewed (the last one merged stays in the state), or the whole package.
    package = sorted([log.id, contract.id, interview.id])
    assert sorted(len(n) for n in named) == [1, 3, 3] and named.count(package) == 2
