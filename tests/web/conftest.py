"""Fixtures for the web tests: the app on the test's seeded database and clock, with CSRF on."""
from __future__ import annotations

import pytest

from web import create_app
from web.db import db

from .helpers import login


@pytest.fixture
def app(database_url, clock, tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    # Config() reads the instance folder from the environment (it may write a secret key there).
    monkeypatch.setenv("LIANDONG_INSTANCE", str(instance))
    app = create_app({
        "DATABASE_URL": database_url,
        "CLOCK": clock,
        "SECRET_KEY": "test-secret-key",
        "TESTING": True,
        "WTF_CSRF_ENABLED": True,
        "INSTANCE_PATH": str(instance),
        # Every test client logs in from 127.0.0.1; tests/web/test_login_hardening.py sets its own.
        "LOGIN_RATE_LIMIT": "1000 per minute",
        # Tests move the clock by days with browsers logged in; tests/web/test_sessions.py sets
        # the idle and absolute session lifetimes it checks.
        "SESSION_IDLE_MINUTES": 366 * 24 * 60, "SESSION_MAX_HOURS": 366 * 24,
    })
    yield app
    db.state(app).engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def client_for(app):
    """A fresh client logged in as the given demo user (one browser per person)."""

    def make(username: str):
        c = app.test_client()
        login(c, username)
        return c

    return make
