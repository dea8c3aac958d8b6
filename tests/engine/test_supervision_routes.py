"""立案监督's escalation through the engine on the real diagram: police still not filing 15 days
after the 通知立案书 get a 纠正违法通知书, and the next-level procuratorate a report (SPP Rules
art. 564), both generated, numbered and readable by whom the policy lets read the case."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import create_case, verify_audit
from engine.casework.documents import case_documents
from engine.worker.timers import fire_due_timers
from models import Document
from tests.engine.test_filing_supervision import (
    FIFTEEN_DAYS_FROM_THURSDAY,
    order_filing,
    request_supervision,
)
from tests.helpers import act, open_task
from tests.workflows.test_filing_supervision_diagram import ESCALATE, ORDER, SAMR_REQUEST


@pytest.fixture
def case(session, users):
    return create_case(session, users["samr_handler"], "某公司技术秘密被侵犯案")


def test_an_ignored_filing_order_brings_a_correction_notice_and_a_report_upwards(session, users, case, clock):
    request_supervision(session, case, clock, SAMR_REQUEST)
    order_filing(session, users, case, clock)
    clock.set(FIFTEEN_DAYS_FROM_THURSDAY + timedelta(seconds=1))
    fire_due_timers(session)
    act(session, users["procuratorate_handler"], case.id, "record_escalation", ESCALATE)
    documents = {d.kind: d for d in session.scalars(select(Document).where(Document.case_id == case.id))}
    notice, report = documents["correction_notice"], documents["escalation_report"]
    assert notice.number.startswith("东检纠违〔2026〕") and report.number.startswith("东检立监报〔2026〕")
    assert notice.content["title"] == "纠正违法通知书" and notice.content["recipient"].endswith("分局")
    assert notice.content["steps"]["record_escalation"]["correction_opinion"] == ESCALATE["correction_opinion"]
    assert notice.content["steps"]["issue_filing_order"]["order_reasons"] == ORDER["order_reasons"]
    # The report goes outside the district's agencies: it names no recipient agency.
    assert report.content["recipient"] is None
    assert set(report.content["steps"]) == {"issue_filing_order", "record_escalation"}
    police_reads = {d.kind for d in case_documents(session, users["police_head"], case.id)}
    assert "correction_notice" in police_reads
    assert open_task(session, case.id, "send_outcome_notice").lane == "procuratorate.liaison"
    assert verify_audit(session, case.id) == []
