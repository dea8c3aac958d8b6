"""Which hand-offs a completion opened a standing approval covers is read in the completion's own
transaction, not in one of its own after it: a completion that opens a hand-off commits once
when nothing covers it, and a covered one is still approved in the grantor's name. Real transfer
diagram, both databases."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from engine import complete_task, grant_standing_approval
from engine.casework.tasks import claim_task
from tests.helpers import RECEIPT, act, open_task, open_tasks, transferred


@contextmanager
def transactions(session):
    """The transactions committed inside, and the statements each ran (BEGIN/COMMIT not counted)."""
    committed: list[list[str]] = [[]]
    sql = session.get_bind()

    def ran(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            committed[-1].append(statement)

    def commit(_conn):
        committed.append([])

    event.listen(sql, "before_cursor_execute", ran)
    event.listen(sql, "commit", commit)
    try:
        yield committed
    finally:
        event.remove(sql, "before_cursor_execute", ran)
        event.remove(sql, "commit", commit)


def _decide_filing(session, users, case_id: int):
    act(session, users["police_liaison"], case_id, "accept_receipt", RECEIPT)
    act(session, users["police_handler"], case_id, "review_case", {"recommendation": "file", "opinion": "建议立案"})
    task = open_task(session, case_id, "decide_filing")
    claim_task(session, users["police_head"], task.id)
    return task.id


def test_a_handoff_nobody_covers_costs_no_transaction_of_its_own(session, users):
    case = transferred(session, users)
    task_id = _decide_filing(session, users, case.id)
    with transactions(session) as committed:
        complete_task(session, users["police_head"], task_id,
                      {"filing_decision": "file", "filing_reasons": "符合立案条件"})
    done = committed[:-1]
    assert len(done) == 1, done  # the completion's, with the look-up in it
    assert any("standing_approval" in statement for statement in done[0])
    assert committed[-1] == []  # nothing after the commit
    assert "approve_filing_notice_handoff" in [t.bpmn_id for t in open_tasks(session, case.id)]


def test_a_covered_handoff_is_still_approved_in_the_grantors_name(session, users):
    liaison = users["police_liaison"]
    grant_standing_approval(session, liaison, liaison.agency.id, "case_transfer", "approve_filing_notice_handoff",
                            "本单位统一签收")
    case = transferred(session, users)
    task_id = _decide_filing(session, users, case.id)
    complete_task(session, users["police_head"], task_id, {"filing_decision": "file", "filing_reasons": "符合立案条件"})
    released = [t for t in open_tasks(session, case.id) if t.bpmn_id == "approve_filing_notice_handoff"]
    assert released == []
    assert "accept_filing_notice" in [t.bpmn_id for t in open_tasks(session, case.id)]
