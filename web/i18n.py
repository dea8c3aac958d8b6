"""Languages and time display: Chinese by default, English on request.

`?lang=en` (or `?lang=zh_CN`) on any page stores the choice in the session; without one the
language a logged-in user chose in their profile applies, then the browser's Accept-Language,
and Chinese is the fallback.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request, session
from flask_babel import Babel, get_locale
from flask_login import current_user

from engine import LANGUAGES

babel = Babel()


def select_locale() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    preferred = getattr(current_user, "language", None)
    if preferred in LANGUAGES:
        return preferred
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


def remember_language() -> None:
    # A request without a session to keep it in (the API's) does not parse its query for it.
    # Reading the session marks it accessed, as it always was here: the answer varies with the
    # cookie (a null session is never saved, so it adds no Vary header).
    if current_app.session_interface.is_null_session(session):
        return
    # Most requests name no language: one look at the raw query (a "lang" key, or one spelled
    # with %-escapes) before parsing it.
    query = request.query_string
    if b"lang" not in query and b"%" not in query:
        return
    lang = request.args.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang


def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time as the display zone's wall-clock time (Asia/Shanghai by default)."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])).strftime(fmt)


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.before_request(remember_language)
    app.add_template_filter(localtime)
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, current_locale=lambda: get_locale().language)
