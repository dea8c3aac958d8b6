"""Clues before a case: registered by an agency or a service station with their attachments,
seen by their own agency and the triagers only, triaged into a case with the mechanisms chosen
or closed with reasons; and a second running instance of a mechanism needing a reason."""
from __future__ import annotations

import hashlib
import io

import pytest
from sqlalchemy import select

import engine
from engine import (
    EvidenceStore,
    Forbidden,
    InvalidInput,
    NotFound,
    clue_page,
    open_case,
    register_clue,
    start_mechanism,
    triage_clue,
    visible_clue,
)
from engine.errors import Conflict, EvidenceCorrupted
from models import AuditEvent, Clue, EvidenceItem, Notification, ProcessInstance, ProcessModel
from tests.helpers import event_types

SAMR = "samr"
CLUE = {"source": "complaint", "rights_holder": "某精密机械有限公司", "suspect": "前技术员甲",
        "summary": "甲离职后在竞争对手处使用公司的图纸", "loss_amount": "", "illegal_gain": "350000"}


@pytest.fixture
def store(session, tmp_path):
    store = EvidenceStore(tmp_path / "files", 1024 * 1024)
    session.info["evidence_store"] = store  # what the web app binds to every session
    return store


def _register(session, store, user, **changes):
    return register_clue(session, store, user, {**CLUE, **changes}, [(io.BytesIO(b"%PDF-1.4 drawing\n"), "图纸.pdf")])


def _keys(session, case_id):
    return sorted(session.scalars(select(ProcessModel.key).join(
        ProcessInstance, ProcessInstance.process_model_id == ProcessModel.id).where(ProcessInstance.case_id == case_id)))


def test_a_station_registers_a_clue_with_an_attachment_and_unknown_loss(session, users, store):
    clue = _register(session, store, users["station_intake"])
    assert clue.number.startswith("XS2026-") and clue.status == "pending"
    assert clue.agency.code == "station_demo" and clue.agency.kind == "service_station"
    assert clue.loss_amount is None and clue.illegal_gain == 350000  # unknown is not 0
    [attachment] = clue.attachments
    assert attachment.sha256 == hashlib.sha256(b"%PDF-1.4 drawing\n").hexdigest()
    assert attachment.content_type == "application/pdf"
    systems = session.scalars(select(AuditEvent.event_type).where(AuditEvent.case_id.is_(None))).all()
    assert "clue_registered" in systems


@pytest.mark.parametrize("changes, field", [
    ({"source": "rumour"}, "source"), ({"summary": "  "}, "summary"), ({"loss_amount": "-5"}, "loss_amount"),
    ({"illegal_gain": "30万"}, "illegal_gain"), ({"suspect": "甲" * 301}, "suspect"),
])
def test_bad_fields_are_named_and_nothing_is_written(session, users, store, changes, field):
    with pytest.raises(InvalidInput) as refused:
        _register(session, store, users["samr_handler"], **changes)
    assert field in refused.value.errors
    assert session.scalars(select(Clue)).all() == []
    assert list((store.root).glob("*")) == []  # the file written before the refusal is gone


@pytest.mark.parametrize("username", ["court_handler", "samr_liaison", "office_supervisor", "police_head"])
def test_only_handlers_of_three_agencies_and_station_staff_register(session, users, store, username):
    with pytest.raises(Forbidden):
        _register(session, store, users[username])


def test_station_staff_see_only_their_own_clues_and_never_a_case(session, users, store):
    own = _register(session, store, users["station_intake"])
    police = _register(session, store, users["police_handler"], source="report")
    station = users["station_intake"]
    assert [c.number for c in clue_page(session, station, SAMR).items] == [own.number]
    with pytest.raises(NotFound):
        visible_clue(session, station, police.id, SAMR)
    # The police see their own; SAMR (the triage agency) every clue; the supervisor every clue's status.
    assert [c.number for c in clue_page(session, users["police_handler"], SAMR).items] == [police.number]
    assert len(clue_page(session, users["samr_head"], SAMR).items) == 2
    seen = visible_clue(session, users["office_supervisor"], own.id, SAMR)
    assert seen.status == "pending" and seen.summary is None and seen.attachments == []
    case = open_case(session, users["samr_handler"], "站点不可见的案件").case
    assert engine.visible_cases(session, station) == []
    with pytest.raises(NotFound):
        engine.visible_case(session, station, case.id)
    assert not engine.policy.can_start_case(station)


def test_filters_by_status_and_source(session, users, store):
    _register(session, store, users["samr_handler"])
    _register(session, store, users["samr_handler"], source="inspection")
    head = users["samr_head"]
    assert [c.source for c in clue_page(session, head, SAMR, source="inspection").items] == ["inspection"]
    assert clue_page(session, head, SAMR, status="closed").total == 0
    with pytest.raises(InvalidInput) as refused:
        clue_page(session, head, SAMR, status="lost")
    assert "status" in refused.value.errors


