"""Text that comes from the workflows (task and process names, form titles) in the page's language.

The diagrams and the JSON Schemas of workflows/forms are written in Chinese, the language the
law and the agencies use; they stay the single definition of each task and form. English titles
live in a catalogue beside them, workflows/translations/en.json, keyed by the Chinese text itself
(the msgid), so one entry serves every diagram and form that uses the same words. A string
missing from the catalogue is shown in Chinese; tests/web/test_workflow_text.py fails when any
name or title in workflows/ has no entry.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from flask_babel import get_locale

import engine

from .db import db

# Keys of a JSON Schema whose string values are shown to people.
SHOWN_KEYS = ("title", "description")


@lru_cache(maxsize=8)
def _load(path: str) -> dict[str, str]:
    file = Path(path)
    if not file.exists():
        return {}
    with file.open(encoding="utf-8") as f:
        return json.load(f)


def catalogue_path(workflows_dir: str | Path, language: str = "en") -> Path:
    return Path(workflows_dir) / "translations" / f"{language}.json"


def catalogue(language: str) -> dict[str, str]:
    """{Chinese text: translation} for a language; empty for Chinese or an unknown language."""
    if language == "zh":
        return {}
    return _load(str(catalogue_path(current_app.config["WORKFLOWS_DIR"], language)))


def translate(text: str | None) -> str:
    """Workflow text in the page's language (Chinese when no translation is known)."""
    if not text:
        return text or ""
    return catalogue(get_locale().language).get(text, text)


def process_name(key: str) -> str:
    """A mechanism's name (its diagram's collaboration name) in the page's language, for
    records that keep only its key; an unknown key is shown as it is."""
    if "process_names" not in g:
        g.process_names = {m.key: m.name for m in engine.latest_models(db.session)}
    return translate(g.process_names.get(key, key))


def translate_schema(schema: Any) -> Any:
    """A copy of a JSON Schema whose titles and descriptions are in the page's language;
    names, constants and constraints are untouched, so validation is the same."""
    table = catalogue(get_locale().language)
    if not table:
        return schema

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: table.get(value, value) if key in SHOWN_KEYS and isinstance(value, str)
                    else walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    return walk(schema)


def init_app(app: Flask) -> None:
    app.add_template_filter(translate, "wf")
