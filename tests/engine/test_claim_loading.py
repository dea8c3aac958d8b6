"""What a claim leaves in the session: its one statement reads only what the claim and its answer
need of the case and the instance, refreshes a task the session already held, and leaves alone
what the session had loaded of the case and the instance."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from engine import Conflict, claim_task, create_case
from models import Case, ProcessInstance, User
from tests.helpers import instance_of, open_task


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


def _answer(task) -> tuple:
    """What web/api/dumps.py's task_detail reads of a claimed task besides its own columns."""
    return (task.case.number, task.instance.process_model_id, task.lane, task.assignee.username,
            task.completed_by)


def test_the_answer_reads_nothing_after_the_claim(session, users, case):
    task_id = open_task(session, case.id, "register_facts").id
    number, model_id = case.number, instance_of(session, case.id).process_model_id
    session.expunge_all()  # as in a request: nothing of the case loaded before the claim
    user = users["samr_handler"]
    task = claim_task(session, user, task_id)
    with statements(session) as seen:
        assert _answer(task) == (number, model_id, "samr.handler", user.username, None)
        assert (task.assignee_id, task.state) == (user.id, "open")
        assert task.claimed_at is not None
    assert seen == []


def test_a_task_the_session_held_is_read_anew(session, users, case):
    task = open_task(session, case.id, "register_facts")
    assert task.assignee_id is None and task.assignee is None
    user = users["samr_handler"]
    claimed = claim_task(session, user, task.id)
    assert claimed is task
    with statements(session) as seen:
        assert (task.assignee_id, task.assignee) == (user.id, user)
        assert task.claimed_at is not None
    assert seen == []


def test_what_the_session_loaded_of_case_and_instance_stays(session, users, case):
    task = open_task(session, case.id, "register_facts")
    instance = instance_of(session, case.id)
    loaded_case = session.get(Case, case.id)
    title, status, version = loaded_case.title, instance.status, instance.version
    claim_task(session, users["samr_handler"], task.id)
    with statements(session) as seen:
        assert task.case is loaded_case and task.instance is instance
        assert (loaded_case.title, instance.status, instance.version) == (title, status, version)
    assert seen == []


def test_a_case_and_instance_read_by_the_claim_load_the_rest_when_asked(session, users, case):
    task_id = open_task(session, case.id, "register_facts").id
    title, status = case.title, instance_of(session, case.id).status
    session.expunge_all()
    task = claim_task(session, users["samr_handler"], task_id)
    assert task.case.title == title
    assert task.instance.status == status
    assert session.get(ProcessInstance, task.instance_id) is task.instance


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
