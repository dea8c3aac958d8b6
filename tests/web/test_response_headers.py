"""Response hardening: HSTS in production, no caching of pages, the sandboxing CSP on every
evidence download (page and API), and no server banner from the development server or gunicorn."""
from __future__ import annotations

import http.client
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from bench.servers import free_port
from config import ProductionConfig
from web import create_app
from web.db import db
from web.hardening import QuietRequestHandler

from .api_helpers import bearer
from .helpers import create_case, text
from .test_evidence import items, upload

SANDBOX = "default-src 'none'; sandbox"
ROOT = Path(__file__).resolve().parents[2]


def test_production_sends_hsts(database_url, clock, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", "k" * 32)
    monkeypatch.setenv("LIANDONG_AUDIT_KEY", "a" * 32)
    monkeypatch.setenv("LIANDONG_INSTANCE", str(tmp_path))
    assert ProductionConfig().HSTS_SECONDS == 365 * 24 * 3600
    app = create_app({**ProductionConfig().as_dict(), "CLOCK": clock, "TESTING": True})
    try:
        response = app.test_client().get("/login")
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    finally:
        db.state(app).engine.dispose()


def test_development_sends_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


@pytest.mark.parametrize("path", ["/", "/cases/", "/profile", "/notifications"])
def test_pages_are_not_stored(client_for, path):
    response = client_for("samr_handler").get(path)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"


def test_case_and_evidence_pages_are_not_stored(app, client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    assert upload(handler, case_id).status_code == 303
    [item] = items(app)
    for path in (f"/cases/{case_id}", f"/cases/{case_id}/evidence/{item.id}"):
        response = handler.get(path)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store", path
    # The stylesheet keeps the caching Flask gives static files.
    assert handler.get("/static/style.css").headers.get("Cache-Control") != "no-store"


def test_every_evidence_download_is_sandboxed(app, client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    assert upload(handler, case_id).status_code == 303
    [item] = items(app)
    page = handler.get(f"/cases/{case_id}/evidence/{item.id}/download")
    with app.app_context():
        from sqlalchemy import select

        import engine
        from models import User

        user = db.session.scalar(select(User).where(User.username == "samr_handler"))
        _row, token = engine.create_token(db.session, user, "下载")
    api = app.test_client(use_cookies=False).get(f"/api/v1/evidence/{item.id}/file", headers=bearer(token))
    for response in (page, api):
        assert response.status_code == 200, text(response)
        assert response.headers["Content-Security-Policy"] == SANDBOX
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Disposition"].startswith("attachment")


def test_the_development_server_names_no_software(app):
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
        connection.request("GET", "/login")
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        assert response.getheader("Server") is None and response.getheader("Date")
    finally:
        server.shutdown()


def test_gunicorn_in_production_names_no_software_and_sends_hsts(database_url, tmp_path):
    """`gunicorn web.wsgi:app` as the README runs it: no `Server` line, and HSTS."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "server-test-secret", "HOME": str(tmp_path),
           "LIANDONG_AUDIT_KEY": "a" * 32,
           "LIANDONG_INSTANCE": str(tmp_path / "instance"), "PYTHONPATH": str(ROOT)}
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 - the server writes to it until the test ends
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}",
                               "web.wsgi:app"], cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/login")
                response = connection.getresponse()
                response.read()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, (tmp_path / "server.log").read_text()
                time.sleep(0.2)
        assert response.status == 200
        assert response.getheader("Server") is None and response.getheader("Date")
        assert response.getheader("Strict-Transport-Security") == "max-age=31536000; includeSubDomains"
        assert response.getheader("Cache-Control") == "no-store"
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
