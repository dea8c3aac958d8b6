"""Clue pages and API: a service station registers a clue with a file and sees only its own
clues and their status, SAMR triages it into a case with the mechanisms ticked or closes it with
reasons; bad input is a 4xx naming the field; the case form and API choose their mechanisms; a
second running instance of a mechanism needs a reason, shown on the case page."""
from __future__ import annotations

import hashlib
import io
import re

from sqlalchemy import select

from models import Clue, ProcessInstance, ProcessModel
from tests.conftest import password_for
from web.db import db

from .api_helpers import ApiClient
from .helpers import create_case, field_html, login, post, text

PDF = b"%PDF-1.4 drawing\n"
CLUE = {"source": "complaint", "rights_holder": "某精密机械有限公司", "suspect": "前技术员甲",
        "summary": "甲离职后在竞争对手处使用公司的图纸", "loss_amount": "", "illegal_gain": "350000"}


def _register(client, **changes):
    data = {**CLUE, **changes, "files": (io.BytesIO(PDF), "图纸.pdf")}
    return post(client, "/clues/new", data, token_from="/clues/new", content_type="multipart/form-data")


def _clue_id(response) -> int:
    assert response.status_code == 303, text(response)
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def _keys(app, case_id):
    with db.new_session(app) as session:
        return sorted(session.scalars(select(ProcessModel.key).join(
            ProcessInstance, ProcessInstance.process_model_id == ProcessModel.id)
            .where(ProcessInstance.case_id == case_id)))


