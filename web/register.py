"""The shared case register (共享案件登记): every agency's transfers, filing decisions, supervisions
and penalty cases in one list, with their state and key dates, and its CSV export.

Who sees which row is the engine's (policy.register_scope): an agency's users the cases their
agency takes part in, supervisors and administrators every case but a secret one by its number.
The rows carry no case facts, so the list is the same page for everyone who is logged in.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from engine import REGISTER_MECHANISMS, REGISTER_STATES, InvalidInput, RegisterFilter, agencies, register_page

from .auth import actor
from .db import db
from .supervision_csv import EXPORT_BATCH, _csv, _iso

bp = Blueprint("register", __name__, url_prefix="/register")
FILTERS = ("mechanism", "state", "agency", "from", "to")

MECHANISM_LABELS = {
    "transfer": _l("Case transfer"), "filing": _l("Filing decision"),
    "supervision": _l("Filing supervision"), "penalty": _l("Penalty case"),
}
STATE_LABELS = {
    "open": _l("In progress"), "closed": _l("Closed"), "cancelled": _l("Cancelled"), "error": _l("Error"),
    "sent": _l("Sent"), "received": _l("Received"), "forwarded": _l("Forwarded"), "filed": _l("Filed"),
    "not_filed": _l("Not filed"), "reconsidered": _l("Reconsidered"), "returned": _l("Returned for penalty"),
    "handed_over": _l("Items handed over"), "examined": _l("Examined"),
    "explanation_requested": _l("Explanation requested"), "explanation_received": _l("Explanation received"),
    "filing_ordered": _l("Filing ordered"), "decided": _l("Decided"), "copied": _l("Copied"),
    "published": _l("Published"), "withdrawn": _l("Withdrawn"),
}
TRIGGER_LABELS = {"samr_request": _l("SAMR's request"), "review_overdue": _l("Police review overdue"),
                  "prosecutor": _l("Prosecutor's own"), "rights_holder": _l("Rights holder's request")}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(REGISTER_MECHANISM_LABELS=MECHANISM_LABELS, REGISTER_STATE_LABELS=STATE_LABELS,
                                 REGISTER_TRIGGER_LABELS=TRIGGER_LABELS)


def _day(name: str) -> date | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name}: not a date such as 2026-03-01",
                           {name: [f"'{value}' is not a date such as 2026-03-01"]}) from None


def register_filter() -> RegisterFilter:
    """The query string's filters; the period is of local days, both included."""
    zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    first, last = _day("from"), _day("to")
    return RegisterFilter(
        mechanism=request.args.get("mechanism") or None, state=request.args.get("state") or None,
        agency=request.args.get("agency") or None,
        since=datetime.combine(first, time(), zone) if first else None,
        until=datetime.combine(last + timedelta(days=1), time(), zone) if last else None,
    )


def agency_names() -> dict[str, str]:
    return {a.code: a.short_name or a.name for a in agencies(db.session)}


@bp.route("/")
@login_required
def index():
    filters = register_filter()
    page_number = max(1, request.args.get("page", 1, type=int) or 1)
    page = register_page(db.session, actor(), filters, page_number,
                         current_app.config.get("REGISTER_PAGE_SIZE", 50))
    return render_template(
        "register/index.html", page=page, names=agency_names(), mechanisms=REGISTER_MECHANISMS,
        states=REGISTER_STATES, args={k: request.args.get(k, "") for k in FILTERS},
    )


def _title(row) -> str:
    return row.case_title if row.case_title is not None else row.case_number


def _dates(row) -> str:
    return "; ".join(f"{STATE_LABELS.get(state, state)} {_iso(when)}" for state, when in row.dates.items())


@bp.route("/register.csv")
@login_required
def export_csv():
    """Every row the page's filters match, not only one page; cells are made inert."""
    filters, user, names = register_filter(), actor(), agency_names()
    rows: list[list[object]] = [[
        _("Case number"), _("Case"), _("Mechanism"), _("Parties"), _("State"), _("Key date"), _("Milestones"),
        _("Trigger"), _("Document number"),
    ]]
    page_number = 1
    while True:
        page = register_page(db.session, user, filters, page_number, EXPORT_BATCH)
        rows.extend([
            row.case_number, _title(row), str(MECHANISM_LABELS.get(row.mechanism, row.mechanism)),
            " → ".join(names.get(code, code) for code in row.parties),
            str(STATE_LABELS.get(row.state, row.state)), _iso(row.key_date), _dates(row),
            str(TRIGGER_LABELS.get(row.trigger, row.trigger)) if row.trigger else "",
            row.document_number or "; ".join(row.documents.values()),
        ] for row in page.items)
        if page_number >= page.pages:
            break
        page_number += 1
    stamp = db.clock.now().astimezone(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])).strftime("%Y%m%d-%H%M")
    return _csv(rows, f"register-{stamp}.csv")
