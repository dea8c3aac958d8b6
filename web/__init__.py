"""Liandong's web application: server-rendered pages over the engine's service functions."""
from __future__ import annotations

from typing import Any

from flask import Flask

from config import Config

from .hooks import App, pages_only


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app from `config.Config` (the environment), overridden by `test_config`."""
    settings = Config().as_dict()
    settings.update(test_config or {})
    app = App(__name__, instance_path=settings["INSTANCE_PATH"])
    app.config.from_mapping(settings)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "zh_CN")
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", app.config["DISPLAY_TIMEZONE"])

    from . import (
        api,
        auth,
        calendar_admin,
        cases,
        cli,
        clues,
        deadline_rules,
        documents,
        errors,
        evidence,
        hardening,
        i18n,
        inbox,
        labels,
        notifications,
        parties,
        permissions,
        profile,
        recognition,
        register,
        results,
        security,
        sharing,
        standing,
        statistics,
        supervision,
        tasks,
        users_admin,
        workflow_text,
    )
    from .db import db

    db.init_app(app)
    # Their request hooks serve the pages: API requests have no session cookie and no rate limit.
    pages_only(app, auth.login_manager.init_app)
    pages_only(app, auth.limiter.init_app)
    security.csrf.init_app(app)
    security.init_app(app)
    hardening.init_app(app)
    i18n.init_app(app)
    labels.register(app)
    workflow_text.init_app(app)
    permissions.init_app(app)
    evidence.init_app(app)
    recognition.init_app(app)
    errors.init_app(app)
    for blueprint in (auth.bp, inbox.bp, tasks.bp, cases.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(evidence.bp)
    app.register_blueprint(profile.bp)
    app.register_blueprint(supervision.bp)
    app.register_blueprint(calendar_admin.bp)
    app.register_blueprint(users_admin.bp)
    app.register_blueprint(standing.bp)
    app.register_blueprint(sharing.bp)
    deadline_rules.init_app(app)
    documents.init_app(app)
    notifications.init_app(app)
    register.init_app(app)
    results.init_app(app)
    statistics.init_app(app)
    clues.init_app(app)
    parties.init_app(app)
    api.init_app(app)
    cli.init_app(app)
    return app