def test_a_station_registers_a_clue_and_samr_opens_a_case_from_it(app, client_for):
    station = client_for("station_intake")
    home = text(station.get("/clues/"))
    assert 'href="/clues/new"' in home and 'href="/cases/"' not in home  # no case pages in the header
    clue_id = _clue_id(_register(station))
    page = text(station.get(f"/clues/{clue_id}"))
    assert "某精密机械有限公司" in page and hashlib.sha256(PDF).hexdigest() in page
    assert "/triage" not in page  # no triage form for them
    download = station.get(re.search(r'href="(/clues/\d+/attachments/\d+)"', page).group(1))
    assert download.status_code == 200 and download.data == PDF

    handler = client_for("samr_handler")
    assert re.search(r"XS2026-\d+", text(handler.get("/clues/?status=pending&source=complaint")))
    shown = text(handler.get(f"/clues/{clue_id}"))
    assert f'action="/clues/{clue_id}/triage"' in shown and 'value="case_transfer"' in shown
    opened = post(handler, f"/clues/{clue_id}/triage", {
        "decision": "open", "title": "某精密机械公司图纸案", "confidentiality": "confidential",
        "mechanisms": ["rights_protection"]}, token_from=f"/clues/{clue_id}")
    assert opened.status_code == 303 and "/cases/" in opened.headers["Location"]
    case_id = int(opened.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert _keys(app, case_id) == ["rights_protection"]  # no 立案协助 unless ticked
    assert f'href="/clues/{clue_id}"' in text(handler.get(f"/cases/{case_id}"))

    # The station sees the status, not the case.
    assert 'class="clue-opened"' in text(station.get("/clues/"))
    assert station.get(f"/cases/{case_id}").status_code == 404
    assert post(station, "/cases/new", {"title": "x"}, token_from="/clues/").status_code == 403


def test_stations_and_agencies_see_only_their_own_clues(app, client_for):
    police_clue = _clue_id(_register(client_for("police_handler"), source="report"))
    station = client_for("station_intake")
    own = _clue_id(_register(station))
    assert station.get(f"/clues/{police_clue}").status_code == 404
    listing = text(station.get("/clues/"))
    with db.new_session(app) as session:
        numbers = {c.id: c.number for c in session.scalars(select(Clue))}
    assert numbers[own] in listing and numbers[police_clue] not in listing
    attachment = re.search(r'href="(/clues/\d+/attachments/\d+)"', text(client_for("police_handler").get(
        f"/clues/{police_clue}"))).group(1)
    assert station.get(attachment).status_code == 404
    assert post(station, f"/clues/{own}/triage", {"decision": "close", "reason": "x"},
                token_from=f"/clues/{own}").status_code == 403
    supervisor = client_for("office_supervisor")
    assert "某精密机械有限公司" not in text(supervisor.get(f"/clues/{own}"))  # status, not content
    assert client_for("court_handler").get("/clues/new").status_code == 403


def test_bad_input_names_the_field(app, client_for):
    station = client_for("station_intake")
    refused = _register(station, summary=" ", loss_amount="三十万")
    assert refused.status_code == 422
    assert "error" in field_html(text(refused), "summary") and "error" in field_html(text(refused), "loss_amount")
    clue_id = _clue_id(_register(station))
    handler = client_for("samr_handler")
    closing = post(handler, f"/clues/{clue_id}/triage", {"decision": "close", "reason": ""}, token_from=f"/clues/{clue_id}")
    assert closing.status_code == 422 and "error" in field_html(text(closing), "reason")
    opening = post(handler, f"/clues/{clue_id}/triage", {"decision": "open", "title": "x",
                                                         "mechanisms": ["filing_supervision"]},
                   token_from=f"/clues/{clue_id}")
    assert opening.status_code == 422 and "error" in field_html(text(opening), "mechanisms")
    closed = post(handler, f"/clues/{clue_id}/triage", {"decision": "close", "reason": "不构成商业秘密"},
                  token_from=f"/clues/{clue_id}")
    assert closed.status_code == 303
    assert "不构成商业秘密" in text(station.get(f"/clues/{clue_id}"))
    assert client_for("samr_handler").get("/clues/?status=lost").status_code == 422
    # Without the CSRF token nothing is registered.
    assert station.post("/clues/new", data=CLUE).status_code == 400


def test_the_api_registers_lists_and_triages(app):
    station, samr = ApiClient(app, "station_intake"), ApiClient(app, "samr_head")
    created = station.client.post("/api/v1/clues", headers=station.headers, content_type="multipart/form-data",
                                  data={"source": "complaint", "summary": "图纸外泄", "rights_holder": "某公司",
                                        "files": (io.BytesIO(PDF), "图纸.pdf")})
    assert created.status_code == 201, created.get_json()
    clue = created.get_json()
    assert clue["loss_amount"] is None and clue["status"] == "pending" and clue["agency"] == "station_demo"
    assert clue["attachments"][0]["sha256"] == hashlib.sha256(PDF).hexdigest()
    file = station.get(f"/clues/{clue['id']}/attachments/{clue['attachments'][0]['id']}/file")
    assert file.status_code == 200 and file.data == PDF
    refused = station.client.post("/api/v1/clues", headers=station.headers, content_type="multipart/form-data",
                                  data={"source": "rumour", "summary": " ", "loss_amount": "-1"})
    assert refused.status_code == 422 and {"source", "summary", "loss_amount"} <= set(refused.get_json()["errors"])
    assert samr.get("/clues?status=pending").get_json()["total"] == 1
    assert ApiClient(app, "police_handler").get(f"/clues/{clue['id']}").status_code == 404
    no_reason = samr.post(f"/clues/{clue['id']}/triage", {"decision": "close"})
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["errors"]
    assert station.post(f"/clues/{clue['id']}/triage", {"decision": "close", "reason": "x"}).status_code == 403
    outcome = samr.post(f"/clues/{clue['id']}/triage", {"decision": "open", "title": "图纸外泄案",
                                                        "mechanisms": ["case_transfer"]})
    assert outcome.status_code == 200, outcome.get_json()
    body = outcome.get_json()
    assert body["clue"]["status"] == "opened" and body["case"]["instances"][0]["process"] == "case_transfer"
    assert [t["bpmn_id"] for t in body["case"]["tasks"]] == ["register_facts"]
    # The attachment is the case's evidence, whichever door triaged (the store the app binds).
    [item] = samr.get(f"/cases/{body['case']['id']}/evidence").get_json()
    assert item["sha256"] == hashlib.sha256(PDF).hexdigest() and item["confidential"] is True
    assert samr.post(f"/clues/{clue['id']}/triage", {"decision": "close", "reason": "x"}).status_code == 409
    assert station.get(f"/clues/{clue['id']}").get_json()["status"] == "opened"
    assert station.get(f"/cases/{body['case']['id']}").status_code == 404


def test_case_creation_chooses_its_mechanisms(app, client_for):
    handler = client_for("samr_handler")
    form = text(handler.get("/cases/new"))
    assert re.search(r'value="case_transfer" checked', form)
    # The form's choice: no mechanism at all, or the ones ticked.
    bare = post(handler, "/cases/new", {"title": "仅行政处罚", "confidentiality": "internal", "mechanisms_offered": "1"},
                token_from="/cases/new")
    assert _keys(app, int(bare.headers["Location"].rsplit("/", 1)[1])) == []
    assert _keys(app, create_case(handler)) == ["case_transfer"]  # a post that does not choose
    api = ApiClient(app, "samr_handler")
    assert api.post("/cases", {"title": "默认"}).get_json()["instances"][0]["process"] == "case_transfer"
    chosen = api.post("/cases", {"title": "维权", "mechanisms": ["rights_protection", "consultation"]}).get_json()
    assert sorted(i["process"] for i in chosen["instances"]) == ["consultation", "rights_protection"]
    refused = api.post("/cases", {"title": "x", "mechanisms": ["filing_supervision"]})
    assert refused.status_code == 422 and "mechanisms" in refused.get_json()["errors"]


def test_a_second_running_instance_needs_a_reason_shown_on_the_case_page(app, client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    again = post(handler, f"/cases/{case_id}/mechanisms", {"key": "consultation"}, token_from=f"/cases/{case_id}")
    assert again.status_code == 303
    refused = post(handler, f"/cases/{case_id}/mechanisms", {"key": "consultation"}, token_from=f"/cases/{case_id}")
    assert refused.status_code == 422 and 'class="flash error"' in text(refused)
    confirmed = post(handler, f"/cases/{case_id}/mechanisms", {"key": "consultation", "confirm_reason": "另一议题需会商"},
                     token_from=f"/cases/{case_id}")
    assert confirmed.status_code == 303
    page = text(handler.get(f"/cases/{case_id}"))
    assert "另一议题需会商" in page and 'data-event="mechanism_duplicate_confirmed"' in page
    assert "另一议题需会商" not in text(client_for("office_supervisor").get(f"/cases/{case_id}"))
    api = ApiClient(app, "samr_handler")
    problem = api.post(f"/cases/{case_id}/mechanisms", {"key": "consultation"})
    assert problem.status_code == 422 and "confirm_reason" in problem.get_json()["errors"]
    started = api.post(f"/cases/{case_id}/mechanisms", {"key": "consultation", "confirm_reason": "第三次"})
    assert started.status_code == 201 and started.get_json()["process"] == "consultation"


def test_station_staff_reach_no_case_by_any_door(app, client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    station, api = client_for("station_intake"), ApiClient(app, "station_intake")
    assert api.get("/cases").get_json()["total"] == 0
    assert api.get(f"/cases/{case_id}").status_code == 404
    assert api.get("/tasks").get_json()["total"] == 0
    assert api.get("/register").get_json()["total"] == 0
    assert api.post("/cases", {"title": "x"}).status_code == 403
    assert api.post(f"/cases/{case_id}/mechanisms", {"key": "consultation"}).status_code == 404
    assert station.get(f"/cases/{case_id}/evidence", follow_redirects=False).status_code in (404, 405)
    assert "LD2026" not in text(station.get("/register/")) and "LD2026" not in text(station.get("/"))


def _landing(app, username: str) -> str:
    client = app.test_client()
    return login(client, username).headers["Location"]


def test_each_user_lands_on_their_work_and_sees_only_what_they_use(app, client_for):
    assert _landing(app, "station_intake") == "/clues/"
    assert _landing(app, "admin") == "/admin/users/"
    assert _landing(app, "samr_handler") == "/" and _landing(app, "office_supervisor") == "/"
    station = client_for("station_intake")
    assert station.get("/login").headers["Location"] == "/clues/"  # logged in already
    header = re.search(r"<header.*?</header>", text(station.get("/clues/")), re.S).group(0)
    assert 'href="/clues/"' in header and 'class="brand" href="/clues/"' in header
    for hidden in ('href="/"', 'href="/notifications', 'href="/cases/"', 'href="/register/"'):
        assert hidden not in header, hidden
    admin = re.search(r"<header.*?</header>", text(client_for("admin").get("/admin/users/")), re.S).group(0)
    assert 'href="/"' not in admin and 'href="/admin/users/"' in admin
    handler = re.search(r"<header.*?</header>", text(client_for("samr_handler").get("/")), re.S).group(0)
    assert 'href="/"' in handler and 'href="/notifications' in handler
    # A path asked for before the login still wins.
    client = app.test_client()
    assert login_next(client, "station_intake", "/clues/new") == "/clues/new"


def login_next(client, username: str, target: str) -> str:
    response = post(client, f"/login?next={target}", {"username": username, "password": password_for(username)},
                    token_from="/login")
    return response.headers["Location"]


def test_the_case_page_lists_the_clues_files_as_evidence_and_the_clue_links_to_them(app, client_for):
    station, handler = client_for("station_intake"), client_for("samr_handler")
    clue_id = _clue_id(_register(station))
    opened = post(handler, f"/clues/{clue_id}/triage", {
        "decision": "open", "title": "某精密机械公司图纸案", "confidentiality": "confidential", "mechanisms": []},
        token_from=f"/clues/{clue_id}")
    case_id = int(opened.headers["Location"].rsplit("/", 1)[1])
    case_page = text(handler.get(f"/cases/{case_id}"))
    evidence = re.search(r'<table class="evidence">.*?</table>', case_page, re.S).group(0)
    item_id = int(re.search(r'data-evidence="(\d+)"', evidence).group(1))
    assert "图纸.pdf" in evidence and f"/cases/{case_id}/evidence/{item_id}/download" in evidence
    download = handler.get(f"/cases/{case_id}/evidence/{item_id}/download")
    assert download.status_code == 200 and download.data == PDF
    clue_page = text(handler.get(f"/clues/{clue_id}"))
    assert f'href="/cases/{case_id}"' in clue_page
    assert f'href="/cases/{case_id}/evidence/{item_id}"' in clue_page
    # The station keeps its clue's files, and learns nothing of the case's items.
    station_page = text(station.get(f"/clues/{clue_id}"))
    assert "/evidence/" not in station_page and f'href="/cases/{case_id}"' not in station_page


def test_a_mechanism_the_system_started_again_is_shown_with_its_cause(app, client_for, clock):
    """The police miss their filing deadline while the procuratorate already supervises on its
    own motion: the worker's second 立案监督 is listed beside the confirmed second starts."""
    from datetime import datetime

    import engine
    from engine.worker.timers import fire_due_timers
    from models import User
    from tests.conftest import SHANGHAI
    from tests.helpers import APPROVE_HANDOFF, APPROVE_TRANSFER, FACTS_500K, RECEIPT, act

    with db.new_session(app) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        case_id = engine.create_case(session, users["samr_handler"], "某公司技术秘密案").id
        act(session, users["samr_handler"], case_id, "register_facts", FACTS_500K)
        act(session, users["samr_head"], case_id, "decide_transfer", APPROVE_TRANSFER)
        act(session, users["samr_liaison"], case_id, "approve_outgoing_handoff", APPROVE_HANDOFF)
        act(session, users["police_liaison"], case_id, "accept_receipt", RECEIPT)
        engine.start_mechanism(session, users["procuratorate_handler"], case_id, "filing_supervision")
        clock.set(datetime(2026, 3, 6, 8, 30, tzinfo=SHANGHAI))
        assert fire_due_timers(session) == 1 and engine.deliver_pending(session) == 1
    page = text(client_for("samr_handler").get(f"/cases/{case_id}"))
    started = re.search(r'<li class="system-start">(.*?)</li>', page, re.S).group(1)
    assert "立案监督" in started and "立案协助" in started and "filing_supervision_requested" not in started
    assert "“建议检察院立案监督”" in started  # the message as the diagram's flow names it, not its code
    assert 'data-event="mechanism_duplicate_started"' in page
    assert 'class="system-start"' not in text(client_for("office_supervisor").get(f"/cases/{case_id}"))
