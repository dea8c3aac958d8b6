"""What a claim gives and what it leaves in the session: its one statement returns the claimed
row's columns with its lane, its case's number and its process model as plain values (what the
API's answer reads), a task the session already held is read anew when next used, and what the
session had loaded of the case and the instance stays as it was."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from engine import Conflict, Forbidden, NotFound, claim_task, create_case, verify_audit
from models import Case, HumanTask, User
from tests.helpers import event_types, instance_of, open_task


@pytest.fixture
def case(session, users):
    return create_case(session, users["samr_handler"], "配方泄露案")


@contextmanager
def statements(session):
    seen: list[str] = []
    engine = session.get_bind()

    def before(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def test_the_claim_returns_the_row_it_wrote(session, users, case):
    task_id = open_task(session, case.id, "register_facts").id
    number, model_id = case.number, instance_of(session, case.id).process_model_id
    session.expunge_all()  # as in a request: nothing of the case loaded before the claim
    user = users["samr_handler"]
    claimed = claim_task(session, user, task_id)
    assert (claimed.case_number, claimed.process_model_id, claimed.lane) == (number, model_id, "samr.handler")
    assert (claimed.assignee_id, claimed.assignee_name, claimed.state) == (user.id, user.username, "open")
    assert (claimed.completed_at, claimed.completed_by_name) == (None, None)
    # Every column it holds is the row's as the database now has it.
    task = session.get(HumanTask, task_id)
    for name in ("id", "case_id", "instance_id", "bpmn_id", "title", "agency_id", "role", "form_name", "claimed_at",
                 "created_at", "due_at", "due_provisional", "deadline_rule", "deadline_rule_id",
                 "deadline_trigger_at", "deadline_basis", "handoff", "lane", "state", "assignee_id", "completed_at"):
        assert getattr(claimed, name) == getattr(task, name), name
    assert task.claimed_at is not None and task.assignee.username == user.username and task.completed_by is None


def test_a_claimed_task_with_a_due_rule_holds_it(session, users, case):
    """The due rule's columns (a JSON basis, times) come back as the entity reads them."""
    task = open_task(session, case.id, "register_facts")
    session.execute(HumanTask.__table__.update().where(HumanTask.id == task.id).values(
        deadline_rule_id="transfer_review", deadline_rule="5wd", deadline_trigger_at=task.created_at,
        deadline_basis={"trigger": "received", "statute": "第十条"}))
    session.commit()
    claimed = claim_task(session, users["samr_handler"], task.id)
    assert (claimed.deadline_rule_id, claimed.deadline_rule) == ("transfer_review", "5wd")
    assert claimed.deadline_basis == {"trigger": "received", "statute": "第十条"}
    assert claimed.deadline_trigger_at == task.created_at


def test_a_task_the_session_held_is_read_anew(session, users, case):
    task = open_task(session, case.id, "register_facts")
    assert task.assignee_id is None and task.assignee is None
    user = users["samr_handler"]
    claimed = claim_task(session, user, task.id)
    assert claimed.id == task.id
    assert (task.assignee_id, task.assignee) == (user.id, user)
    assert task.claimed_at == claimed.claimed_at


def test_what_the_session_loaded_of_case_and_instance_stays(session, users, case):
    task = open_task(session, case.id, "register_facts")
    instance = instance_of(session, case.id)
    loaded_case = session.get(Case, case.id)
    title, status, version = loaded_case.title, instance.status, instance.version
    claim_task(session, users["samr_handler"], task.id)
    with statements(session) as seen:
        assert (loaded_case.title, instance.status, instance.version) == (title, status, version)
    assert seen == []
    assert task.case is loaded_case and task.instance is instance


def test_the_claim_is_audited_with_the_task(session, users, case):
    task = open_task(session, case.id, "register_facts")
    claim_task(session, users["samr_handler"], task.id)
    assert event_types(session, case.id)[-1] == "task_claimed"
    assert verify_audit(session) == []


def test_a_lost_claim_reads_the_task_as_it_is_now(db, session, users, case):
    task = open_task(session, case.id, "register_facts")
    session.commit()  # end the read: the other session claims meanwhile
    other = db[1]()
    try:
        claim_task(other, other.get(User, users["samr_handler"].id), task.id)
    finally:
        other.close()
    assert task.assignee_id is None  # what this session still holds
    with pytest.raises(Conflict, match="claimed by someone else"):
        claim_task(session, users["samr_handler2"], task.id)
    assert task.assignee_id == users["samr_handler"].id
    with pytest.raises(Conflict, match="you have already claimed"):
        claim_task(session, users["samr_handler"], task.id)
    assert verify_audit(session) == []


def test_a_claim_outside_the_lanes_is_refused_and_rolled_back(session, users, case):
    """Forbidden to a user who sees the case, NotFound to one who does not; the row is as it was."""
    task = open_task(session, case.id, "register_facts")
    with pytest.raises(Forbidden, match=r"lane samr\.handler, which is not yours"):
        claim_task(session, users["samr_liaison"], task.id)
    with pytest.raises(NotFound, match=f"task {task.id} does not exist"):
        claim_task(session, users["police_handler"], task.id)
    session.expire_all()
    assert session.get(HumanTask, task.id).assignee_id is None
    assert "task_claimed" not in event_types(session, case.id)
