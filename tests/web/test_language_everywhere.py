"""One language per page, and no engine names, on the supervisor's pages and exports, the
statistics and the clue pages.

The world: a case that went through a transfer, the police filing and the hand-over, now late; a
second case whose police review ran out, so deadline timers fired and messages went to the office
and the procuratorate; a clue from the service station. Every page is read in English and in
Chinese. An English page may show Chinese only where it is data (names of agencies and people, the
case's title, what was typed, document numbers); a Chinese page shows no English words but codes
that are not words (LD, CSV, SHA). No page and no export shows an engine name: an event type, a
diagram element's id, a message's or a deadline rule's code, a lane code, raw JSON.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import pytest
from lxml import etree
from sqlalchemy import select

from engine import create_case
from engine.bootstrap import DEMO_USERS
from models import Agency, Clue, Document, User
from tests.browser.test_supervision_drawings import walk
from tests.conftest import SHANGHAI, WORKFLOWS
from tests.helpers import (
    APPROVE_HANDOFF,
    APPROVE_TRANSFER,
    FACTS_500K,
    FILE,
    HANDOVER,
    RECEIPT,
    RECEIVED,
    RELEASE,
)
from web.db import db
from web.labels import EVENTS

from .helpers import post
from .test_workflow_text import CJK, ENGLISH_ALLOWED, visible_text

TITLES = ("语言测试移送案", "语言测试超期案")
CLUE = {"source": "complaint", "rights_holder": "某精密机械有限公司", "suspect": "前技术员甲",
        "summary": "甲离职后在竞争对手处使用公司的图纸", "loss_amount": "", "illegal_gain": "350000"}
TRANSFER = [
    ("samr_handler", "register_facts", FACTS_500K), ("samr_head", "decide_transfer", APPROVE_TRANSFER),
    ("samr_liaison", "approve_outgoing_handoff", APPROVE_HANDOFF), ("police_liaison", "accept_receipt", RECEIPT),
]
FILED = [
    *TRANSFER, ("police_handler", "review_case", {"recommendation": "file", "opinion": "经审查，建议立案"}),
    ("police_head", "decide_filing", FILE), ("police_liaison", "approve_filing_notice_handoff", RELEASE),
    ("samr_liaison", "accept_filing_notice", RECEIVED), ("samr_handler", "prepare_handover", HANDOVER),
    ("samr_liaison", "approve_handover_handoff", RELEASE),
]
# English a Chinese page may show besides ENGLISH_ALLOWED: case and clue number prefixes, a file's
# extension.
CODES = ENGLISH_ALLOWED | {"XS", "pdf", "XLSX"}
# What an engine name looks like: snake_case, a lane code, a rule code, a JSON object.
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
LANE = re.compile(r"\b(?:samr|police|procuratorate|court|office)\.[a-z]+\b")
RULE = re.compile(r"(?<![\w.])\d+(?:wd|d|h|m)\b")
JSON = re.compile(r"\{\s*\"")


@pytest.fixture
def world(app, clock, runner, client_for):
    clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI))
    with db.new_session(app) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        cases = []
        for title, steps in zip(TITLES, (FILED, TRANSFER), strict=True):
            case = create_case(session, users["samr_handler"], title)
            walk(session, users, case.id, steps, clock)
            cases.append(case.id)
    clock.advance(days=6)  # the police decision and the hand-over are late: timers fire
    for _round in range(3):  # the timers, then the messages they sent, then what those started
        assert runner.invoke(args=["worker", "--once"]).exit_code == 0
    station = client_for("station_intake")
    data = {**CLUE, "files": (io.BytesIO(b"%PDF-1.4 drawing\n"), "图纸.pdf")}
    response = post(station, "/clues/new", data, token_from="/clues/new", content_type="multipart/form-data")
    assert response.status_code == 303
    with db.new_session(app) as session:
        clue = session.scalar(select(Clue.id))
    return {"cases": cases, "clue": clue}


def _pages(world) -> list[tuple[str, str]]:
    filed, late = world["cases"]
    supervisor = ["/supervision/", "/supervision/?status=due_soon", f"/supervision/cases/{filed}",
                  f"/supervision/cases/{late}", "/supervision/metrics?from=2026-03-01&to=2026-03-31",
                  "/supervision/deadline-rules/", "/supervision/overdue.csv",
                  "/supervision/overdue.csv?status=due_soon", f"/supervision/cases/{filed}/timeline.csv",
                  f"/supervision/cases/{late}/timeline.csv"]
    return ([("office_supervisor", path) for path in supervisor] + [
        ("samr_head", "/supervision/"), ("samr_head", f"/supervision/cases/{filed}"),
        ("samr_handler", "/clues/"), ("samr_handler", f"/clues/{world['clue']}"),
        ("station_intake", "/clues/"), ("station_intake", "/clues/new"), ("station_intake", f"/clues/{world['clue']}"),
    ])


# The statistics page and its export, read in both languages like the supervisor's pages.
STATISTICS = [("office_supervisor", "/statistics/"), ("office_supervisor", "/statistics/statistics.csv")]


def _shown(client, path: str) -> str:
    """What a person reads on the page: the visible text of HTML (with the SVGs' labels and
    tooltips), every cell of a CSV."""
    response = client.get(path, follow_redirects=True)
    assert response.status_code == 200, path
    if response.mimetype == "text/csv":
        body = response.data.decode("utf-8-sig")
        return "\n".join(cell for row in csv.reader(io.StringIO(body)) for cell in row)
    return visible_text(response.data.decode("utf-8"))


def _data(app) -> list[str]:
    """Text that is data in every language, longest first (so that a name inside another goes last)."""
    with db.new_session(app) as session:
        agencies = session.scalars(select(Agency)).all()
        values = [a.name for a in agencies] + [a.short_name for a in agencies if a.short_name]
        values += list(session.scalars(select(Document.number)))
    values += [display for _u, display, _a, _r in DEMO_USERS] + list(TITLES) + ["中文", "图纸.pdf"]
    values += [v for v in (*FACTS_500K.values(), *CLUE.values()) if isinstance(v, str)]
    return sorted(values, key=len, reverse=True)


def _without(text: str, values: list[str]) -> str:
    for value in values:
        text = text.replace(value, "")
    return text


def _engine_names() -> set[str]:
    """Ids of the diagrams' elements and names of their messages, event types: the engine's words."""
    names = set(EVENTS)
    for path in WORKFLOWS.glob("*.bpmn"):
        for el in etree.parse(str(path)).iter():
            if not isinstance(el.tag, str):
                continue
            if el.get("id") and "_" in el.get("id"):
                names.add(el.get("id"))
            if etree.QName(el).localname == "message" and el.get("name"):
                names.add(el.get("name"))
    return names


def _leaks(text: str, names: set[str]) -> list[str]:
    found = [m for pattern in (SNAKE, LANE, RULE, JSON) for m in pattern.findall(text)]
    return sorted(set(found) | {n for n in names if re.search(rf"(?<![\w.]){re.escape(n)}(?![\w.])", text)})


def _read(app, client_for, pages, language: str) -> dict[str, str]:
    clients = {}
    shown = {}
    for username, path in pages:
        if username not in clients:
            clients[username] = client_for(username)
            clients[username].get(f"/?lang={language}")
        shown[path if username == "office_supervisor" else f"{username} {path}"] = _shown(clients[username], path)
    return shown


def test_english_pages_and_exports_show_chinese_only_in_data(app, client_for, world):
    data = _data(app)
    pages = _read(app, client_for, _pages(world), "en")
    leftovers = {page: sorted({line.strip() for line in _without(text, data).splitlines() if CJK.search(line)})
                 for page, text in pages.items()}
    assert {page: lines for page, lines in leftovers.items() if lines} == {}
    case_page = pages[f"/supervision/cases/{world['cases'][0]}"]
    # The diagram's gateways and flows, the Gantt's bars and tooltips, the timeline, in English.
    for words in ("Transfer approved?", "Head approves the transfer", "Market Supervision", "Task completed"):
        assert words in case_page
    assert "：" not in _without(case_page, data) and "（" not in _without(case_page, data)
    timeline = pages[f"/supervision/cases/{world['cases'][1]}/timeline.csv"]
    assert "Message sent" in timeline and "Deadline timer fired" in timeline


def test_chinese_pages_and_exports_show_no_english_words(app, client_for, world):
    data = _data(app) + [username for username, *_rest in DEMO_USERS]
    pages = _read(app, client_for, _pages(world), "zh")
    words = {}
    for page, text in pages.items():
        text = re.sub(r"\b[0-9a-f]{64}\b", "", _without(text, data))  # SHA-256 of a file
        found = set(re.findall(r"[A-Za-z]{2,}", text)) - CODES
        if found:
            words[page] = sorted(found)
    assert words == {}
    assert "移送案件" in pages[f"/supervision/cases/{world['cases'][1]}/timeline.csv"]  # the message, worded


@pytest.mark.parametrize("language", ["en", "zh"])
def test_no_page_or_export_shows_an_engine_name(app, client_for, world, language):
    names = _engine_names()
    data = _data(app)
    pages = _read(app, client_for, _pages(world), language)
    assert {page: found for page, text in pages.items() if (found := _leaks(_without(text, data), names))} == {}


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_statistics_page_and_export_speak_one_language_without_engine_names(
        app, client_for, world, language):
    data = _data(app)
    pages = _read(app, client_for, STATISTICS, language)
    for page, text in pages.items():
        rest = _without(text, data)
        assert _leaks(rest, _engine_names()) == [], page
        if language == "en":
            assert not any(CJK.search(line) for line in rest.splitlines()), page


def test_every_name_a_diagram_draws_has_an_english_title():
    """Gateways, sequence and message flows, events and pools reach the supervisor's diagram; lanes
    named by their code (samr.handler) are drawn with the page's agency and role words."""
    import json

    catalogue = json.loads((WORKFLOWS / "translations" / "en.json").read_text(encoding="utf-8"))
    drawn = {"participant", "lane", "sequenceFlow", "messageFlow", "exclusiveGateway", "parallelGateway",
             "inclusiveGateway", "eventBasedGateway", "startEvent", "endEvent", "intermediateThrowEvent",
             "intermediateCatchEvent", "boundaryEvent", "userTask", "scriptTask", "serviceTask",
             "receiveTask", "businessRuleTask", "task", "callActivity", "subProcess"}
    missing = set()
    for path in WORKFLOWS.glob("*.bpmn"):
        for el in etree.parse(str(path)).iter():
            if isinstance(el.tag, str) and etree.QName(el).localname in drawn and el.get("name"):
                name = el.get("name")
                if not LANE.fullmatch(name) and not catalogue.get(name):
                    missing.add(f"{path.name}: {name}")
    assert sorted(missing) == [], "add English to workflows/translations/en.json"


