"""The `liandong` commands, run through Flask's CLI runner against real databases."""
from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from models import AuditEvent, ProcessModel, User
from web import create_app
from web.db import db

from .helpers import login

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
MODELS = len(list(WORKFLOWS.glob("*.bpmn")))  # one process model per diagram


def count(app, model) -> int:
    with db.new_session(app) as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def fresh_app(tmp_path, monkeypatch):
    """An app on an empty SQLite file, as on a new machine."""
    instance = tmp_path / "instance"
    monkeypatch.setenv("LIANDONG_INSTANCE", str(instance))
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite'}", "SECRET_KEY": "x",
                      "TESTING": True, "INSTANCE_PATH": str(instance)})
    yield app
    db.state(app).engine.dispose()


def test_init_demo_creates_everything_and_always_shows_the_logins(fresh_app):
    runner = fresh_app.test_cli_runner()
    result = runner.invoke(args=["init", "--demo"])
    assert result.exit_code == 0, result.output
    assert "deployed: case_transfer" in result.output
    assert "samr_handler" in result.output and "police_head" in result.output
    logins = Path(fresh_app.instance_path) / "demo-logins.txt"
    assert stat.S_IMODE(logins.stat().st_mode) == 0o600
    lines = logins.read_text(encoding="utf-8").splitlines()
    assert lines[0].split() == ["username", "password", "name"]
    username, password = lines[1].split()[:2]
    assert count(fresh_app, User) == 15 and count(fresh_app, ProcessModel) == MODELS

    again = runner.invoke(args=["init", "--demo"])
    assert again.exit_code == 0, again.output
    assert "unchanged: case_transfer" in again.output
    assert f"{username:<24}{password}" in again.output  # the same logins, shown again
    assert count(fresh_app, User) == 15 and count(fresh_app, ProcessModel) == MODELS

    client = fresh_app.test_client()
    assert login(client, username, password).status_code == 302


def test_deploy_of_a_malformed_file_exits_2_naming_it_and_deploys_nothing(app, runner, tmp_path):
    folder = tmp_path / "wf"
    shutil.copytree(WORKFLOWS, folder)
    changed = folder / "case_transfer.bpmn"
    changed.write_text(changed.read_text(encoding="utf-8").replace('name="立案协助"', 'name="立案协助v2"'),
                       encoding="utf-8")
    broken = folder / "zz_broken.bpmn"
    broken.write_text('<?xml version="1.0"?>\n<bpmn:definitions xmlns:bpmn="x">\n<oops>\n',
                      encoding="utf-8")
    before = count(app, ProcessModel)
    result = runner.invoke(args=["deploy", str(changed), str(broken)])
    assert result.exit_code == 2
    assert "zz_broken.bpmn" in result.stderr and result.stderr.startswith("error: ")
    assert ":3" in result.stderr or ":4" in result.stderr  # the line of the XML error
    assert count(app, ProcessModel) == before  # the valid changed file was not deployed either


def test_deploy_of_a_changed_file_makes_a_new_version(app, runner, tmp_path):
    folder = tmp_path / "wf"
    shutil.copytree(WORKFLOWS, folder)
    changed = folder / "case_transfer.bpmn"
    changed.write_text(changed.read_text(encoding="utf-8").replace('name="立案协助"', 'name="立案协助v2"'),
                       encoding="utf-8")
    result = runner.invoke(args=["deploy", str(folder)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("deployed: case_transfer ")


def test_calendar_due_prints_one_iso_token(runner):
    result = runner.invoke(args=["calendar", "due", "--start", "2026-03-02T09:00:00+08:00", "--rule", "3d"])
    assert result.exit_code == 0, result.output
    assert result.output == "2026-03-05T23:59:59+08:00\n"
    # Without an offset the start is Beijing time; 1 working day after Friday 2026-04-03 skips
    # the Qingming holiday (4-6 April) to Tuesday the 7th.
    result = runner.invoke(args=["calendar", "due", "--start", "2026-04-03T10:00", "--rule", "1wd"])
    assert result.output == "2026-04-07T23:59:59+08:00\n"


@pytest.mark.parametrize("args, needle", [
    (["--start", "2026-03-02T09:00:00+08:00", "--rule", "3 weeks"], "deadline rule"),
    (["--start", "next monday", "--rule", "3d"], "is not an ISO date-time"),
])
def test_calendar_due_bad_input_exits_2(runner, args, needle):
    result = runner.invoke(args=["calendar", "due", *args])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and needle in result.stderr
    assert result.stdout == ""


def test_audit_verify_ok_then_reports_tampering(app, runner):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and result.output == "OK\n"
    with db.new_session(app) as session:
        session.execute(update(AuditEvent).where(AuditEvent.seq == 1).values(detail={"forged": True}))
        session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "system: event 1" in result.output and "does not match its hash" in result.output


def test_users_add_reads_the_password_from_stdin(app, runner):
    result = runner.invoke(args=["users", "add", "samr_new", "--agency", "samr", "--role", "handler",
                                 "--role", "liaison", "--name", "钱新人", "--password-stdin"],
                           input="a-long-password\n")
    assert result.exit_code == 0, result.output
    assert login(app.test_client(), "samr_new", "a-long-password").status_code == 302


def test_users_add_refuses_bad_input_with_exit_2(runner):
    result = runner.invoke(args=["users", "add", "x", "--agency", "mars", "--role", "handler",
                                 "--name", "X", "--password-stdin"], input="short\n")
    assert result.exit_code == 2
    assert "password" in result.stderr and "agency" in result.stderr
    result = runner.invoke(args=["users", "add", "samr_head", "--agency", "samr", "--role", "head",
                                 "--name", "X", "--password-stdin"], input="a-long-password\n")
    assert result.exit_code == 2 and "already exists" in result.stderr


def test_worker_once_fires_what_is_due(app, runner, clock):
    from engine import create_case
    from engine.bootstrap import deploy_folder
    from engine.runtime.instances import start_instance
    from models import Timer

    with db.new_session(app) as session:
        deploy_folder(session, Path(__file__).resolve().parents[1] / "fixtures" / "bpmn")
        handler = session.scalars(select(User).where(User.username == "samr_handler")).one()
        case = create_case(session, handler, "期限")
        start_instance(session, case, "timer_only", handler)
        session.commit()
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "fired 0 timer(s), delivered 0 message(s)" in result.output
    clock.advance(hours=1, seconds=1)
    result = runner.invoke(args=["worker", "--once"])
    assert "fired 1 timer(s)" in result.output
    with db.new_session(app) as session:
        assert session.scalars(select(Timer.status)).all() == ["fired"]
