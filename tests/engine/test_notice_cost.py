"""Copying the procuratorate on a case and telling an agency's liaisons cost a statement each: the
observer row is one INSERT that finds the agency by its code, the notices one INSERT ... SELECT
over the recipients. The rows are those the agency's active liaisons always got, in order of
their ids, with the same texts, and the mail outbox takes them as before. On SQLite and PostgreSQL.
"""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import event, select

import engine
from engine.mechanisms.procuratorate import REACTIONS
from engine.oversight import notifications
from engine.oversight.notification_mail import MailSettings, compose
from engine.runtime.reached import Reached
from models import AuditEvent, Case, CaseParticipant, Membership, Notification, User, case_chain
from tests.conftest import SHANGHAI, START
from tests.helpers import APPROVE_TRANSFER, FACTS_500K, RECEIPT, act, instance_of, open_task, transferred

TABLE = REACTIONS["case_transfer"]
PASSWORD = "a-long-enough-password"


@pytest.fixture
def liaisons(session, users) -> list[str]:
    """More of the procuratorate's users than the seed has: two more liaisons (one with a second
    role, one mailed), one who left (inactive) and a handler; the usernames that are told."""
    engine.create_user(session, "procuratorate_liaison2", PASSWORD, "赵联络员", "procuratorate",
                       ["liaison", "head"], email="zhao@example.cn")
    gone = engine.create_user(session, "procuratorate_liaison_gone", PASSWORD, "钱联络员", "procuratorate",
                              ["liaison"])
    engine.create_user(session, "procuratorate_liaison3", PASSWORD, "孙联络员", "procuratorate", ["liaison"])
    engine.create_user(session, "procuratorate_handler2", PASSWORD, "李检察官", "procuratorate", ["handler"])
    gone.active = False
    session.commit()
    return ["procuratorate_liaison", "procuratorate_liaison2", "procuratorate_liaison3"]


def decided(session, users) -> Case:
    """A case whose transfer the head approved: the letter not sent yet, the procuratorate not on it."""
    case = engine.create_case(session, users["samr_handler"], "某公司配方被盗案")
    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    return case


def counted(session, work) -> list[str]:
    """The statements `work` sends, in a transaction already begun (SQLite's BEGIN not counted)."""
    session.connection()
    seen: list[str] = []
    listen = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(session.get_bind(), "before_cursor_execute", listen)
    try:
        work()
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", listen)
    return seen


def react(session, case: Case, bpmn_id: str, actor: User | None) -> list[str]:
    reached = Reached(session, instance_of(session, case.id), bpmn_id, {}, actor)
    return counted(session, lambda: TABLE[bpmn_id](reached))


def expected(session, case: Case, kind: str, actor: User | None, due_at: datetime | None = None) -> list[tuple]:
    """The notices as they were always made: one per active liaison of the procuratorate, by id."""
    recipients = session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.agency.has(code="procuratorate"), Membership.role == "liaison", User.active.is_(True))
        .order_by(User.id)).unique()
    params = {"title": "", "case_title": case.title, "case_number": case.number,
              "due_at": due_at.isoformat() if due_at else None, "actor": actor.display_name if actor else None}
    return [(user.id, kind, case.id, None, params, START, None, None, 0, None, None) for user in recipients]


def written(session, case: Case) -> list[tuple]:
    return [(n.recipient_id, n.kind, n.case_id, n.task_id, n.params, n.created_at, n.read_at, n.emailed_at,
             n.email_attempts, n.email_retry_at, n.email_error)
            for n in session.scalars(select(Notification).where(Notification.case_id == case.id,
                                                                Notification.task_id.is_(None))
                                     .order_by(Notification.id).execution_options(populate_existing=True))]


def observer_events(session, case: Case) -> list[tuple[str, dict]]:
    return [(e.event_type, e.detail) for e in session.scalars(
        select(AuditEvent).where(AuditEvent.chain == case_chain(case.id),
                                 AuditEvent.event_type.in_(["observer_joined", "transfer_refused_reported",
                                                            "filing_overdue_reported"]))
        .order_by(AuditEvent.seq))]


