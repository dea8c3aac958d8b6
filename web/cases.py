"""Cases: opening one, the list of cases the user's agency takes part in, and a case's page."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import login_required

import engine
from models import CONFIDENTIALITY_LEVELS

from . import forms
from .auth import actor
from .db import db

bp = Blueprint("cases", __name__, url_prefix="/cases")


@bp.route("/")
@login_required
def index():
    return render_template("cases/index.html", cases=engine.visible_cases(db.session, actor()))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Only market-supervision handlers may open cases; the engine decides (403 otherwise)."""
    values = {"title": "", "confidentiality": "confidential"}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = {key: request.form.get(key, "") for key in values}
        try:
            case = engine.create_case(db.session, actor(), values["title"], values["confidentiality"])
        except engine.InvalidInput as exc:
            errors = {k: [forms.explain(m) for m in v] for k, v in exc.errors.items()}
        else:
            return redirect(url_for("cases.show", case_id=case.id), code=303)
    return render_template("cases/new.html", values=values, errors=errors,
                           levels=CONFIDENTIALITY_LEVELS), 422 if errors else 200


@bp.route("/<int:case_id>")
@login_required
def show(case_id: int):
    session = db.session
    case = engine.visible_case(session, actor(), case_id)
    return render_template(
        "cases/show.html", case=case, instances=engine.case_instances(session, case),
        tasks=engine.case_tasks(session, case), timeline=engine.case_timeline(session, case),
        now=db.clock.now(),
    )
