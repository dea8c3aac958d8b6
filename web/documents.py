"""Printable legal documents. Their text is Chinese whatever the UI language: they are the
agencies' official papers, issued in Chinese; only the surrounding page chrome is translated."""
from __future__ import annotations

import re
from datetime import datetime

from flask import Blueprint, render_template
from flask_login import login_required
from jinja2 import TemplateNotFound

from engine import DOCUMENT_KINDS as KINDS
from engine import open_document

from .auth import actor
from .db import db

bp = Blueprint("documents", __name__, url_prefix="/documents")


def chinese_date(value: str | datetime) -> str:
    """2026年3月2日 in Beijing time, as dates are written on official documents."""
    from .i18n import localtime

    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    year, month, day = localtime(moment, "%Y-%m-%d").split("-")
    return f"{int(year)}年{int(month)}月{int(day)}日"


@bp.route("/<int:document_id>")
@login_required
def show(document_id: int):
    """Show a document for reading or printing; each opening is recorded by the engine."""
    return render_document(open_document(db.session, actor(), document_id))


def render_document(document):
    """A document's page by its kind's template (generic.html for kinds without one)."""
    context = {"document": document, "c": document.content, "steps": document.content.get("steps", {}),
               "kind": KINDS[document.kind]}
    try:
        page = render_template(f"documents/{document.kind}.html", **context)
    except TemplateNotFound:
        page = render_template("documents/generic.html", **context)
    return _joined(page)


# A template line ending in full-width punctuation (经本局调查，) continues on the next line; the
# line break between them would show as a space in the printed Chinese text.
_BROKEN_AFTER_PUNCTUATION = re.compile(r"([，。；：、（“])[ \t]*\n[ \t]*")


def _joined(page: str) -> str:
    return _BROKEN_AFTER_PUNCTUATION.sub(r"\1", page)


def init_app(app) -> None:
    app.add_template_filter(chinese_date)
    app.register_blueprint(bp)
