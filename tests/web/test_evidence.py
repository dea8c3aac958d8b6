"""The evidence section of the case page: upload, list, item page and download, with what each
kind of user may see, and hostile or broken uploads refused with nothing stored."""
from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import EvidenceItem
from web.db import db

from .helpers import create_case, csrf_token, post, text

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"
FIELDS = {"kind": "documentary", "description": "权利人提供的配方文件", "source": "权利人提交",
          "collected_at": "2026-03-01T10:00", "collector_1": "王承办", "collector_2": "李承办",
          "confidential": "true"}


def upload(client, case_id: int, content: bytes = PDF, name: str = "配方.pdf", **fields):
    data = {"csrf_token": csrf_token(client, f"/cases/{case_id}"), **FIELDS, **fields}
    if content is not None:
        data["file"] = (io.BytesIO(content), name)
    return client.post(f"/cases/{case_id}/evidence", data=data, content_type="multipart/form-data")


def items(app) -> list[EvidenceItem]:
    with db.new_session(app) as session:
        rows = list(session.scalars(select(EvidenceItem).order_by(EvidenceItem.id)))
        session.expunge_all()
        return rows


def stored_files(app) -> list[Path]:
    folder = Path(app.config["EVIDENCE_DIR"])
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.fixture
def case_with_item(app, client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    response = upload(handler, case_id)
    assert response.status_code == 303, text(response)
    [item] = items(app)
    return handler, case_id, item


def test_handler_uploads_and_downloads_with_safe_headers(app, case_with_item):
    handler, case_id, item = case_with_item
    assert item.sha256 == hashlib.sha256(PDF).hexdigest() and item.content_type == "application/pdf"
    [path] = stored_files(app)
    assert path.name == item.storage_name and re.fullmatch(r"[0-9a-f]{32}", path.name)
    assert not str(path).startswith(str(Path(app.static_folder)))
    page = text(handler.get(f"/cases/{case_id}"))
    assert "证据已添加。" in page and "权利人提供的配方文件" in page
    download = f"/cases/{case_id}/evidence/{item.id}/download"
    assert f'href="{download}"' in page

    response = handler.get(download)
    assert response.status_code == 200 and response.data == PDF
    # The recorded type describes the file; the download is opaque whatever it is.
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E9%85%8D%E6%96%B9.pdf" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    # The download's own policy, not the pages' one beside it.
    assert response.headers.getlist("Content-Security-Policy") == ["default-src 'none'; sandbox"]

    assert handler.get(f"/cases/{case_id}/evidence/{item.id}").status_code == 200
    events = re.findall(r'data-event="([a-z_]+)"', text(handler.get(f"/cases/{case_id}")))
    assert events[-3:] == ["evidence_added", "evidence_downloaded", "evidence_viewed"]


def test_supervisor_sees_metadata_but_not_the_file(app, case_with_item, client_for):
    _, case_id, item = case_with_item
    supervisor = client_for("office_supervisor")
    page = text(supervisor.get(f"/cases/{case_id}"))
    # Kind and type, not the description or the file name (need to know: test_evidence_need_to_know.py).
    assert "权利人提供的配方文件" not in page and "配方.pdf" not in page and "application/pdf" in page
    assert "/download" not in page and "受限" in page
    assert f'action="/cases/{case_id}/evidence"' not in page  # no upload form
    assert "/download" not in text(supervisor.get(f"/cases/{case_id}/evidence/{item.id}"))
    assert supervisor.get(f"/cases/{case_id}/evidence/{item.id}/download").status_code == 403


@pytest.mark.parametrize("username", ["police_handler", "procuratorate_head", "court_liaison"])
def test_agencies_not_party_learn_nothing(app, case_with_item, client_for, username):
    _, case_id, item = case_with_item
    outsider = client_for(username)
    for path in (f"/cases/{case_id}/evidence/{item.id}", f"/cases/{case_id}/evidence/{item.id}/download",
                 f"/cases/{case_id}/evidence/999999/download"):
        assert outsider.get(path).status_code == 404, path
    assert upload(outsider, case_id).status_code == 404
    assert len(items(app)) == 1


def test_same_agency_handler_not_on_the_case_cannot_open_confidential_files(case_with_item, client_for):
    _, case_id, item = case_with_item
    other = client_for("samr_handler2")
    assert "/download" not in text(other.get(f"/cases/{case_id}"))
    assert other.get(f"/cases/{case_id}/evidence/{item.id}/download").status_code == 403


def test_evidence_of_another_case_is_not_found_under_this_one(app, case_with_item):
    handler, _case_id, item = case_with_item
    other_case = create_case(handler, title="另一案件")
    assert handler.get(f"/cases/{other_case}/evidence/{item.id}").status_code == 404
    assert handler.get(f"/cases/{other_case}/evidence/{item.id}/download").status_code == 404


def test_a_tampered_file_is_refused_with_409_and_recorded(app, case_with_item):
    handler, case_id, item = case_with_item
    [path] = stored_files(app)
    path.write_bytes(PDF.replace(b"1.7", b"1.6"))
    response = handler.get(f"/cases/{case_id}/evidence/{item.id}/download")
    assert response.status_code == 409, "a damaged file is a state of the item, not a server fault"
    assert "与上传时记录的 SHA-256 不符" in text(response) and b"%PDF-1.6" not in response.data
    assert 'data-event="evidence_integrity_failed"' in text(handler.get(f"/cases/{case_id}"))


def test_script_in_a_description_is_shown_as_text(app, client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    assert upload(handler, case_id, description="<script>alert(1)</script>",
                  source='"><img src=x onerror=alert(2)>').status_code == 303
    [item] = items(app)
    for path in (f"/cases/{case_id}", f"/cases/{case_id}/evidence/{item.id}"):
        html = text(handler.get(path))
        assert "<script>" not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("content, name, field, message", [
    (b"", "empty.pdf", "file", "文件为空"),
    (b"PK\x03\x04not really a zip", "x.zip", "file", "已损坏"),
], ids=["empty", "broken_zip"])
def test_malformed_uploads_are_refused_with_a_field_error(app, client_for, content, name, field, message):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    response = upload(handler, case_id, content, name)
    assert response.status_code == 422
    html = text(response)
    assert message in html.split(f'id="field-{field}"', 1)[1].split("</div>", 1)[0]
    assert 'value="权利人提交"' in html  # what was typed is kept
    assert items(app) == [] and stored_files(app) == []


@pytest.mark.parametrize("fields, errors", [
    ({"kind": "rumour", "description": " ", "collector_2": "王承办"}, ["kind", "description", "collector_2"]),
    ({"collected_at": "yesterday"}, ["collected_at"]),
    ({"collected_at": "2030-01-01T00:00"}, ["collected_at"]),
    ({"declared_sha256": "abc"}, ["declared_sha256"]),
    ({"declared_sha256": "0" * 64}, ["declared_sha256"]),
])
def test_invalid_metadata_gets_field_errors_and_stores_nothing(app, client_for, fields, errors):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    response = upload(handler, case_id, **fields)
    assert response.status_code == 422
    html = text(response)
    for name in errors:
        assert 'class="error"' in html.split(f'id="field-{name}"', 1)[1].split("</div>", 1)[0], name
    assert items(app) == [] and stored_files(app) == []


@pytest.mark.parametrize("name, stored_as", [
    ("../../etc/passwd", "passwd.txt"),
    # The multipart parser reads a backslash in a quoted file name as an escape, so the
    # separators are gone before the engine sees it (tests/engine covers "\\" itself).
    ("..\\..\\windows\\x.txt", "windowsx.txt"),
    ("a\x00b.txt", "ab.txt"),
    ("n" * 400 + ".txt", "n" * 116 + ".txt"),
    ("photo\u202egnp.txt", "photognp.txt"),
])
def test_hostile_file_names_are_neutralised(app, client_for, name, stored_as):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    assert upload(handler, case_id, "证据文本\n".encode(), name).status_code == 303
    [item] = items(app)
    assert item.original_name == stored_as
    [path] = stored_files(app)
    assert path.parent == Path(app.config["EVIDENCE_DIR"]) and path.name == item.storage_name
    response = handler.get(f"/cases/{case_id}/evidence/{item.id}/download")
    assert "/" not in response.headers["Content-Disposition"].split("filename", 1)[1]
    assert response.headers["Content-Type"] == "application/octet-stream"


def test_oversized_uploads_get_413_and_store_nothing(app, client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    app.extensions["liandong_evidence_store"].max_bytes = 1000
    response = upload(handler, case_id, b"%PDF-" + b"0" * 2000)
    assert response.status_code == 413 and "文件过大" in text(response)
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    response = upload(handler, case_id, b"%PDF-" + b"0" * 20_000)
    assert response.status_code == 413
    assert items(app) == [] and stored_files(app) == []
    with db.new_session(app) as session:
        assert session.scalar(select(func.count()).select_from(EvidenceItem)) == 0


def test_upload_without_csrf_token_is_rejected(app, client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    response = handler.post(f"/cases/{case_id}/evidence", content_type="multipart/form-data",
                            data={**FIELDS, "file": (io.BytesIO(PDF), "x.pdf")})
    assert response.status_code == 400 and items(app) == []


def test_item_without_a_file_and_the_form_on_the_case_page(app, client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    html = text(handler.get(f"/cases/{case_id}"))
    assert 'enctype="multipart/form-data"' in html and html.count("<form") == html.count('name="csrf_token"')
    assert upload(handler, case_id, None, kind="physical").status_code == 303
    [item] = items(app)
    assert item.storage_name is None and item.sha256 is None
    assert handler.get(f"/cases/{case_id}/evidence/{item.id}/download").status_code == 404
    assert post(handler, f"/cases/{case_id}/evidence/{item.id}/hand-over", {"to_agency": "police"},
                token_from=f"/cases/{case_id}").status_code == 403
