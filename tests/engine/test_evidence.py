"""Evidence items through the engine: stored under generated names with their hash, typed by
content, re-hashed on every read and handoff, every step one transaction with its audit event."""
from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from sqlalchemy import func, select

import engine
from engine.casework.evidence_files import UnsupportedFile, detect_type, neutral_name
from models import EvidenceItem
from tests.conftest import START
from tests.helpers import APPROVE_HANDOFF, APPROVE_TRANSFER, FACTS_500K, RECEIPT, act, event_types

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"
FIELDS = {"kind": "electronic_data", "description": "服务器日志", "source": "现场提取",
          "collected_at": START, "collector_1": "王承办", "collector_2": "李承办",
          "declared_sha256": hashlib.sha256(PDF).hexdigest(), "confidential": True}


@pytest.fixture
def store(tmp_path):
    return engine.EvidenceStore(tmp_path / "evidence", 4096)


@pytest.fixture
def case(session, users):
    return engine.create_case(session, users["samr_handler"], "证据测试案件")


def add(session, store, user, case, content=PDF, name="日志.pdf", **fields):
    return engine.add_evidence(session, store, user, case.id, {**FIELDS, **fields}, io.BytesIO(content), name)


def test_upload_is_stored_hashed_typed_and_audited(session, users, store, case):
    item = add(session, store, users["samr_handler"], case)
    assert (item.sha256, item.size, item.content_type) == (hashlib.sha256(PDF).hexdigest(), len(PDF), "application/pdf")
    assert item.original_name == "日志.pdf" and item.owner_agency.code == "samr"
    assert [p.name for p in store.root.iterdir()] == [item.storage_name]
    assert (store.root / item.storage_name).read_bytes() == PDF
    assert event_types(session, case.id)[-1] == "evidence_added"

    opened = engine.open_evidence(session, store, users["samr_handler"], item.id)
    assert opened.stream.read() == PDF and opened.name == "日志.pdf"
    assert event_types(session, case.id)[-1] == "evidence_downloaded"
    assert engine.verify_audit(session, case.id) == []


def test_a_changed_file_is_reported_and_never_served(session, users, store, case):
    item = add(session, store, users["samr_handler"], case)
    (store.root / item.storage_name).write_bytes(PDF + b"x")
    with pytest.raises(engine.EvidenceCorrupted):
        engine.open_evidence(session, store, users["samr_handler"], item.id)
    assert event_types(session, case.id)[-1] == "evidence_integrity_failed"
    (store.root / item.storage_name).unlink()
    with pytest.raises(engine.EvidenceCorrupted):
        engine.open_evidence(session, store, users["samr_handler"], item.id)


def test_refused_uploads_leave_nothing_behind(session, users, store, case):
    handler = users["samr_handler"]
    with pytest.raises(engine.TooLarge):
        add(session, store, handler, case, content=b"%PDF-" + b"0" * 5000)
    with pytest.raises(engine.InvalidInput) as exc:
        add(session, store, handler, case, declared_sha256="0" * 64)
    assert "declared_sha256" in exc.value.errors
    with pytest.raises(engine.InvalidInput) as exc:
        add(session, store, handler, case, kind="hearsay", collector_2="王承办", description=" ")
    assert set(exc.value.errors) == {"kind", "collector_2", "description"}
    with pytest.raises(engine.Forbidden):
        add(session, store, users["samr_head"], case)
    with pytest.raises(engine.NotFound):
        add(session, store, users["police_handler"], case)
    assert session.scalar(select(func.count()).select_from(EvidenceItem)) == 0
    assert not store.root.exists() or not any(store.root.iterdir())
    assert "evidence_added" not in event_types(session, case.id)


