"""Pages speak one language: the workflow catalogue covers every name and title in workflows/,
a Chinese page shows no untranslated English, and an English page no Chinese task or form text."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from lxml import etree
from sqlalchemy import select

from engine.bootstrap import DEMO_USERS
from models import Agency
from tests.conftest import WORKFLOWS
from web.db import db

from .helpers import FACTS, claim_and_complete, create_case, open_task, post, text

CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")
# English a Chinese page may show: the switch to English, and codes that are not words.
ENGLISH_ALLOWED = {"English", "LD", "PDF", "SHA", "API", "JSON", "CSV", "ID"}


def _workflow_texts() -> set[str]:
    texts = set()
    for path in WORKFLOWS.glob("*.bpmn"):
        tree = etree.parse(str(path))
        texts |= {e.get("name") for e in tree.iter("{*}collaboration", "{*}process", "{*}userTask") if e.get("name")}

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("title", "description") and isinstance(value, str):
                    texts.add(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for path in (WORKFLOWS / "forms").glob("*.json"):
        walk(json.loads(path.read_text(encoding="utf-8")))
    return texts


def test_every_name_and_title_in_workflows_has_an_english_title():
    catalogue = json.loads((WORKFLOWS / "translations" / "en.json").read_text(encoding="utf-8"))
    texts = _workflow_texts()
    assert len(texts) > 200  # the diagrams and the forms were read
    missing = sorted(t for t in texts if not catalogue.get(t))
    assert missing == [], "add English titles to workflows/translations/en.json"
    assert [k for k, v in catalogue.items() if CJK.search(v)] == []


class _Visible(HTMLParser):
    """Text a person reads: text nodes (not scripts or styles) and placeholders, titles, labels."""

    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("placeholder", "title", "aria-label") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return "\n".join(parser.parts)


def _data(app) -> list[str]:
    """Names people and agencies gave themselves: data, shown as written in every language."""
    with db.new_session(app) as session:
        agencies = session.scalars(select(Agency)).all()
        names = [a.name for a in agencies] + [a.short_name for a in agencies if a.short_name]
    return sorted(names + [display for _u, display, _a, _r in DEMO_USERS] + ["中文"], key=len, reverse=True)


CASE_TITLE = "某科技公司技术秘密被侵犯案"


@pytest.fixture
def pages(app, client_for):
    """(user, path) of the pages people use most, with a case one step into the transfer."""
    handler = client_for("samr_handler")
    case_id = create_case(handler, title=CASE_TITLE)
    claim_and_complete(handler, open_task(app, case_id, "register_facts").id, FACTS)
    head_task = open_task(app, case_id, "decide_transfer")
    head = client_for("samr_head")
    post(head, f"/tasks/{head_task.id}/claim", token_from=f"/tasks/{head_task.id}")
    post(head, f"/tasks/{head_task.id}/comments", {"body": "同意。"}, token_from=f"/tasks/{head_task.id}")
    return [
        ("samr_head", "/"), ("samr_head", f"/tasks/{head_task.id}"),
        ("samr_handler", f"/cases/{case_id}"), ("samr_handler", "/cases"), ("samr_handler", "/cases/new"),
        ("samr_handler", "/profile"), ("samr_handler", "/?view=mine&due=overdue"),
        ("samr_handler", "/sharing"), ("samr_head", "/notifications"), ("office_supervisor", "/supervision"),
    ]


def test_chinese_pages_show_no_untranslated_english(app, client_for, pages):
    clients = {}
    for username, path in pages:
        client = clients.setdefault(username, client_for(username))
        shown = visible_text(text(client.get(path, headers={"Accept-Language": "zh-CN"}, follow_redirects=True)))
        for username, *_rest in DEMO_USERS:
            shown = shown.replace(username, "")
        words = set(re.findall(r"[A-Za-z]{2,}", shown)) - ENGLISH_ALLOWED
        assert words == set(), (path, sorted(words))


def test_english_pages_show_no_chinese_task_or_form_text(app, client_for, pages):
    data = _data(app)
    clients = {}
    for username, path in pages:
        client = clients.setdefault(username, client_for(username))
        client.get("/?lang=en")
        shown = visible_text(text(client.get(path, follow_redirects=True)))
        for value in [*data, CASE_TITLE, "同意。", FACTS["party_name"], FACTS["summary"]]:
            shown = shown.replace(value, "")
        leftovers = [line.strip() for line in shown.splitlines() if CJK.search(line)]
        assert leftovers == [], (path, leftovers)
    head = clients["samr_head"]
    assert "Head approves the transfer" in text(head.get(pages[1][1]))
    assert "Approve the transfer?" in text(head.get(pages[1][1]))