def test_the_copy_is_two_statements_and_writes_what_it_always_did(session, users, liaisons):
    case, actor = decided(session, users), users["samr_liaison"]
    ran = react(session, case, "send_transfer", actor)
    assert len(ran) == 2, ran  # the observer row, then the notices
    session.commit()

    participant = session.scalars(select(CaseParticipant).where(
        CaseParticipant.case_id == case.id, CaseParticipant.agency.has(code="procuratorate"))).one()
    assert (participant.role, participant.joined_at) == ("observer", START)
    assert written(session, case) == expected(session, case, "case_copied", actor)
    ids = dict(session.execute(select(User.username, User.id)).all())
    assert [row[0] for row in written(session, case)] == [ids[name] for name in liaisons]
    assert observer_events(session, case) == [("observer_joined", {"agency": "procuratorate",
                                                                    "reason": "transfer_sent"})]
    # The mail outbox takes the rows as before: the liaison with an address gets the same mail.
    mailed = session.scalars(select(Notification).where(
        Notification.case_id == case.id, Notification.recipient_id == ids["procuratorate_liaison2"])).one()
    message = compose(mailed, "zhao@example.cn", MailSettings())
    assert message["Subject"] == f"【联动】移送书抄送：案件 {case.number}"

    # Copied again (the letter sent once more): one statement, nothing new.
    assert len(react(session, case, "send_transfer", actor)) == 1
    session.commit()
    assert written(session, case) == expected(session, case, "case_copied", actor)
    assert len(observer_events(session, case)) == 1
    assert engine.verify_audit(session, case.id) == []


def test_a_report_joins_and_notifies_in_two_statements(session, users, liaisons, clock):
    case, actor = decided(session, users), users["samr_head"]
    assert len(react(session, case, "transfer_refused", actor)) == 2
    session.commit()
    assert written(session, case) == expected(session, case, "transfer_refused_reported", actor)
    assert observer_events(session, case) == [
        ("observer_joined", {"agency": "procuratorate", "reason": "transfer_refused_reported"}),
        ("transfer_refused_reported", {"agency": "procuratorate", "element": "transfer_refused"})]

    # Already an observer: the join inserts nothing and the report is told all the same.
    before = written(session, case)
    assert len(react(session, case, "transfer_refused", None)) == 2
    session.commit()
    assert written(session, case)[len(before):] == expected(session, case, "transfer_refused_reported", None)


def test_a_missed_deadline_names_its_due_time(session, users, liaisons):
    case = transferred(session, users)
    act(session, users["police_liaison"], case.id, "accept_receipt", RECEIPT)
    due = open_task(session, case.id, "decide_filing").due_at
    assert due is not None
    before = written(session, case)
    ran = react(session, case, "decide_filing_overdue", None)
    assert len(ran) == 3, ran  # the join (inserting nothing: copied already), the due time, the notices
    session.commit()
    assert written(session, case)[len(before):] == expected(session, case, "filing_overdue_reported", None, due)
    assert observer_events(session, case)[-1] == ("filing_overdue_reported", {
        "agency": "procuratorate", "element": "decide_filing_overdue", "due_at": due.isoformat()})


def test_an_agency_told_by_its_id_gets_the_same_rows_in_one_statement(session, users, liaisons):
    case = decided(session, users)
    agency_id = session.scalar(select(Membership.agency_id).join(User).where(User.username == "procuratorate_liaison"))
    actor = users["samr_head"]
    ran = counted(session, lambda: notifications.agency_notice(
        session, case, agency_id, "liaison", notifications.ACTION_ITEM_WITHDRAWN, actor, title="落实事项"))
    assert len(ran) == 1, ran
    session.commit()
    want = [(*row[:4], {**row[4], "title": "落实事项"}, *row[5:])
            for row in expected(session, case, notifications.ACTION_ITEM_WITHDRAWN, actor)]
    assert written(session, case) == want


def test_several_recipients_of_a_task_notice_are_one_insert(session, users, clock):
    """The deadline scan tells a task's holder, the heads of its agency and the supervisors: one
    statement for all of their rows (SQLite too), each user once, in the order they are named."""
    case = engine.create_case(session, users["samr_handler"], "配方泄露案")
    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    task = open_task(session, case.id, "decide_transfer")
    engine.claim_task(session, users["samr_head"], task.id)
    clock.set(datetime(2026, 3, 6, 0, 30, tzinfo=SHANGHAI))  # Friday: overdue
    scanned: list[int] = []
    ran = counted(session, lambda: scanned.append(notifications.scan_deadlines(session)))
    assert scanned == [1]
    assert len([s for s in ran if s.startswith("INSERT INTO notification")]) == 1, ran
    rows = session.execute(select(User.username, Notification.kind, Notification.task_id, Notification.params,
                                  Notification.created_at, Notification.email_attempts)
                           .join(User, User.id == Notification.recipient_id)
                           .where(Notification.kind == notifications.DEADLINE_PASSED)
                           .order_by(Notification.id)).all()
    params = {"title": task.title, "case_title": case.title, "case_number": case.number,
              "due_at": task.due_at.isoformat(), "actor": None}
    assert [tuple(row) for row in rows] == [("samr_head", "deadline_passed", task.id, params, clock.now(), 0),
                                            ("office_supervisor", "deadline_passed", task.id, params, clock.now(), 0)]
