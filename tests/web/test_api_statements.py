"""What the JSON API's busiest calls cost the database: a ceiling on the SQL statements each one
runs (transaction control not counted), on both backends.

Each ceiling is what the call needs today: a step reads its instance's open work with the lock
(engine/runtime/open_work.py), a transaction writes its audit events at commit in one statement
after the chain head a statement it ran anyway read (two on SQLite; else the head is locked first;
a new case's chain in one) (engine/access/audit.py), a claim is one UPDATE that returns the task's
columns with its lane, its case's number and its process model (engine/casework/tasks.py), a
completion writes its task and instance rows in one statement (PostgreSQL;
engine/runtime/step_write.py), a new case is inserted with its number, its owner and its first
instance (with its process model version and the calendar) in one statement and its first state
written by one UPDATE (PostgreSQL; engine/casework/cases.py, engine/runtime/instances.py), a case
is read as one line per participant (engine/oversight/case_reads.py), a new case is answered with
what opening it made, not read back. A change that adds a
statement to one of these calls fails here, and has to say why the statement is worth its cost
on every task of every case (bench/RESULTS.md).
"""
from __future__ import annotations

from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from sqlalchemy import event

from tests.helpers import FACTS_500K
from web.db import db

from .api_helpers import ApiClient

# On PostgreSQL a transaction's audit events ride in its chain head's UPDATE (one statement less
# per write transaction), and a task row opens with its lane's notices in one statement; SQLite
# cannot put an INSERT in a CTE.
# The completion measured is the transfer report's: it reads the lane's officers once, to check the
# two who sign it (Decree 310 art. 5; a form with engine-offered choices, not every task).
CEILINGS = {
    "postgres": {"create": 4, "inbox": 1, "claim": 2, "complete": 6, "case": 3},
    "sqlite": {"create": 9, "inbox": 1, "claim": 4, "complete": 9, "case": 3},
}


@pytest.fixture
def statements(app):
    """`statements.of(kind)` counts the statements the app runs inside it into `statements.seen`."""
    seen: dict[str, list[str]] = {}
    current: list[str] = []

    def before(_conn, _cursor, statement, *_args):
        if current and not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            seen[current[0]].append(statement)

    @contextmanager
    def of(kind: str):
        seen.setdefault(kind, [])
        current.append(kind)
        try:
            yield
        finally:
            current.clear()

    sql = db.state(app).engine
    event.listen(sql, "before_cursor_execute", before)
    yield SimpleNamespace(of=of, seen=seen)
    event.remove(sql, "before_cursor_execute", before)


def test_the_busiest_calls_stay_within_their_statements(app, statements, backend):
    handler = ApiClient(app, "samr_handler")
    # Read once per process, then remembered: the token, the process model, the agencies' ids.
    assert handler.post("/cases", json={"title": "预热"}).status_code == 201

    with statements.of("create"):
        created = handler.post("/cases", json={"title": "语句计数案件"})
    assert created.status_code == 201
    case_id = created.get_json()["id"]
    with statements.of("inbox"):
        page = handler.get(f"/tasks?case_id={case_id}&view=claimable").get_json()
    task_id = page["items"][0]["id"]
    with statements.of("claim"):
        assert handler.post(f"/tasks/{task_id}/claim").status_code == 200
    with statements.of("complete"):
        done = handler.post(f"/tasks/{task_id}/complete", json={"data": FACTS_500K})
    assert done.status_code == 200 and done.get_json()["state"] == "completed"
    with statements.of("case"):
        shown = handler.get(f"/cases/{case_id}").get_json()

    # The calls did their work: the next task is open and the case shows both.
    assert [t["state"] for t in shown["tasks"]] == ["completed", "open"]
    for kind, ceiling in CEILINGS[backend].items():
        ran = statements.seen[kind]
        assert len(ran) <= ceiling, f"{kind}: {len(ran)} statements, ceiling {ceiling}:\n" + "\n".join(
            s.split("\n")[0][:120] for s in ran)
