"""The police's 立案决定书 is numbered by the system from the police's own series when the decision
is completed, recorded on the decision and quoted by the 立案通知书; a number the decision got
outside the system may be entered instead, checked and audited; a refused completion takes no
number."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import InvalidInput, claim_task, complete_task, create_case, verify_audit
from engine.worker.timers import fire_due_timers
from models import AuditEvent, Document, DocumentCounter
from tests.engine.test_filing_supervision import FIFTEEN_DAYS_FROM_THURSDAY, order_filing, request_supervision
from tests.helpers import FILE, NOT_FILE, act, open_task, police_decide, transferred
from tests.workflows.test_filing_supervision_diagram import ESCALATE, FILED, SAMR_REQUEST


def documents(session, case_id: int) -> dict[str, Document]:
    return {d.kind: d for d in session.scalars(select(Document).where(Document.case_id == case_id))}


def counter(session, series: str) -> int | None:
    return session.scalar(select(DocumentCounter.last).where(DocumentCounter.series == series)
                          .execution_options(populate_existing=True))


def test_the_filing_decision_is_numbered_and_the_notice_quotes_it(session, users):
    first, second = transferred(session, users, "甲案"), transferred(session, users, "乙案")
    police_decide(session, users, first.id, FILE)
    police_decide(session, users, second.id, FILE)
    for case, number in ((first, "东公立字〔2026〕1号"), (second, "东公立字〔2026〕2号")):
        docs = documents(session, case.id)
        record, notice = docs["filing_decision_record"], docs["filing_notice"]
        assert (record.number, record.issuing_agency.code, record.recipient_agency_id) == (number, "police", None)
        assert record.content["title"] == "立案决定书"
        assert notice.task_id == record.task_id, "both issued by the head's decision"
        assert notice.content["steps"]["decide_filing"] == {**FILE, "filing_number": number}
    assert verify_audit(session, first.id) == []


def test_a_decision_not_to_file_takes_no_filing_number(session, users):
    case = transferred(session, users)
    police_decide(session, users, case.id, NOT_FILE)
    assert "filing_decision_record" not in documents(session, case.id)
    assert counter(session, "立字") is None


@pytest.fixture
def ordered(session, users, clock):
    """A filing supervision at the point where the police must file on the 通知立案书."""
    case = create_case(session, users["samr_handler"], "某公司技术秘密被侵犯案")
    request_supervision(session, case, clock, SAMR_REQUEST)
    order_filing(session, users, case, clock)
    return case


def test_a_refused_completion_takes_no_number(session, users, ordered):
    head = users["police_head"]
    task = open_task(session, ordered.id, "file_on_notice")
    claim_task(session, head, task.id)
    taken = documents(session, ordered.id)["filing_order"].number
    for entered, reason in (("第7号", "does not match"), (taken, "already the number of another document")):
        with pytest.raises(InvalidInput) as err:
            complete_task(session, head, task.id, {**FILED, "filing_number": entered})
        assert list(err.value.errors) == ["filing_number"] and reason in err.value.errors["filing_number"][0]
    assert counter(session, "立字") is None and counter(session, "立") is None
    assert open_task(session, ordered.id, "file_on_notice").id == task.id
    complete_task(session, head, task.id, FILED)
    assert documents(session, ordered.id)["filing_decision_record"].number == "东公立字〔2026〕1号"


def test_a_number_given_outside_the_system_is_used_and_audited(session, users, ordered):
    entered = "东公（经）立字〔2026〕7号"
    filed = act(session, users["police_head"], ordered.id, "file_on_notice", {**FILED, "filing_number": entered})
    docs = documents(session, ordered.id)
    assert docs["filing_decision_record"].number == entered
    assert filed.result["filing_number"] == entered
    assert docs["filing_notice"].content["steps"]["file_on_notice"]["filing_number"] == entered
    assert counter(session, "立字") is None, "the system's series is untouched"
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.case_id == ordered.id,
                                                       AuditEvent.event_type == "document_number_entered"))
    assert (event.actor_id, event.task_id, event.detail) == (
        users["police_head"].id, filed.id,
        {"kind": "filing_decision_record", "number": entered, "field": "filing_number"})
    assert verify_audit(session, ordered.id) == []


def test_a_correction_notice_drawn_up_on_paper_keeps_its_number(session, users, ordered, clock):
    """The 纠正违法通知书 is numbered by the system like the 立案决定书; a notice drawn up outside it
    keeps the number it was given, audited, while the report upwards takes the next of its series."""
    clock.set(FIFTEEN_DAYS_FROM_THURSDAY + timedelta(seconds=1))
    fire_due_timers(session)
    entered = "东检（侦监）纠违〔2026〕12号"
    escalated = act(session, users["procuratorate_handler"], ordered.id, "record_escalation",
                    {**ESCALATE, "correction_notice_number": entered})
    docs = documents(session, ordered.id)
    assert docs["correction_notice"].number == entered
    assert docs["escalation_report"].number == "东检立监报〔2026〕1号"
    assert escalated.result["correction_notice_number"] == entered
    assert counter(session, "纠违") is None
    assert session.scalar(select(AuditEvent.detail).where(AuditEvent.event_type == "document_number_entered")) == {
        "kind": "correction_notice", "number": entered, "field": "correction_notice_number"}
