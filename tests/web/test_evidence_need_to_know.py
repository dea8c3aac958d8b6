"""Need-to-know covers evidence metadata: an item's description, source, collectors, file name and
custody notes are for those who may read the case's content (party agencies; on a secret case
only the users assigned to it). Supervisors and unassigned users see kinds, hashes, sizes and
custody events, in the API, on the pages and in the timeline."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

import engine
from models import EvidenceItem, User
from web.db import db

from .api_helpers import TRANSFER_STEPS
from .helpers import text
from .test_api import api, open_case  # noqa: F401 - the api fixture
from .test_api_evidence import FIELDS, upload, walk

# The item's free text and names, none of which is anyone's display name.
ITEM = {**FIELDS, "collector_1": "赵取证员", "collector_2": "钱取证员"}
SECRET_TEXT = ("配方文件清单", "权利人提供", "赵取证员", "钱取证员", "清单.txt", "随案移送，含配方批号")
DETAILS = ("description", "source", "collector_1", "collector_2", "original_name")


@pytest.fixture
def item(api):
    """An item of a plain case that the police have signed for, with a note on the handoff."""
    case = open_case(api, "知悉范围案")
    created = upload(api("samr_handler"), case["id"], ITEM)
    assert created.status_code == 201, created.get_data(as_text=True)
    walk(api, case["id"], TRANSFER_STEPS[:4])  # the police take part from the receipt on
    item = created.get_json()
    custody = api("samr_liaison").post(f"/evidence/{item['id']}/hand-over",
                                       {"to_agency": "police", "note": SECRET_TEXT[5]})
    assert custody.status_code == 201
    assert api("police_liaison").post(f"/evidence/custody/{custody.get_json()['id']}/receive").status_code == 200
    return case["id"], item["id"]


def shown(api, username: str, item_id: int) -> dict:
    response = api(username).get(f"/evidence/{item_id}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


# (who, whether they see the details) on a plain case: party members yes, overseers no.
PLAIN = [("samr_handler", True), ("samr_head", True), ("police_handler", True), ("police_liaison", True),
         ("office_supervisor", False), ("admin", False)]


@pytest.mark.parametrize("username, details", PLAIN)
def test_the_api_gives_details_to_those_who_may_read_the_content(api, item, username, details):
    case_id, item_id = item
    body = shown(api, username, item_id)
    assert body["kind"] == "documentary" and len(body["sha256"]) == 64 and body["size"] > 0
    assert [c["state"] for c in body["custody"]] == ["received"] and body["custody"][0]["sha256"]
    if details:
        assert body["description"] == FIELDS["description"] and body["original_name"] == "清单.txt"
        assert body["custody"][0]["note"] == SECRET_TEXT[5]
    else:
        assert all(body[name] is None for name in DETAILS) and body["custody"][0]["note"] is None
    listed = api(username).get(f"/cases/{case_id}/evidence").get_json()
    assert [entry["description"] is not None for entry in listed] == [details]


def test_supervisors_pages_and_timeline_carry_no_names_or_text(api, item, client_for):
    case_id, item_id = item
    supervisor = client_for("office_supervisor")
    pages = [text(supervisor.get(path)) for path in (
        f"/cases/{case_id}", f"/cases/{case_id}/evidence/{item_id}", f"/supervision/cases/{case_id}",
        f"/supervision/cases/{case_id}/timeline.csv")]
    for page in pages:
        leaked = [(secret, page[max(0, page.find(secret) - 300):page.find(secret) + 50])
                  for secret in SECRET_TEXT if secret in page]
        assert not leaked, leaked
    evidence_page = pages[1]
    assert shown(api, "samr_handler", item_id)["sha256"] in evidence_page
    assert "办案人员" in evidence_page or "need-to-know" in evidence_page
    timeline = api("office_supervisor").get(f"/cases/{case_id}/timeline").get_json()
    assert f"#{item_id}" in {event["summary"] for event in timeline}
    # The handler's own page still shows everything.
    handler_page = text(client_for("samr_handler").get(f"/cases/{case_id}/evidence/{item_id}"))
    assert all(secret in handler_page for secret in SECRET_TEXT[:4])


def test_on_a_secret_case_only_assigned_users_see_the_details(api, app, client_for):
    response = api("samr_handler").post("/cases", {"title": "机密案件", "confidentiality": "secret"})
    case_id = response.get_json()["id"]
    item_id = upload(api("samr_handler"), case_id, ITEM).get_json()["id"]
    assert shown(api, "samr_handler", item_id)["description"] == FIELDS["description"]
    for username in ("samr_handler2", "samr_head", "office_supervisor"):
        body = shown(api, username, item_id)
        assert all(body[name] is None for name in DETAILS), username
        assert body["sha256"] and body["kind"] == "documentary"
    page = text(client_for("samr_handler2").get(f"/cases/{case_id}/evidence/{item_id}"))
    assert FIELDS["description"] not in page and "清单.txt" not in page


def test_the_engine_hands_out_views_by_the_content_rule(app, item):
    case_id, item_id = item
    with db.new_session(app) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        # The procuratorate, copied on the transfer, observes the case: it reads the case's
        # content, so the item's details, but opens no confidential file (policy.can_open_evidence).
        # The court took no part and is not told the case exists.
        for username, details in [*PLAIN, ("procuratorate_handler", True), ("court_handler", None)]:
            if details is None:
                with pytest.raises(engine.NotFound):
                    engine.list_evidence(session, users[username], case_id)
                continue
            [view] = engine.list_evidence(session, users[username], case_id)
            assert view.details is details and (view.source is not None) is details
            assert view.sha256 and view.kind == "documentary" and view.id == item_id
        item = session.get(EvidenceItem, item_id)
        assert engine.policy.can_open_evidence(session, users["procuratorate_handler"], item) \
            is not engine.policy.is_confidential(item)


def test_files_stay_openable_as_before(api, item):
    _case_id, item_id = item
    response = api("police_handler").get(f"/evidence/{item_id}/file")
    assert response.status_code in (200, 403)
    assert api("office_supervisor").get(f"/evidence/{item_id}/file").status_code == 403
    assert io.BytesIO(api("samr_handler").get(f"/evidence/{item_id}/file").data).read()