def test_handoff_is_signed_by_both_liaisons_and_opens_the_file_to_them(session, users, store, case):
    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    act(session, users["samr_liaison"], case.id, "approve_outgoing_handoff", APPROVE_HANDOFF)
    act(session, users["police_liaison"], case.id, "accept_receipt", RECEIPT)
    item = add(session, store, users["samr_handler"], case)
    with pytest.raises(engine.Forbidden):
        engine.open_evidence(session, store, users["police_liaison"], item.id)
    with pytest.raises(engine.Forbidden):
        engine.hand_over_evidence(session, store, users["police_liaison"], item.id, "police")
    with pytest.raises(engine.InvalidInput):
        engine.hand_over_evidence(session, store, users["samr_liaison"], item.id, "court")
    custody = engine.hand_over_evidence(session, store, users["samr_liaison"], item.id, "police", "移交")
    with pytest.raises(engine.Conflict):
        engine.hand_over_evidence(session, store, users["samr_liaison"], item.id, "police")
    with pytest.raises(engine.Forbidden):
        engine.receive_evidence(session, store, users["samr_liaison"], custody.id)
    engine.receive_evidence(session, store, users["police_liaison"], custody.id)
    with pytest.raises(engine.Conflict):
        engine.receive_evidence(session, store, users["police_liaison"], custody.id)
    assert (custody.state, custody.sha256) == ("received", item.sha256)
    assert engine.open_evidence(session, store, users["police_liaison"], item.id).stream.read() == PDF
    assert event_types(session, case.id)[-3:] == ["evidence_handed_over", "evidence_received", "evidence_downloaded"]


def test_handoff_of_a_changed_file_is_refused(session, users, store, case):
    item = add(session, store, users["samr_handler"], case)
    (store.root / item.storage_name).write_bytes(b"%PDF-forged")
    with pytest.raises(engine.EvidenceCorrupted):
        engine.hand_over_evidence(session, store, users["samr_liaison"], item.id, "samr")
    assert event_types(session, case.id)[-1] == "evidence_integrity_failed"


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize("content, expected", [
    (PDF, "application/pdf"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 8, "image/png"),
    (b"\xff\xd8\xff\xe0" + b"\0" * 8, "image/jpeg"),
    (_zip({"a.txt": b"x"}), "application/zip"),
    (_zip({"[Content_Types].xml": b"", "word/document.xml": b""}),
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (_zip({"[Content_Types].xml": b"", "xl/workbook.xml": b""}),
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (b"\0\0\0\x18ftypmp42" + b"\0" * 8, "video/mp4"),
    (b"ID3\x04" + b"\0" * 8, "audio/mpeg"),
    ("笔录：\t一二三\r\n".encode(), "text/plain"),
])
def test_types_are_detected_from_content(tmp_path, content, expected):
    path = tmp_path / "f"
    path.write_bytes(content)
    assert detect_type(path) == expected


@pytest.mark.parametrize("content", [b"MZ\x90\0binary", b"text\x00with nul", b"\xc3\x28"])
def test_other_content_is_recorded_as_opaque_bytes(tmp_path, content):
    path = tmp_path / "f"
    path.write_bytes(content)
    assert detect_type(path) == "application/octet-stream"


def test_a_broken_zip_archive_is_refused(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"PK\x03\x04broken")
    with pytest.raises(UnsupportedFile):
        detect_type(path)


@pytest.mark.parametrize("given, expected", [
    ("../../etc/passwd", "passwd.txt"),
    ("..\\..\\x.txt", "x.txt"),
    ("a\x00b\x1f.txt", "ab.txt"),
    ("\u202etxt.exe", "txt.exe"),  # the override is gone, so the name shows what it is
    ("photo\u202egnp.txt", "photognp.txt"),
    ("..", "evidence.txt"),
    ("", "evidence.txt"),
    ('con<>:"|?*.TXT', "con_______.txt"),
    ("x" * 500 + ".txt", "x" * 116 + ".txt"),
])
def test_names_are_neutralised(given, expected):
    assert neutral_name(given, "text/plain") == expected
