"""A completion's task and instance rows as the session holds them afterwards: as written, not
changed (engine/runtime/step_write.py); and the lock reads over rows an earlier transaction of
the session loaded (engine/runtime/instances.py lock_task), since a commit does not expire them."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect

from engine import claim_task, complete_task, create_case
from models import HumanTask, ProcessInstance, User
from tests.helpers import FACTS_500K, instance_of, open_task


@pytest.fixture
def case(session, users):
    return create_case(session, users["samr_handler"], "完成后的行")


def test_a_completion_leaves_its_rows_as_written(session, db, users, case):
    handler = users["samr_handler"]
    task = open_task(session, case.id, "register_facts")
    instance = instance_of(session, case.id)
    version = instance.version
    claim_task(session, handler, task.id)
    done = complete_task(session, handler, task.id, FACTS_500K)
    assert done is task and done.instance is instance
    assert not inspect(done).modified and not inspect(instance).modified
    assert (done.state, done.completed_by_id) == ("completed", handler.id)
    assert instance.version == version + 1
    with db[1]() as fresh:
        row, written = fresh.get(HumanTask, done.id), fresh.get(ProcessInstance, instance.id)
        assert (row.state, row.completed_by_id, row.completed_at, row.result) == (
            done.state, done.completed_by_id, done.completed_at, done.result)
        assert (written.version, written.state_json, written.status) == (
            instance.version, instance.state_json, instance.status)


def test_the_lock_reads_over_a_task_loaded_before(session, db, users, case):
    task = open_task(session, case.id, "register_facts")
    session.commit()
    with db[1]() as other:
        claim_task(other, other.get(User, users["samr_handler"].id), task.id)
    assert task.assignee_id is None  # as this session loaded it
    done = complete_task(session, users["samr_handler"], task.id, FACTS_500K)
    assert done is task and (task.state, task.assignee_id) == ("completed", users["samr_handler"].id)
