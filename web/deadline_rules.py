"""/supervision/deadline-rules (期限规则): the catalog of legal periods, for supervisors and heads.

It shows the catalog file new cases are counted with (workflows/deadlines.toml), each rule with
its period, how it is counted, the legal event it runs from, extensions, pauses and statute; a
running case keeps the rules its process model version was deployed with.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, current_app, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import login_required

import engine
from engine import legal_periods, policy

from . import workflow_text
from .auth import actor
from .i18n import localtime

bp = Blueprint("deadline_rules", __name__, url_prefix="/supervision/deadline-rules")


def catalog() -> legal_periods.Catalog:
    """The catalog file of WORKFLOWS_DIR (a broken file fails loudly: deploy refuses it too)."""
    return legal_periods.load_catalog(Path(current_app.config["WORKFLOWS_DIR"]) / legal_periods.CATALOG_FILE)


@bp.route("/")
@login_required
def index():
    if not policy.can_supervise(actor()):
        raise engine.Forbidden("the deadline rules are for supervisors and agency heads")
    rules = catalog()
    by_mechanism: dict[str, list[legal_periods.PeriodRule]] = {}
    for rule in rules.rules.values():
        by_mechanism.setdefault(rule.mechanism, []).append(rule)
    return render_template("supervision/deadline_rules.html", catalog=rules, by_mechanism=by_mechanism,
                           TASK_OPENED=legal_periods.TASK_OPENED)


def period_text(period: str | None) -> str:
    """A period as people say it ("3日", "15 working days"), never the rule's code."""
    if not period:
        return ""
    rule = engine.parse_rule(period)
    texts = {"h": _("%(n)s hours"), "wd": _("%(n)s working days"), "d": _("%(n)s days"), "m": _("%(n)s months")}
    return texts[rule.unit] % {"n": rule.count}


def counting_text(counting: str) -> str:
    return str({"hours": _("wall-clock hours"), "working_days": _("working days, holidays skipped"),
                "calendar_days": _("days, the first not counted, ending on a working day"),
                "months": _("months, ending on a working day")}.get(counting, counting))


def due_basis(task) -> str:
    """Which legal period a task's due time follows and what it runs from, in a sentence:
    "《…》第十二条：自收到立案通知书（2026-03-05）起3日"; "" for a task without a catalog rule."""
    if not task.deadline_rule_id:
        return ""
    basis = task.deadline_basis or {}
    en = get_locale().language == "en"
    statute = basis.get("statute_en" if en else "statute") or task.deadline_rule_id
    period = period_text(task.deadline_rule)
    if task.deadline_trigger_at is None:
        return _("%(statute)s: %(period)s from when the task arrived", statute=statute, period=period)
    return _("%(statute)s: %(period)s from %(event)s (%(at)s)", statute=statute, period=period,
             event=basis.get("trigger_title_en" if en else "trigger_title") or basis.get("trigger", ""),
             at=localtime(task.deadline_trigger_at))


def mechanism_title(key: str) -> str:
    return _("All mechanisms") if key == "all" else workflow_text.process_name(key)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(period_text=period_text, counting_text=counting_text, mechanism_title=mechanism_title,
                                 due_basis=due_basis)
