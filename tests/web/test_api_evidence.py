"""Evidence through the API: multipart upload, list, view, download, hand-over and receipt,
with the same policy and audit events as the pages."""
from __future__ import annotations

import hashlib
import io

from engine import verify_audit
from tests.web.test_api import api, assert_problem, open_case  # noqa: F401 - the api fixture
from web.db import db

from .api_helpers import TRANSFER_STEPS

CONTENT = "甲离职时拷贝的配方文件清单\n".encode()
FIELDS = {"kind": "documentary", "description": "配方文件清单", "source": "权利人提供",
          "collected_at": "2026-03-01T10:00:00+08:00", "collector_1": "王承办", "collector_2": "李承办"}


def upload(client, case_id: int, fields=FIELDS, content=CONTENT, name="清单.txt"):
    data = {**fields}
    if content is not None:
        data["file"] = (io.BytesIO(content), name)
    return client.client.post(f"/api/v1/cases/{case_id}/evidence", data=data, headers=client.headers,
                              content_type="multipart/form-data")


def walk(api, case_id: int, steps) -> None:
    for username, bpmn_id, data in steps:
        client = api(username)
        task = client.task_of(case_id, bpmn_id)
        assert client.post(f"/tasks/{task['id']}/claim").status_code == 200
        assert client.post(f"/tasks/{task['id']}/complete", {"data": data}).status_code == 200


def test_evidence_from_upload_to_another_agency(app, api):
    case = open_case(api)
    handler = api("samr_handler")
    created = upload(handler, case["id"])
    assert created.status_code == 201, created.get_data(as_text=True)
    item = created.get_json()
    assert item["sha256"] == hashlib.sha256(CONTENT).hexdigest() and item["confidential"] is True
    assert item["content_type"] == "text/plain" and item["custody"] == []
    assert [i["id"] for i in handler.get(f"/cases/{case['id']}/evidence").get_json()] == [item["id"]]
    assert handler.get(f"/evidence/{item['id']}").get_json()["original_name"] == item["original_name"]

    assert_problem(api("police_handler").get(f"/evidence/{item['id']}"), 404, "not-found")
    # Confidential: only handlers assigned to the case open the file.
    assert_problem(api("samr_handler2").get(f"/evidence/{item['id']}/file"), 403, "forbidden")
    walk(api, case["id"], TRANSFER_STEPS[:3])  # the police get the receipt task: now a party
    file = handler.get(f"/evidence/{item['id']}/file")
    assert file.status_code == 200 and file.data == CONTENT
    assert file.headers["Cache-Control"] == "no-store"
    walk(api, case["id"], TRANSFER_STEPS[3:4])
    custody = api("samr_liaison").post(f"/evidence/{item['id']}/hand-over", {"to_agency": "police", "note": "随案移送"})
    assert custody.status_code == 201 and custody.get_json()["state"] == "pending"
    assert_problem(api("samr_liaison").post(f"/evidence/{item['id']}/hand-over", {"to_agency": "police"}),
                   409, "conflict")
    assert_problem(api("samr_liaison").post(f"/evidence/{item['id']}/hand-over", {"to_agency": "court"}),
                   422, "invalid-input")
    custody_id = custody.get_json()["id"]
    assert_problem(api("police_handler").post(f"/evidence/custody/{custody_id}/receive"), 403, "forbidden")
    received = api("police_liaison").post(f"/evidence/custody/{custody_id}/receive")
    assert received.status_code == 200 and received.get_json()["received_by"] == "police_liaison"
    assert_problem(api("police_liaison").post(f"/evidence/custody/{custody_id}/receive"), 409, "conflict")
    # The police hold it now, but their handler has no task of the case yet.
    assert_problem(api("police_handler").get(f"/evidence/{item['id']}/file"), 403, "forbidden")
    walk(api, case["id"], TRANSFER_STEPS[4:5])
    assert api("police_handler").get(f"/evidence/{item['id']}/file").data == CONTENT

    timeline = [e["event_type"] for e in handler.get(f"/cases/{case['id']}/timeline").get_json()]
    for event in ("evidence_added", "evidence_viewed", "evidence_downloaded", "evidence_handed_over",
                  "evidence_received"):
        assert event in timeline, event
    with db.new_session(app) as session:
        assert verify_audit(session, case["id"]) == []


def test_uploads_are_checked_by_the_engine(api):
    case = open_case(api)
    handler = api("samr_handler")
    body = assert_problem(upload(handler, case["id"], {**FIELDS, "collector_2": "王承办", "kind": "x"}),
                          422, "invalid-input")
    assert set(body["errors"]) >= {"kind"}
    body = assert_problem(upload(handler, case["id"], {k: v for k, v in FIELDS.items() if k != "source"}),
                          422, "invalid-input")
    assert "source" in body["errors"]
    # Any type is taken (tests/web/test_evidence_any_type.py); an empty file is not.
    body = assert_problem(upload(handler, case["id"], content=b"", name="x.bin"), 422, "invalid-input")
    assert "file" in body["errors"]
    assert_problem(upload(api("samr_head"), case["id"]), 403, "forbidden")
    assert_problem(upload(api("police_handler"), case["id"]), 404, "not-found")
    without_file = upload(handler, case["id"], content=None)
    assert without_file.status_code == 201 and without_file.get_json()["has_file"] is False
    assert_problem(handler.get(f"/evidence/{without_file.get_json()['id']}/file"), 404, "not-found")
