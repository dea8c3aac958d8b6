"""Translations: the committed .mo is the compiled .po, and every msgid in web/ is translated.

To add strings: `pybabel extract -F web/babel.cfg -k _l -o /tmp/messages.pot web/`, then
`pybabel update -i /tmp/messages.pot -d web/translations`, translate, and
`pybabel compile -d web/translations`. The directory is zh_Hans_CN because Babel reads the
locale zh_CN as zh_Hans_CN and gettext looks for that name.
"""
from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from sqlalchemy import select

from models import AuditEvent, User
from web.db import db

from .helpers import login, post, text

WEB = Path(__file__).resolve().parents[2] / "web"
CATALOG = WEB / "translations" / "zh_Hans_CN" / "LC_MESSAGES"
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract")]
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}


def _catalog():
    with open(CATALOG / "messages.po", "rb") as f:
        return read_po(f)


def _messages(mo: bytes) -> dict:
    """What a compiled catalog translates, by message id; the header names the Babel release that
    compiled it, which is not content."""
    return {message.id: message.string for message in read_mo(io.BytesIO(mo)) if message.id}


def test_committed_mo_is_the_compiled_po():
    compiled = io.BytesIO()
    write_mo(compiled, _catalog())
    assert _messages(compiled.getvalue()) == _messages((CATALOG / "messages.mo").read_bytes()), \
        "messages.mo is stale: run pybabel compile -d web/translations"


def test_every_msgid_in_web_has_a_chinese_translation():
    catalog = _catalog()
    used = {msg[2] for msg in extract_from_dir(str(WEB), METHODS, keywords=KEYWORDS)}
    assert len(used) > 50  # the extractor saw the templates and the modules
    missing = sorted(m for m in used if not (catalog.get(m) and catalog.get(m).string))
    assert missing == []
    assert not any(m.fuzzy for m in catalog if m.id)


def test_default_language_is_chinese(client):
    html = text(client.get("/login"))
    assert "<title>登录 · 联动</title>" in html and 'lang="zh-CN"' in html


def test_switch_to_english_sticks_for_the_session(client):
    assert "<h1>Log in</h1>" in text(client.get("/login?lang=en"))
    login(client, "samr_handler")
    html = text(client.get("/"))
    assert "<h1>Inbox</h1>" in html and "Claimable" in html and 'lang="en"' in html
    assert "<h1>待办</h1>" in text(client.get("/?lang=zh_CN"))


def test_accept_language_is_the_fallback(client):
    html = text(client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}))
    assert "<h1>Log in</h1>" in html
    html = text(client.get("/login", headers={"Accept-Language": "fr"}))
    assert "<h1>登录</h1>" in html


def test_the_language_chosen_in_the_profile_is_kept_on_the_user(app, client_for):
    handler = client_for("samr_handler")
    response = post(handler, "/profile/language", {"language": "en"}, token_from="/profile")
    assert response.status_code == 303
    assert "Your language setting was saved." in text(handler.get("/profile"))
    # Another browser of the same user asks for Chinese and still gets English.
    other = client_for("samr_handler")
    assert "<h1>Inbox</h1>" in text(other.get("/", headers={"Accept-Language": "zh-CN"}))
    # ?lang= still switches for the session; an empty choice follows the browser again.
    assert "<h1>待办</h1>" in text(other.get("/?lang=zh_CN"))
    post(other, "/profile/language", {"language": ""}, token_from="/profile")
    assert "<h1>待办</h1>" in text(other.get("/", headers={"Accept-Language": "zh-CN"}))
    with db.new_session(app) as session:
        user = session.scalar(select(User).where(User.username == "samr_handler"))
        assert user.language is None
        events = session.scalars(select(AuditEvent).where(AuditEvent.event_type == "language_set")).all()
        assert [(e.detail["before"], e.detail["after"]) for e in events] == [(None, "en"), ("en", None)]


def test_an_unknown_language_is_refused(client_for):
    handler = client_for("samr_handler")
    response = post(handler, "/profile/language", {"language": "fr"}, token_from="/profile")
    assert response.status_code == 303
    assert "请选择所列语言之一。" in text(handler.get("/profile"))
