"""Evidence of any file type: source code and unknown binaries are accepted, their type is
recorded from the content but never used to serve them, the server computes the SHA-256, and a
typed SHA-256 is optional (electronic data too) but compared when given."""
from __future__ import annotations

import hashlib

import pytest

from tests.web.test_api import api, assert_problem, open_case  # noqa: F401 - the api fixture

from .helpers import create_case, text
from .test_api_evidence import FIELDS as API_FIELDS
from .test_api_evidence import upload as api_upload
from .test_evidence import items, upload

SOURCE = b'#include <stdio.h>\nint main(void) { puts("secret recipe"); return 0; }\n'
SCRIPT = "# 配方计算\ndef mix(a, b):\n    return a * 0.3 + b\n".encode()
BINARY = b"\x7fELF\x02\x01\x01\x00" + bytes(range(256))


@pytest.mark.parametrize("content, name, recorded", [
    (SOURCE, "recipe.c", "text/plain"),
    (SCRIPT, "mix.py", "text/plain"),
    (BINARY, "tool", "application/octet-stream"),
    (b"<html><script>alert(1)</script></html>", "page.html", "text/plain"),
], ids=["c", "py", "elf", "html"])
def test_any_file_is_accepted_and_served_as_an_opaque_attachment(app, client_for, content, name, recorded):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    response = upload(handler, case_id, content, name, kind="electronic_data")
    assert response.status_code == 303, text(response)
    [item] = items(app)
    assert item.original_name == name and item.content_type == recorded
    assert item.sha256 == hashlib.sha256(content).hexdigest() and item.declared_sha256 is None
    download = handler.get(f"/cases/{case_id}/evidence/{item.id}/download")
    assert download.status_code == 200 and download.data == content
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers.getlist("Content-Security-Policy") == ["default-src 'none'; sandbox"]


def test_a_typed_sha256_is_compared_in_any_case(app, client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    wrong = upload(handler, case_id, SOURCE, "recipe.c", declared_sha256="ab" * 32)
    assert wrong.status_code == 422
    field = text(wrong).split('id="field-declared_sha256"', 1)[1].split("</div>", 1)[0]
    assert "与文件不符" in field and hashlib.sha256(SOURCE).hexdigest() in field
    assert items(app) == []
    typed = hashlib.sha256(SOURCE).hexdigest().upper()
    assert upload(handler, case_id, SOURCE, "recipe.c", kind="electronic_data",
                  declared_sha256=typed).status_code == 303
    [item] = items(app)
    assert item.declared_sha256 == item.sha256 == typed.lower()


def test_the_api_takes_source_code_and_compares_a_typed_hash(app, api):
    case = open_case(api)
    handler = api("samr_handler")
    created = api_upload(handler, case["id"], {**API_FIELDS, "kind": "electronic_data"}, SOURCE, "recipe.c")
    assert created.status_code == 201, created.get_data(as_text=True)
    item = created.get_json()
    assert item["content_type"] == "text/plain" and item["original_name"] == "recipe.c"
    assert item["sha256"] == hashlib.sha256(SOURCE).hexdigest() and item["declared_sha256"] is None
    body = assert_problem(api_upload(handler, case["id"], {**API_FIELDS, "declared_sha256": "0" * 64},
                                     SOURCE, "recipe.c"), 422, "invalid-input")
    assert list(body["errors"]) == ["declared_sha256"]
