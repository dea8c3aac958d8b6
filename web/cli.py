"""`liandong`: the operator's commands. Each builds the app from the environment (config.py).

Errors an operator must fix (a broken diagram, a bad rule or date, an invalid user) are printed
as `error: ...` on stderr with exit status 2; `audit verify` exits 1 when the record is damaged.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext
from werkzeug.serving import run_simple

import engine
from engine import create_demo_users, deploy_folder, ensure_agencies, format_due
from models.migrations import create_or_upgrade

from . import cli_audit, cli_calendar, cli_db, cli_deadlines, cli_token
from .db import db
from .hardening import QuietRequestHandler

log = logging.getLogger(__name__)


def _log_at_info() -> None:
    """Our own progress at INFO; SpiffWorkflow's per-task INFO lines (about 16 per fired timer)
    would drown it and cost the worker time, so it logs warnings only."""
    logging.basicConfig(level=logging.INFO)
    logging.getLogger("spiff").setLevel(logging.WARNING)
DEMO_LOGINS = "demo-logins.txt"


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(code)


def _report_deploys(results) -> None:
    for result in results:
        state = "deployed" if result.created else "unchanged"
        click.echo(f"{state}: {result.model.key} {result.model.version[:12]}")


@click.command("init")
@click.option("--demo", is_flag=True, help="Also create one demo user per agency role.")
@with_appcontext
def init_command(demo: bool) -> None:
    """Migrate the schema to the newest revision, create the agencies and deploy the process
    models of WORKFLOWS_DIR (idempotent)."""
    click.echo(f"schema {create_or_upgrade(db.engine)}")
    session = db.session
    ensure_agencies(session)
    try:
        _report_deploys(deploy_folder(session, Path(current_app.config["WORKFLOWS_DIR"])))
    except engine.DeployError as exc:
        _fail(exc.message)
    if demo:
        _demo_users(session)


def _demo_users(session) -> None:
    """Passwords exist only at creation, so they are kept (0600) in the instance folder and
    shown on every run: `make run` always prints the logins."""
    path = Path(current_app.instance_path) / DEMO_LOGINS
    created = create_demo_users(session)
    if created:
        path.parent.mkdir(parents=True, exist_ok=True)
        new_file = not path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            if new_file:
                out.write(f"{'username':<24}{'password':<16}name\n")
            for username, password, display in created:
                out.write(f"{username:<24}{password:<16}{display}\n")
        os.chmod(path, 0o600)
    if path.exists():
        click.echo(f"Demo logins ({path}):")
        click.echo(path.read_text(encoding="utf-8"), nl=False)
    else:
        click.echo(f"Demo users already exist; {path} with their passwords is missing.")


@click.command("deploy")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@with_appcontext
def deploy_command(paths: tuple[Path, ...]) -> None:
    """Deploy BPMN files (a folder means its *.bpmn); all or nothing."""
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.bpmn")) if path.is_dir() else [path])
    try:
        _report_deploys(engine.deploy_paths(db.session, files))
    except engine.DeployError as exc:
        _fail(exc.message)


users = AppGroup("users", help="User accounts.")


@users.command("add")
@click.argument("username")
@click.option("--agency", required=True, help="Agency code, e.g. samr.")
@click.option("--role", "roles", multiple=True, required=True, help="Role; repeat for several.")
@click.option("--name", required=True, help="Display name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--email", default=None, help="Where notifications are also mailed (MAIL_ENABLED).")
def add_user(username: str, agency: str, roles: tuple[str, ...], name: str, password_stdin: bool,
             email: str | None) -> None:
    """Create a user (the password is asked for, never given on the command line)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = engine.create_user(db.session, username, password, name, agency, list(roles),
                                  email=email)
    except engine.InvalidInput as exc:
        _fail("; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in exc.errors.items()))
    except engine.Conflict as exc:
        _fail(exc.message)
    click.echo(f"created user {user.username} ({agency}: {', '.join(roles)})")


def _user(username: str):
    try:
        return engine.find_user(db.session, username)
    except engine.NotFound as exc:
        _fail(exc.message)


@users.command("end-sessions")
@click.argument("username")
def end_user_sessions(username: str) -> None:
    """Log USERNAME out of every browser at once (audited)."""
    engine.end_sessions(db.session, None, _user(username), reason="administrator")
    click.echo(f"ended every session of {username}")


@users.command("deactivate")
@click.argument("username")
def deactivate_user(username: str) -> None:
    """Switch the account off: its sessions end and its API tokens stop working (audited)."""
    engine.set_active(db.session, None, _user(username), False)
    click.echo(f"deactivated {username}")


@users.command("activate")
@click.argument("username")
def activate_user(username: str) -> None:
    """Switch a deactivated account on again (audited)."""
    engine.set_active(db.session, None, _user(username), True)
    click.echo(f"activated {username}")


@users.command("unlock")
@click.argument("username")
def unlock_user(username: str) -> None:
    """End every address's wait to log in to USERNAME after wrong passwords (audited)."""
    cleared = engine.unlock_user(db.session, None, _user(username))
    click.echo(f"unlocked {username} ({cleared} address(es) cleared)")


@users.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def set_user_password(username: str, password_stdin: bool) -> None:
    """Give USERNAME a new password; their sessions end (audited)."""
    user = _user(username)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        engine.set_password(db.session, None, user, password)
    except engine.InvalidInput as exc:
        _fail("; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in exc.errors.items()))
    click.echo(f"new password set for {username}; their sessions ended")


def run_worker(app: Flask, interval: float, stop: threading.Event, once: bool = False) -> engine.WorkerPass:
    """Fire due timers and deliver pending messages every `interval` seconds, each pass with its
    own session, until `stop` is set; a failing pass is logged and retried, never fatal."""
    total = engine.WorkerPass()
    mail = engine.MailSettings.from_config(app.config)
    # A copy of every chain's head outside the database, once a day (web/cli_audit.py).
    daily = cli_audit.DailyCheckpoint(app.config["AUDIT_CHECKPOINT_FILE"]) \
        if app.config.get("AUDIT_CHECKPOINT_FILE") else None
    while not stop.is_set():
        session = db.new_session(app)
        try:
            if daily is not None and daily.run(session, db.state(app).clock.now()):
                log.info("audit checkpoint appended to %s", daily.path)
            done = engine.drain_worker(session, mail=mail)
            total.add(done)
            if done.timers or done.messages or done.notices or done.emails:
                log.info("fired %d timer(s), delivered %d message(s), notified %d deadline(s), "
                         "mailed %d notification(s)", done.timers, done.messages, done.notices, done.emails)
        except Exception:
            log.exception("worker pass failed")
            if once:
                raise
        finally:
            session.close()
        if once:
            break
        stop.wait(interval)
    return total


@click.command("worker")
@click.option("--once", is_flag=True, help="One pass, then exit.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between passes.")
@with_appcontext
def worker_command(once: bool, interval: float) -> None:
    """Fire due timers and deliver messages between process instances, in the foreground."""
    _log_at_info()
    try:
        total = run_worker(current_app._get_current_object(), interval, threading.Event(), once)
    except KeyboardInterrupt:
        return
    click.echo(f"fired {total.timers} timer(s), delivered {total.messages} message(s), "
               f"notified {total.notices} deadline(s), mailed {total.emails} notification(s)")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--interval", default=2.0, show_default=True, help="Worker seconds between passes.")
@click.option("--prod", is_flag=True, help="gunicorn with several processes and no worker thread: "
              "run `liandong worker` beside it (README: Production on PostgreSQL).")
@click.option("--workers", default=4, show_default=True, help="gunicorn processes (with --prod).")
@with_appcontext
def serve_command(host: str, port: int, interval: float, prod: bool, workers: int) -> None:
    """The development server plus a background worker thread (one process, for `make run`);
    with --prod, gunicorn serving web/wsgi.py instead."""
    if prod:
        # Replace this process, so gunicorn's master gets the signals a supervisor sends.
        argv = [sys.executable, "-m", "gunicorn", "--workers", str(workers),
                "--bind", f"{host}:{port}", "web.wsgi:app"]
        os.execv(sys.executable, argv)
    _log_at_info()
    app = current_app._get_current_object()
    stop = threading.Event()
    threading.Thread(target=run_worker, args=(app, interval, stop), daemon=True,
                     name="liandong-worker").start()
    try:
        # Not app.run(): under a FlaskGroup (FLASK_RUN_FROM_CLI) Flask ignores that call.
        run_simple(host, port, app, use_reloader=False, use_debugger=False, threaded=True,
                   request_handler=QuietRequestHandler)
    finally:
        stop.set()


calendar = AppGroup("calendar", help="The business calendar.")


@calendar.command("due")
@click.option("--start", required=True, help="ISO date-time; without an offset it is Beijing time.")
@click.option("--rule", required=True, help="Deadline rule: 24h, 5wd, 3d, 1m.")
def calendar_due(start: str, rule: str) -> None:
    """When a period starting at START ends under RULE, with the administrator's entered days."""
    begin = cli_deadlines.parse_start(start, "--start")
    try:
        due = cli_deadlines.console_calendar().due(begin, rule)
    except ValueError as exc:
        _fail(str(exc))
    click.echo(format_due(due))


for _command in cli_calendar.COMMANDS:  # set-day, list (web/cli_calendar.py)
    calendar.add_command(_command)

COMMANDS = (init_command, deploy_command, users, worker_command, serve_command, calendar,
            cli_db.group, cli_token.group, cli_audit.group, cli_deadlines.group)


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)


def main() -> None:
    """Console script `liandong`: the app's commands (plus Flask's own `run`, `routes`, `shell`)."""
    from . import create_app

    FlaskGroup(create_app=create_app, help="Liandong cross-agency case workflow.").main()


if __name__ == "__main__":
    main()
