"""The app the real-case benchmark serves: Liandong's own app (web.create_app) plus one route that
exists only here, the floor a completion is judged against — an authenticated no-op write.

`POST /api/v1/bench/noop` goes through everything an API request goes through (gunicorn, the
Flask app and its before/after-request hooks, bearer-token authentication with its cache, a
flask-smorest view answering through a marshmallow schema, the request's SQLAlchemy session)
and does one trivial write transaction with engine.runtime.transactions.transaction: a single
row inserted into `bench_noop`, a table that only the benchmark database has, and committed.
It adds nothing to web/: gunicorn serves `bench.real_app:production_app()` instead of `web.wsgi:app`.
"""

from __future__ import annotations

import marshmallow as ma
from flask import Flask
from flask_smorest import Blueprint
from sqlalchemy import create_engine, text

from engine.runtime.transactions import transaction
from web import create_app
from web.api.auth import api_user, guard
from web.db import db
from web.security import csrf

NOOP_PATH = "/bench/noop"
_INSERT = text("INSERT INTO bench_noop (user_id) VALUES (:user_id)")


def create_noop_table(url: str) -> None:
    """The no-op write's table, in the benchmark database only (never in models/)."""
    sql = create_engine(url)
    with sql.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE IF NOT EXISTS bench_noop (id bigserial PRIMARY KEY, "
                "user_id integer NOT NULL, at timestamptz NOT NULL DEFAULT now())"
            )
        )
    sql.dispose()


class Written(ma.Schema):
    ok = ma.fields.Boolean(required=True)


def _noop_blueprint() -> Blueprint:
    bp = Blueprint("bench_noop", __name__, url_prefix="/api/v1/bench", description="Benchmark floor")
    guard(bp)

    @bp.route("/noop", methods=["POST"])
    @bp.response(200, Written)
    def noop():
        session = db.session
        with transaction(session):
            session.execute(_INSERT, {"user_id": api_user().id})
        return {"ok": True}

    return bp


def build(config: dict | None = None) -> Flask:
    """Liandong's app with the benchmark's no-op write route registered beside the API's own."""
    app = create_app(config)
    bp = _noop_blueprint()
    csrf.exempt(bp)
    app.extensions["liandong_api"].register_blueprint(bp)
    return app


def production_app() -> Flask:
    """For gunicorn: `gunicorn 'bench.real_app:production_app()'`, configured as web/wsgi.py is."""
    from config import ProductionConfig

    return build(ProductionConfig().as_dict())
