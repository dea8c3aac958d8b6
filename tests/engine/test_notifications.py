"""Notifications: each kind reaches the right users in the transaction of its cause; the deadline
scan notifies once however many workers run; notifications are mailed to a local SMTP sink,
retried when the server fails, and never lost."""
from __future__ import annotations

import email
import socket
import threading
from datetime import datetime, timedelta
from email import policy as email_policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, update

from engine import (
    MailSettings,
    NotFound,
    claim_task,
    create_case,
    delegate_task,
    mark_all_read,
    mark_read,
    my_notifications,
    reassign_task,
    unread_count,
)
from engine.oversight.notification_mail import MAX_AGE, send_pending
from engine.oversight.notifications import scan_deadlines
from engine.runtime.instances import start_instance
from engine.worker.passes import drain
from models import Case, DeadlineNotice, HumanTask, Notification, User, make_engine, make_session_factory
from tests.conftest import SHANGHAI
from tests.helpers import APPROVE_TRANSFER, FACTS_500K, act, open_task


def received(session, kind: str | None = None) -> dict[str, list[str]]:
    """{username: [kinds]} of every notification (of one kind), oldest first."""
    query = (select(User.username, Notification.kind).join(User, User.id == Notification.recipient_id)
             .order_by(Notification.id))
    if kind:
        query = query.where(Notification.kind == kind)
    found: dict[str, list[str]] = {}
    for username, k in session.execute(query):
        found.setdefault(username, []).append(k)
    return found


@pytest.fixture
def case(session, users):
    return create_case(session, users["samr_handler"], "配方泄露案")


@pytest.fixture
def at_decision(session, users, case):
    """The head's decision is open (3d from Monday 09:00: due end of Thursday 5 March)."""
    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    return open_task(session, case.id, "decide_transfer")


def test_a_new_task_tells_its_lane_but_not_who_opened_it(session, users, case):
    task = open_task(session, case.id, "register_facts")
    assert received(session) == {"samr_handler2": ["task_claimable"]}
    note = session.scalar(select(Notification))
    assert (note.task_id, note.case_id, note.read_at, note.emailed_at) == (task.id, case.id, None, None)
    assert note.params["title"] == "登记案件事实" and note.params["case_number"] == case.number
    assert note.params["actor"] == users["samr_handler"].display_name


def test_notifications_are_written_in_the_transaction_of_their_cause(session, users, case):
    before = session.scalar(select(func.count()).select_from(Notification))
    start_instance(session, session.get(Case, case.id), "case_transfer", users["samr_handler"])
    session.flush()
    assert session.scalar(select(func.count()).select_from(Notification)) == before + 1
    session.rollback()  # the step is undone: its task row and its notification with it
    assert session.scalar(select(func.count()).select_from(Notification)) == before


def test_next_lane_and_handoff_approval(session, users, case, at_decision):
    assert received(session, "task_claimable")["samr_head"] == ["task_claimable"]
    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    assert received(session, "handoff_pending") == {"samr_liaison": ["handoff_pending"]}


def test_reassign_and_delegate_tell_the_new_assignee(session, users, case):
    task = open_task(session, case.id, "register_facts")
    delegate_task(session, users["samr_liaison"], task.id, users["samr_handler2"])
    reassign_task(session, users["samr_liaison"], task.id, users["samr_handler"])
    assert received(session, "task_delegated") == {"samr_handler2": ["task_delegated"]}
    assert received(session, "task_assigned") == {"samr_handler": ["task_assigned"]}
    note = session.scalar(select(Notification).where(Notification.kind == "task_assigned"))
    assert note.params["actor"] == users["samr_liaison"].display_name


def test_deadline_soon_and_passed_each_once(session, users, clock, at_decision):
    assert scan_deadlines(session) == 0  # Monday: due Thursday, more than a working day away
    clock.set(datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI))  # Wednesday: due by end of tomorrow
    assert scan_deadlines(session) == 1
    assert scan_deadlines(session) == 0
    assert received(session, "deadline_soon") == {"samr_head": ["deadline_soon"]}
    claim_task(session, users["samr_head"], at_decision.id)
    clock.set(datetime(2026, 3, 6, 0, 30, tzinfo=SHANGHAI))  # Friday: overdue
    assert scan_deadlines(session) == 1
    assert scan_deadlines(session) == 0
    # The holder, their agency's head (the same person here) and the supervisor; once each.
    assert received(session, "deadline_passed") == {
        "samr_head": ["deadline_passed"], "office_supervisor": ["deadline_passed"]}


def test_deadline_notices_go_to_the_lane_until_claimed(session, users, clock, case):
    task = open_task(session, case.id, "register_facts")
    session.execute(update(HumanTask).where(HumanTask.id == task.id)
                    # Opened days ago: a task due soon from its start has no "due soon" notice.
                    .values(due_at=clock.now() + timedelta(hours=2), created_at=clock.now() - timedelta(days=5)))
    session.commit()
    assert scan_deadlines(session) == 1
    assert received(session, "deadline_soon") == {
        "samr_handler": ["deadline_soon"], "samr_handler2": ["deadline_soon"]}