def test_triage_opens_a_case_with_the_mechanisms_chosen(session, users, store):
    clue = _register(session, store, users["station_intake"])
    result = triage_clue(session, users["samr_handler"], clue.id, SAMR, "open", title="某精密机械公司图纸案",
                         mechanisms=["rights_protection"])
    case = result.opened.case
    assert clue.status == "opened" and clue.case_id == case.id and clue.triaged_by.username == "samr_handler"
    # No 立案协助 unless chosen.
    assert _keys(session, case.id) == ["rights_protection"]
    created = session.scalar(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                      AuditEvent.event_type == "case_created"))
    assert created.detail["clue"] == clue.number and created.detail["mechanisms"] == ["rights_protection"]
    assert engine.clue_of_case(session, users["samr_handler"], case.id, SAMR).number == clue.number
    # The station sees its clue's status, still not the case.
    assert visible_clue(session, users["station_intake"], clue.id, SAMR).status == "opened"
    with pytest.raises(NotFound):
        engine.visible_case(session, users["station_intake"], case.id)
    with pytest.raises(Conflict):
        triage_clue(session, users["samr_handler"], clue.id, SAMR, "close", reason="重复")
    assert engine.verify_audit(session) == []


def test_triage_with_transfer_and_no_mechanism_at_all(session, users, store):
    one, two = _register(session, store, users["police_handler"]), _register(session, store, users["samr_handler"])
    opened = triage_clue(session, users["samr_head"], one.id, SAMR, "open", title="立案协助",
                         mechanisms=["case_transfer"]).opened
    assert _keys(session, opened.case.id) == ["case_transfer"]
    assert [t.bpmn_id for t in opened.tasks] == ["register_facts"]
    bare = triage_clue(session, users["samr_handler"], two.id, SAMR, "open", title="仅行政处理", mechanisms=[]).opened
    assert _keys(session, bare.case.id) == [] and bare.tasks == []


def test_closing_needs_reasons_and_triage_is_the_triage_agencys(session, users, store):
    clue = _register(session, store, users["samr_handler"])
    with pytest.raises(InvalidInput) as refused:
        triage_clue(session, users["samr_handler"], clue.id, SAMR, "close", reason=" ")
    assert "reason" in refused.value.errors and clue.status == "pending"
    with pytest.raises(InvalidInput) as refused:
        triage_clue(session, users["samr_handler"], clue.id, SAMR, "open", title="x", mechanisms=["procuratorial_opinion"])
    assert "mechanisms" in refused.value.errors
    with pytest.raises(InvalidInput) as refused:
        triage_clue(session, users["samr_handler"], clue.id, SAMR, "open", title="", mechanisms=[])
    assert "title" in refused.value.errors
    assert session.scalars(select(ProcessInstance)).all() == []
    police_clue = _register(session, store, users["police_handler"])
    with pytest.raises(Forbidden):
        triage_clue(session, users["police_handler"], police_clue.id, SAMR, "close", reason="不属实")
    triage_clue(session, users["samr_handler"], clue.id, SAMR, "close", reason="不构成商业秘密")
    assert clue.status == "closed" and clue.triage_reason == "不构成商业秘密" and clue.case_id is None
    # Triage by another agency when configured so: the police open a case of their own.
    opened = triage_clue(session, users["police_head"], police_clue.id, "police", "open", title="公安研判",
                         mechanisms=[]).opened
    assert opened.case.owner_agency.code == "police"


def test_attachments_are_checked_on_every_read(session, users, store):
    clue = _register(session, store, users["station_intake"])
    attachment = clue.attachments[0]
    opened = engine.open_clue_attachment(session, store, users["samr_handler"], clue.id, attachment.id, SAMR)
    assert opened.stream.read() == b"%PDF-1.4 drawing\n"
    opened.stream.close()
    with pytest.raises(NotFound):
        engine.open_clue_attachment(session, store, users["office_supervisor"], clue.id, attachment.id, SAMR)
    store.path(attachment.storage_name).write_bytes(b"changed")
    with pytest.raises(EvidenceCorrupted):
        engine.open_clue_attachment(session, store, users["station_intake"], clue.id, attachment.id, SAMR)
    assert session.scalar(select(AuditEvent.id).where(AuditEvent.event_type == "clue_attachment_integrity_failed"))


def test_a_second_running_instance_needs_a_reason(session, users):
    case = open_case(session, users["samr_handler"], "投诉案", mechanisms=["rights_protection"]).case
    with pytest.raises(InvalidInput) as refused:
        start_mechanism(session, users["samr_handler"], case.id, "rights_protection")
    assert "confirm_reason" in refused.value.errors
    assert _keys(session, case.id) == ["rights_protection"]
    again = start_mechanism(session, users["samr_handler"], case.id, "rights_protection",
                            confirm_reason="权利人就另一项秘密再次投诉")
    assert _keys(session, case.id) == ["rights_protection", "rights_protection"]
    [confirmed] = engine.duplicate_starts(session, users["samr_handler"], case)
    assert confirmed.detail["reason"] == "权利人就另一项秘密再次投诉" and confirmed.instance_id == again.id
    assert "mechanism_duplicate_confirmed" in event_types(session, case.id)
    # A different mechanism needs no reason; supervisors do not read the reasons.
    start_mechanism(session, users["samr_handler"], case.id, "consultation")
    assert engine.duplicate_starts(session, users["office_supervisor"], case) == []


