"""A damaged evidence file is a state of its item: the first read that finds the stored file
changed (or gone) marks the item, every such read is audited, the evidence page, the case page
and the API say so, nothing is served, and a file restored from a backup clears it."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

import engine
from models import AuditEvent, EvidenceItem, case_chain
from web.db import db
from web.errors import status_of

from .helpers import create_case, text
from .test_api import api  # noqa: F401 - the api fixture
from .test_evidence import PDF, items, upload


@pytest.fixture
def damaged(app, client_for):
    """A case with one item whose stored file was then overwritten on disk."""
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    assert upload(handler, case_id).status_code == 303
    [item] = items(app)
    path = Path(app.config["EVIDENCE_DIR"]) / item.storage_name
    path.write_bytes(PDF.replace(b"1.7", b"1.4"))
    return handler, case_id, item, path


def row(app, item_id: int) -> EvidenceItem:
    with db.new_session(app) as session:
        found = session.get(EvidenceItem, item_id)
        session.expunge(found)
        return found


def failures(app, case_id: int) -> list[AuditEvent]:
    with db.new_session(app) as session:
        return session.scalars(select(AuditEvent).where(
            AuditEvent.chain == case_chain(case_id), AuditEvent.event_type == "evidence_integrity_failed")).all()


def test_the_first_failed_read_marks_the_item_and_every_one_is_audited(app, damaged, clock):
    handler, case_id, item, _path = damaged
    assert row(app, item.id).corrupted_at is None
    first = handler.get(f"/cases/{case_id}/evidence/{item.id}/download")
    assert first.status_code == status_of(engine.EvidenceCorrupted("")) and first.data != PDF
    marked = row(app, item.id)
    assert marked.corrupted_at == clock.now() and len(marked.corrupted_sha256) == 64
    clock.advance(hours=1)
    handler.get(f"/cases/{case_id}/evidence/{item.id}/download")
    assert row(app, item.id).corrupted_at == marked.corrupted_at  # the first detection stays
    assert [e.detail["found"] for e in failures(app, case_id)] == [marked.corrupted_sha256] * 2


def test_pages_and_api_show_the_damage(app, damaged, client_for, api):
    handler, case_id, item, _path = damaged
    handler.get(f"/cases/{case_id}/evidence/{item.id}/download")
    page = text(handler.get(f"/cases/{case_id}/evidence/{item.id}"))
    assert "已损坏" in page and "corrupted-notice" in page
    assert f"/cases/{case_id}/evidence/{item.id}/download" not in page
    case_page = text(handler.get(f"/cases/{case_id}"))
    assert "已损坏" in case_page and f"evidence/{item.id}/download" not in case_page
    assert "已损坏" in text(client_for("office_supervisor").get(f"/cases/{case_id}"))
    body = api("samr_handler").get(f"/evidence/{item.id}").get_json()
    assert body["corrupted"] is True and body["corrupted_at"]
    download = api("samr_handler").get(f"/evidence/{item.id}/file")
    assert download.status_code == status_of(engine.EvidenceCorrupted("")) and download.mimetype == "application/problem+json"


def test_a_missing_file_is_damage_too(app, damaged):
    handler, case_id, item, path = damaged
    path.unlink()
    handler.get(f"/cases/{case_id}/evidence/{item.id}/download")
    marked = row(app, item.id)
    assert marked.corrupted_at is not None and marked.corrupted_sha256 is None
    assert "文件缺失" in text(handler.get(f"/cases/{case_id}/evidence/{item.id}"))


def test_a_file_restored_from_a_backup_clears_the_state(app, damaged):
    handler, case_id, item, path = damaged
    handler.get(f"/cases/{case_id}/evidence/{item.id}/download")
    path.write_bytes(PDF)  # the administrator restores it
    restored = handler.get(f"/cases/{case_id}/evidence/{item.id}/download")
    assert restored.status_code == 200 and restored.data == PDF
    assert row(app, item.id).corrupted_at is None
    with db.new_session(app) as session:
        kinds = session.scalars(select(AuditEvent.event_type).where(AuditEvent.chain == case_chain(case_id))).all()
    assert kinds[-3:] == ["evidence_integrity_failed", "evidence_integrity_restored", "evidence_downloaded"]
    assert "已损坏" not in text(handler.get(f"/cases/{case_id}/evidence/{item.id}"))
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).output == "OK\n"
