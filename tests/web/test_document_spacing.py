"""Printed documents carry no stray space after full-width punctuation where a template line ends
(经本局调查，认为…, not 经本局调查， 认为…)."""
from __future__ import annotations

import re

from sqlalchemy import select

from models import Document
from web.db import db

from .helpers import FACTS, claim_and_complete, create_case, open_task, text


def test_the_transfer_letter_reads_without_stray_spaces(app, client_for):
    handler, head = client_for("samr_handler"), client_for("samr_head")
    case_id = create_case(handler)
    assert claim_and_complete(handler, open_task(app, case_id, "register_facts").id, FACTS).status_code == 303
    assert claim_and_complete(head, open_task(app, case_id, "decide_transfer").id,
                              {"transfer_approved": "true", "administrative_penalty": "false"}).status_code == 303
    liaison = client_for("samr_liaison")
    assert claim_and_complete(liaison, open_task(app, case_id, "approve_outgoing_handoff").id,
                              {"handoff_approved": "true", "comment": ""}).status_code == 303
    with db.new_session(app) as session:
        letter = session.scalar(select(Document.id).where(Document.case_id == case_id,
                                                          Document.kind == "transfer_letter"))
    page = text(liaison.get(f"/documents/{letter}"))
    paragraphs = [re.sub(r"<[^>]+>", "", p) for p in re.findall(r"<p\b[^>]*>(.*?)</p>", page, re.S)]
    assert any("经本局调查，" in p for p in paragraphs)
    stray = [m for p in paragraphs for m in re.findall(r".{0,6}[，。；：、]\s+[\u4e00-\u9fff].{0,6}", p)]
    assert stray == []