def test_the_case_page_and_a_task_page_in_english_name_documents_and_messages_in_english(
        app, client_for, world):
    """A handler's case page and task page of the transferred, filed case: Chinese only in data; the
    documents listed by their kind in English (their own text stays as issued); no engine names."""
    from engine import DOCUMENT_KINDS
    from models import HumanTask
    from web.document_labels import DOCUMENT_KINDS as KIND_LABELS

    assert set(KIND_LABELS) == set(DOCUMENT_KINDS)  # every kind the engine issues has its English
    filed = world["cases"][0]
    with db.new_session(app) as session:
        task = session.scalar(select(HumanTask.id).where(HumanTask.case_id == filed,
                                                         HumanTask.bpmn_id == "prepare_handover"))
    pages = [("samr_handler", f"/cases/{filed}"), ("samr_handler", f"/tasks/{task}"),
             ("police_liaison", f"/cases/{filed}")]
    typed = [line for form in (FILE, HANDOVER, APPROVE_TRANSFER, RECEIPT) for value in form.values()
             if isinstance(value, str) for line in value.splitlines()]
    data = sorted(_data(app) + typed, key=len, reverse=True)
    shown = _read(app, client_for, pages, "en")
    leftovers = {page: sorted({line.strip() for line in _without(text, data).splitlines() if CJK.search(line)})
                 for page, text in shown.items()}
    assert {page: lines for page, lines in leftovers.items() if lines} == {}
    for text in shown.values():
        assert "Letter transferring a suspected criminal case" in text and "Notice of case filing" in text
        assert _leaks(_without(text, data), _engine_names()) == []
    chinese = _read(app, client_for, pages[:1], "zh")
    assert "涉嫌犯罪案件移送书" in chinese[f"samr_handler /cases/{filed}"]
