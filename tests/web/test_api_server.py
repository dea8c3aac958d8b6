"""The production setup for real: gunicorn with 2 worker processes and a separate `liandong
worker`, on PostgreSQL, driven over HTTP by two API clients at once, each walking its own
transfer case through all its tasks with every role's own token."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select

import engine
from bench.servers import CLI, call, free_port
from models import User, make_engine, make_session_factory

from .api_helpers import TRANSFER_STEPS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def production(pg_database_url, tmp_path):
    """gunicorn -w 2 and `liandong worker` on the test's PostgreSQL database; yields the base URL
    and a session factory on the same database."""
    port = free_port()
    # HOME: gunicorn 27 puts its control socket under ~/.gunicorn; keep it inside the test.
    env = {**os.environ, "DATABASE_URL": pg_database_url, "SECRET_KEY": "server-test-secret", "HOME": str(tmp_path),
           "LIANDONG_AUDIT_KEY": "a" * 32,
           "LIANDONG_INSTANCE": str(tmp_path / "instance"), "PYTHONPATH": str(ROOT)}
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 - the servers write to it until the test ends
    processes = [
        subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind",
                          f"127.0.0.1:{port}", "web.wsgi:app"], cwd=ROOT, env=env, stdout=log, stderr=log),
        subprocess.Popen([sys.executable, "-c", CLI, "worker", "--interval", "0.5"], cwd=ROOT, env=env,
                         stdout=log, stderr=log),
    ]
    base = f"http://127.0.0.1:{port}"
    sql = make_engine(pg_database_url)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()
                assert processes[0].poll() is None, (tmp_path / "server.log").read_text()
                time.sleep(0.2)
        factory = make_session_factory(sql)
        factory.configure(info={engine.AUDIT_KEY: env["LIANDONG_AUDIT_KEY"].encode("utf-8")})  # as the server's
        yield base, factory
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
        sql.dispose()


def tokens_for(factory, usernames: set[str], client: str) -> dict[str, str]:
    with factory() as session:
        users = {u.username: u for u in session.scalars(select(User).where(User.username.in_(usernames)))}
        return {name: engine.create_token(session, users[name], client)[1] for name in usernames}


def walk_case(base: str, tokens: dict[str, str], handler: str, title: str) -> int:
    """Open a case as `handler` and complete each task as the user of its role."""
    status, case = call(base, "POST", "/cases", tokens[handler], {"title": title})
    assert status == 201, case
    for username, bpmn_id, data in TRANSFER_STEPS:
        user = handler if username == "samr_handler" else username
        deadline = time.monotonic() + 30
        while True:  # a task behind a message appears once the worker has delivered it
            status, inbox = call(base, "GET", f"/tasks?case_id={case['id']}&view=claimable", tokens[user])
            assert status == 200, inbox
            found = [t for t in inbox["items"] if t["bpmn_id"] == bpmn_id]
            if found:
                break
            assert time.monotonic() < deadline, f"{bpmn_id} never reached {user}'s inbox"
            time.sleep(0.2)
        task_id = found[0]["id"]
        status, claimed = call(base, "POST", f"/tasks/{task_id}/claim", tokens[user])
        assert status == 200, claimed
        status, done = call(base, "POST", f"/tasks/{task_id}/complete", tokens[user], {"data": data})
        assert status == 200 and done["state"] == "completed", done
    return case["id"]


def test_two_clients_walk_two_cases_at_once_on_gunicorn(production):
    base, factory = production
    roles = {username for username, _, _ in TRANSFER_STEPS}
    clients = [
        ("samr_handler", tokens_for(factory, roles, "client A")),
        ("samr_handler2", tokens_for(factory, (roles - {"samr_handler"}) | {"samr_handler2"}, "client B")),
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(walk_case, base, tokens, handler, f"并行案件 {handler}")
                   for handler, tokens in clients]
        case_ids = [f.result(timeout=300) for f in futures]

    for (handler, tokens), case_id in zip(clients, case_ids, strict=False):
        status, case = call(base, "GET", f"/cases/{case_id}", tokens["police_head"])
        assert status == 200 and [i["status"] for i in case["instances"]] == ["completed"], case
        status, timeline = call(base, "GET", f"/cases/{case_id}/timeline", tokens[handler])
        kinds = [e["event_type"] for e in timeline]
        assert kinds.count("task_completed") == len(TRANSFER_STEPS) and kinds[-1] == "instance_completed"
    with factory() as session:
        assert engine.verify_audit(session) == []


def test_serve_prod_runs_gunicorn_and_refuses_to_start_without_a_secret(sqlite_template, tmp_path):
    port = free_port()
    database = tmp_path / "prod.sqlite"
    shutil.copy(sqlite_template, database)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "HOME": str(tmp_path),
           "LIANDONG_AUDIT_KEY": "a" * 32,
           "LIANDONG_INSTANCE": str(tmp_path / "instance"), "PYTHONPATH": str(ROOT)}
    env.pop("SECRET_KEY", None)
    refused = subprocess.run([sys.executable, "-c", "import web.wsgi"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "SECRET_KEY must be set in production" in refused.stderr
    env["SECRET_KEY"] = "serve-prod-secret"
    server = subprocess.Popen([sys.executable, "-c", CLI, "serve", "--prod", "--workers", "1",
                               "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=2) as r:
                    assert json.loads(r.read())["info"]["version"] == "v1"
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr.read().decode()
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=30)
