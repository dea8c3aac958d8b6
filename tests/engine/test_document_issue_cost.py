"""What issuing a document costs the database, and the numbering that makes it cheap: the series'
counter is taken in one statement that still locks its row until commit, and a number entered by
hand that the counter reaches later is passed over by the document's own INSERT."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import event, select

from engine import FixedClock, create_case
from engine.casework import documents
from engine.runtime.transactions import transaction
from models import Agency, AuditEvent, Document, DocumentCounter, make_engine, make_session_factory
from tests.conftest import START
from tests.engine.test_filing_supervision import order_filing, request_supervision
from tests.helpers import FILE, RECEIPT, act, police_decide, transferred
from tests.workflows.test_filing_supervision_diagram import FILED, SAMR_REQUEST


def test_a_document_costs_the_steps_the_agencies_a_number_and_its_row(session, users):
    case = transferred(session, users)
    liaison = users["police_liaison"]
    task = act(session, liaison, case.id, "accept_receipt", RECEIPT)
    # What the completion holds already: the task's case and lane, the actor's agency.
    assert task.case.number and task.agency.name and liaison.agency is not None
    ran: list[str] = []
    engine = session.get_bind()

    def seen(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            ran.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with transaction(session):
            document = documents.issue_document(session, liaison, task, "supplement_request")
            issued = list(ran)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    expected = ("SELECT human_task.bpmn_id, human_task.result FROM", "SELECT agency.id", "INSERT INTO document_counter",
                "INSERT INTO document (")
    assert len(issued) == len(expected) and all(map(str.startswith, issued, expected)), issued
    assert document.number == "东公补〔2026〕1号"
    assert (document.issuing_agency.code, document.recipient_agency.code) == ("police", "samr")
    assert document.content["steps"] == {"accept_receipt": task.result}
    # The object the session holds is the row as written.
    held = (document.id, document.kind, document.number, document.content, document.generated_at)
    session.expire(document)
    assert (document.id, document.kind, document.number, document.content, document.generated_at) == held
    assert session.scalar(select(AuditEvent.detail).where(AuditEvent.event_type == "document_generated")
                          .order_by(AuditEvent.id.desc()).limit(1)) == {
        "document_id": document.id, "kind": "supplement_request", "number": "东公补〔2026〕1号"}


def test_a_number_entered_by_hand_is_passed_over_by_the_series(session, users, clock):
    supervised = create_case(session, users["samr_handler"], "某公司技术秘密被侵犯案")
    request_supervision(session, supervised, clock, SAMR_REQUEST)
    order_filing(session, users, supervised, clock)
    act(session, users["police_head"], supervised.id, "file_on_notice", {**FILED, "filing_number": "东公立字〔2026〕1号"})
    transfer = transferred(session, users)
    police_decide(session, users, transfer.id, FILE)
    numbers = {(d.case_id, d.kind): d.number for d in session.scalars(select(Document))}
    assert numbers[(supervised.id, "filing_decision_record")] == "东公立字〔2026〕1号"
    assert numbers[(transfer.id, "filing_decision_record")] == "东公立字〔2026〕2号"
    notice = session.scalars(select(Document).where(Document.case_id == transfer.id,
                                                    Document.kind == "filing_notice")).one()
    assert notice.content["steps"]["decide_filing"]["filing_number"] == "东公立字〔2026〕2号"
    assert session.scalar(select(DocumentCounter.last).where(DocumentCounter.series == "立字")) == 2


def test_the_counter_row_stays_locked_until_commit(pg_database_url):
    """Two transactions taking a number of the same series: the second waits for the first to
    end, from the counter row's creation on, and then takes the next number."""
    engine = make_engine(pg_database_url, pool_size=4)
    factory = make_session_factory(engine)
    factory.configure(info={"clock": FixedClock(START)})
    try:
        with factory() as first, factory() as second:
            police = first.scalars(select(Agency).where(Agency.code == "police")).one()
            police_again = second.scalars(select(Agency).where(Agency.code == "police")).one()
            second.commit()
            assert documents._next_number(first, "postgresql", police, "锁", 2026) == "东公锁〔2026〕1号"
            started = threading.Event()

            def take() -> str:
                started.set()
                number = documents._next_number(second, "postgresql", police_again, "锁", 2026)
                second.commit()
                return number

            with ThreadPoolExecutor(1) as pool:
                waiting = pool.submit(take)
                started.wait()
                assert not waiting.done() and _still_running(waiting), "the second took a number under the lock"
                first.commit()
                assert waiting.result(timeout=10) == "东公锁〔2026〕2号"
    finally:
        engine.dispose()


def _still_running(future, seconds: float = 0.5) -> bool:
    try:
        future.result(timeout=seconds)
    except TimeoutError:
        return True
    return False