def test_opening_a_case_chooses_its_mechanisms(session, users):
    handler = users["samr_handler"]
    keys = {m.key for m in engine.opening_mechanisms(session, handler)}
    assert {"case_transfer", "rights_protection", "consultation", "penalty_disclosure"} <= keys
    assert "filing_supervision" not in keys
    opened = open_case(session, handler, "两项机制", mechanisms=["case_transfer", "consultation", "case_transfer"])
    assert _keys(session, opened.case.id) == ["case_transfer", "consultation"]
    with pytest.raises(InvalidInput) as refused:
        open_case(session, handler, "不可启动", mechanisms=["filing_supervision"])
    assert "mechanisms" in refused.value.errors
    # Without a choice the case starts 立案协助, as before.
    assert _keys(session, open_case(session, handler, "默认").case.id) == ["case_transfer"]


def _files(store) -> list[str]:
    return sorted(path.name for path in store.root.iterdir())


def test_the_attachments_become_the_cases_evidence(session, users, store):
    station, handler = users["station_intake"], users["samr_handler"]
    clue = _register(session, store, station)
    engine.add_clue_attachment(session, store, station, clue.id, SAMR, io.BytesIO(b"ID3 recording"), "录音.mp3")
    drawing, recording = clue.attachments
    stored = _files(store)
    result = triage_clue(session, handler, clue.id, SAMR, "open", title="某精密机械公司图纸案", confidentiality="internal",
                         mechanisms=[], store=store)
    case = result.opened.case
    items = engine.list_evidence(session, handler, case.id)
    assert [i.id for i in items] == [i.id for i in result.evidence]
    assert [(i.storage_name, i.sha256, i.size, i.original_name) for i in items] == [
        (a.storage_name, a.sha256, a.size, a.original_name) for a in (drawing, recording)]
    assert _files(store) == stored  # the items refer to the attachments' files: no bytes copied
    assert [i.kind for i in items] == ["electronic_data", "audio_visual"]
    for item in items:
        assert item.owner_agency.code == "samr" and item.uploaded_by_id == handler.id
        assert clue.number in item.source and "服务站" in item.source and clue.number in item.description
        assert item.confidential and item.collector_1 == station.display_name and item.corrupted_at is None
    # The file opens as the case's evidence, re-hashed, for the triager.
    opened = engine.open_evidence(session, store, handler, items[0].id)
    assert opened.stream.read() == b"%PDF-1.4 drawing\n"
    opened.stream.close()
    added = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                     AuditEvent.event_type == "evidence_added")).all()
    assert [(e.detail["clue_id"], e.detail["attachment_id"]) for e in added] == [
        (clue.id, drawing.id), (clue.id, recording.id)]
    triaged = session.scalar(select(AuditEvent).where(AuditEvent.event_type == "clue_triaged"))
    assert triaged.detail["evidence_ids"] == [i.id for i in items]
    # The clue links to the items for those who see the case; the station sees neither.
    assert {a: i.id for a, i in engine.evidence_of_clue(session, handler, clue.id, SAMR).items()} == {
        drawing.id: items[0].id, recording.id: items[1].id}
    assert engine.evidence_of_clue(session, station, clue.id, SAMR) == {}
    assert engine.verify_audit(session) == []


def test_a_damaged_attachment_is_carried_over_as_damaged(session, users, store):
    clue = _register(session, store, users["station_intake"])
    store.path(clue.attachments[0].storage_name).write_bytes(b"changed")
    result = triage_clue(session, users["samr_handler"], clue.id, SAMR, "open", title="图纸案", mechanisms=[])
    [item] = result.evidence
    assert item.corrupted_at is not None and item.corrupted_sha256 == hashlib.sha256(b"changed").hexdigest()
    assert "evidence_integrity_failed" in event_types(session, item.case_id)
    told = session.scalars(select(Notification).where(Notification.kind == "evidence_damaged")).all()
    assert [n.recipient.username for n in told] == ["office_supervisor"]
    with pytest.raises(EvidenceCorrupted):
        engine.open_evidence(session, store, users["samr_handler"], item.id)


def test_without_an_evidence_store_nothing_is_triaged(session, users, store):
    clue = _register(session, store, users["station_intake"])
    del session.info["evidence_store"]
    with pytest.raises(engine.EngineError):
        triage_clue(session, users["samr_handler"], clue.id, SAMR, "open", title="图纸案", mechanisms=[])
    session.refresh(clue)
    assert clue.status == "pending" and clue.case_id is None
    assert session.scalars(select(EvidenceItem)).all() == []