def test_closed_tasks_are_not_scanned(session, users, clock, case, at_decision):
    act(session, users["samr_head"], case.id, "decide_transfer", APPROVE_TRANSFER)
    clock.set(datetime(2026, 3, 6, 0, 30, tzinfo=SHANGHAI))
    scan_deadlines(session)
    assert not session.scalar(select(Notification).where(
        Notification.task_id == at_decision.id, Notification.kind.like("deadline%")))


@pytest.mark.postgres
def test_two_workers_scan_each_deadline_once(pg_database_url, clock):
    engine = make_engine(pg_database_url)
    factory = make_session_factory(engine)
    factory.configure(info={"clock": clock})
    try:
        with factory() as s:
            handler = s.scalars(select(User).where(User.username == "samr_handler")).one()
            for n in range(30):
                create_case(s, handler, f"期限案{n}")
            # All 30 register_facts tasks fell due an hour ago.
            s.execute(update(HumanTask).values(due_at=clock.now() - timedelta(hours=1)))
            s.commit()
        start, counts = threading.Barrier(2), []

        def worker():
            with factory() as s:
                start.wait()
                counts.append(scan_deadlines(s, limit=100))

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(counts) == 30
        with factory() as s:
            assert s.scalar(select(func.count()).select_from(DeadlineNotice)) == 30
            per_task_user = s.execute(
                select(Notification.task_id, Notification.recipient_id, func.count())
                .where(Notification.kind == "deadline_passed")
                .group_by(Notification.task_id, Notification.recipient_id)).all()
            # Both handlers (unclaimed: the lane), the head and the supervisor, once each.
            assert len(per_task_user) == 30 * 4 and {row[2] for row in per_task_user} == {1}
    finally:
        engine.dispose()


# --- reading ---------------------------------------------------------------------------------

def test_reading_is_per_user(session, users, case):
    handler2 = users["samr_handler2"]
    assert unread_count(session, handler2) == 1
    page = my_notifications(session, handler2)
    assert page.total == 1 and page.items[0].kind == "task_claimable"
    with pytest.raises(NotFound):
        mark_read(session, users["samr_head"], page.items[0].id)
    assert mark_read(session, handler2, page.items[0].id).read_at is not None
    assert unread_count(session, handler2) == 0
    assert my_notifications(session, handler2, unread_only=True).total == 0
    create_case(session, users["samr_handler"], "第二案")
    assert mark_all_read(session, handler2) == 1 and unread_count(session, handler2) == 0


# --- email -----------------------------------------------------------------------------------

class Sink:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, smtp_session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email_policy.default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_sink():
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield sink, controller.port
    controller.stop()


@pytest.fixture
def with_email(session, users):
    session.execute(update(User).where(User.username.in_(["samr_handler2", "samr_head"]))
                    .values(email=User.username + "@samr.example"))
    session.commit()


def mail(port: int, **kwargs) -> MailSettings:
    return MailSettings(enabled=True, host="127.0.0.1", port=port, sender="liandong@samr.example",
                        base_url="https://liandong.example", **kwargs)


def test_notifications_are_mailed_once_in_chinese(session, users, with_email, case, smtp_sink):
    sink, port = smtp_sink
    assert send_pending(session, MailSettings(enabled=False, port=port)) == 0
    assert send_pending(session, mail(port)) == 1
    assert send_pending(session, mail(port)) == 0
    [message] = sink.messages
    assert message["To"] == "samr_handler2@samr.example"
    assert message["Subject"] == "【联动】新的待办任务：登记案件事实"
    body = message.get_content()
    assert case.number in body and "https://liandong.example/notifications" in body
    assert "配方泄露案" not in body  # no case title or content leaves by mail
    note = session.scalar(select(Notification).execution_options(populate_existing=True))
    assert note.emailed_at is not None and note.email_attempts == 1


def test_read_old_or_addressless_notifications_are_not_mailed(session, users, with_email, case,
                                                            clock, smtp_sink):
    sink, port = smtp_sink
    mark_all_read(session, users["samr_handler2"])
    act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)  # to samr_head
    clock.advance(seconds=MAX_AGE.total_seconds() + 1)
    create_case(session, users["samr_handler2"], "第二案")  # to samr_handler: has no address
    assert send_pending(session, mail(port)) == 0 and sink.messages == []


def test_a_failed_mail_is_retried_and_the_notification_kept(session, users, with_email, case,
                                                           clock, smtp_sink):
    sink, port = smtp_sink
    assert send_pending(session, mail(free_port(), timeout=2)) == 0  # nothing listens there
    note = session.scalar(select(Notification).execution_options(populate_existing=True))
    assert note.emailed_at is None and note.email_attempts == 1 and note.email_error
    assert note.read_at is None and unread_count(session, users["samr_handler2"]) == 1
    assert send_pending(session, mail(port)) == 0  # waits for its retry time
    clock.advance(minutes=3)
    assert drain(session, mail=mail(port)).emails == 1
    note = session.scalar(select(Notification).execution_options(populate_existing=True))
    assert note.emailed_at is not None and note.email_error is None and note.email_attempts == 2
    assert len(sink.messages) == 1
