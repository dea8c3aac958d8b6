"""检察意见：要求移送 through the engine on the real diagram: the procuratorate, taking part in a
case, requires SAMR to transfer it (Decree 310 art. 14); the opinion is a numbered document and
SAMR's answer comes back through both liaisons within ten days of its receipt."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from engine import Forbidden, create_case, start_mechanism, verify_audit
from models import Document
from tests.conftest import SHANGHAI
from tests.engine.test_filing_supervision import join
from tests.helpers import act, open_task
from tests.workflows.test_transfer_opinion_diagram import APPROVE, DRAFT, REPLY


@pytest.fixture
def case(session, users):
    case = create_case(session, users["samr_handler"], "某公司技术秘密被侵犯案")
    join(session, case, "procuratorate")
    return case


def test_the_procuratorate_requires_a_transfer_and_samr_answers(session, users, case):
    start_mechanism(session, users["procuratorate_handler"], case.id, "transfer_opinion")
    act(session, users["procuratorate_handler"], case.id, "record_transfer_opinion", DRAFT)
    act(session, users["procuratorate_head"], case.id, "approve_procuratorial_opinion", APPROVE)
    [opinion] = session.scalars(select(Document).where(Document.case_id == case.id, Document.kind == "transfer_opinion"))
    assert opinion.content["title"] == "检察意见书（要求移送）" and opinion.number.startswith("东检检移意〔2026〕")
    act(session, users["procuratorate_liaison"], case.id, "send_procuratorial_opinion", {"released": True})
    act(session, users["samr_liaison"], case.id, "accept_procuratorial_opinion", {"received": True})
    decide = open_task(session, case.id, "decide_transfer_on_opinion")
    # Ten days from the receipt on Monday 2 March end on Thursday 12.
    assert (decide.lane, decide.deadline_rule_id) == ("samr.handler", "transfer_opinion_reply")
    assert decide.due_at == datetime(2026, 3, 12, 23, 59, 59, tzinfo=SHANGHAI)
    act(session, users["samr_handler"], case.id, "decide_transfer_on_opinion", REPLY)
    act(session, users["samr_liaison"], case.id, "send_opinion_reply", {"released": True})
    act(session, users["procuratorate_liaison"], case.id, "receive_opinion_reply", {"received": True})
    act(session, users["procuratorate_handler"], case.id, "record_opinion_reply", {"acknowledged": True})
    assert verify_audit(session, case.id) == []


def test_only_a_prosecutor_requires_a_transfer(session, users, case):
    with pytest.raises(Forbidden):
        start_mechanism(session, users["samr_handler"], case.id, "transfer_opinion")
