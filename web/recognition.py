"""证据互认 and 信息共享 on the case and evidence pages: evidence packages with their verdicts
(证据互认) and information requests (信息共享), as template functions so the pages that include
them need no new view code; and the evidence store bound to every session, which the engine's
task hooks use to re-compute hashes when a package is handed over and reviewed."""
from __future__ import annotations

from flask import Flask, g
from flask_babel import lazy_gettext as _l

import engine

from .auth import actor
from .db import db
from .evidence import EXTENSION as STORE

VERDICTS = {"pending": _l("Not reviewed yet"), "recognised": _l("Recognised"), "rejected": _l("Not recognised"),
            "supplement": _l("Returned for supplement")}
PACKAGE_STATES = {"submitted": _l("Submitted"), "refused": _l("Not released"), "sent": _l("Handed over"),
                  "received": _l("Signed for")}
REQUEST_STATES = {"submitted": _l("Submitted"), "withdrawn": _l("Not sent"), "sent": _l("Sent, awaiting the answer"),
                  "granted": _l("Shared"), "refused": _l("Refused")}


def case_packages(case):
    return engine.case_packages(db.session, actor(), case)


def item_recognitions(item):
    return engine.item_recognitions(db.session, actor(), item)


def case_requests(case):
    return engine.case_requests(db.session, actor(), case)


def damaged_evidence(case) -> set[int]:
    """Ids of the case's items whose file was found damaged, read once per request: every line
    naming an item (a review task's, a package's) marks it."""
    cache = g.setdefault("damaged_evidence", {})
    if case.id not in cache:
        cache[case.id] = engine.damaged_evidence_ids(db.session, actor(), case.id)
    return cache[case.id]


def init_app(app: Flask) -> None:
    """After db and evidence: the session factory learns the store (engine: session.info)."""
    factory = db.state(app).factory
    factory.configure(info={**factory.kw.get("info", {}), "evidence_store": app.extensions[STORE]})
    app.jinja_env.globals.update(
        case_packages=case_packages, item_recognitions=item_recognitions, case_requests=case_requests,
        damaged_evidence=damaged_evidence,
        VERDICT_LABELS=VERDICTS, PACKAGE_STATE_LABELS=PACKAGE_STATES, REQUEST_STATE_LABELS=REQUEST_STATES)
