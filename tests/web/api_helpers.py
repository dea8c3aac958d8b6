"""Helpers for driving the JSON API: tokens straight from the engine, requests with them."""
from __future__ import annotations

from sqlalchemy import select

import engine
from models import User
from tests.helpers import (
    APPROVE_HANDOFF,
    APPROVE_TRANSFER,
    FACTS_500K,
    FILE,
    HANDOVER,
    NO_DISCREPANCY,
    RECEIPT,
    RECEIVED,
    RELEASE,
    REVIEW_FILE,
)
from web.db import db

# (user, diagram task, form data) of case_transfer, in the order the process asks for them.
TRANSFER_STEPS = [
    ("samr_handler", "register_facts", FACTS_500K),
    ("samr_head", "decide_transfer", APPROVE_TRANSFER),
    ("samr_liaison", "approve_outgoing_handoff", APPROVE_HANDOFF),
    ("police_liaison", "accept_receipt", RECEIPT),
    ("police_handler", "review_case", REVIEW_FILE),
    ("police_head", "decide_filing", FILE),
    ("police_liaison", "approve_filing_notice_handoff", RELEASE),
    ("samr_liaison", "accept_filing_notice", RECEIVED),
    ("samr_handler", "prepare_handover", HANDOVER),
    ("samr_liaison", "approve_handover_handoff", RELEASE),
    ("police_liaison", "accept_handover", RECEIVED),
    ("police_handler", "confirm_handover", NO_DISCREPANCY),
    ("police_liaison", "approve_handover_confirmation_handoff", RELEASE),
    ("samr_liaison", "accept_handover_confirmation", RECEIVED),
]


def token_for(app, username: str, name: str = "test") -> str:
    """A fresh API token of a demo user, made through the engine as `liandong token create` does."""
    with db.new_session(app) as session:
        user = session.scalar(select(User).where(User.username == username))
        return engine.create_token(session, user, name)[1]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class ApiClient:
    """One user's API client on the Flask test client (no cookies are involved)."""

    def __init__(self, app, username: str) -> None:
        self.client = app.test_client(use_cookies=False)
        self.headers = bearer(token_for(app, username))

    def get(self, path: str, **kwargs):
        return self.client.get(f"/api/v1{path}", headers=self.headers, **kwargs)

    def post(self, path: str, json=None, **kwargs):
        return self.client.post(f"/api/v1{path}", headers=self.headers, json=json, **kwargs)

    def task_of(self, case_id: int, bpmn_id: str) -> dict:
        """The case's task `bpmn_id` as it appears in this user's inbox."""
        page = self.get(f"/tasks?case_id={case_id}&per_page=100").get_json()
        found = [t for t in page["items"] if t["bpmn_id"] == bpmn_id]
        assert len(found) == 1, (bpmn_id, [t["bpmn_id"] for t in page["items"]])
        return found[0]
