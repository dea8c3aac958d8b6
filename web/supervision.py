"""Supervision (督办): work past or near its deadline across agencies, where a case stands, how
long steps take, and CSV exports.

Supervisors follow every agency, agency heads their own (engine/access/policy/ decides; everyone
else gets 403). These pages show deadlines, holders and timelines, never task results, form
data or case facts: a case appears by its number only.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from lxml import etree
from markupsafe import Markup

from engine import (
    agencies,
    case_instances,
    case_tasks,
    case_timeline,
    metrics,
    overdue_tasks,
    policy,
    provisional_after,
)
from models import HumanTaskState, TimerStatus

from . import labels, workflow_text
from .auth import actor
from .db import db
from .svg.charts import format_value, median, percentile, render_bar_chart
from .svg.diagram import render_bpmn
from .svg.gantt import TimelineRow, render_timeline

bp = Blueprint("supervision", __name__, url_prefix="/supervision")
STATUSES = ("overdue", "due_soon")
METRICS_DAYS = 30  # default period of the metrics page, ending today
TIMER_STATES = {TimerStatus.PENDING: _l("Waiting"), TimerStatus.FIRED: _l("Fired"),
                TimerStatus.CANCELLED: _l("Cancelled")}


@bp.before_request
@login_required
def _only_supervisors():
    if not policy.can_supervise(actor()):
        abort(403)


@bp.app_context_processor
def _globals():
    return {"calendar_notice_year": calendar_notice_year, "span": span, "TIMER_STATE_LABELS": TIMER_STATES}


def calendar_notice_year() -> int | None:
    """For supervisors and administrators: the last year of official holidays, when deadlines
    can already run past it (they are then provisional); None otherwise."""
    if not current_user.is_authenticated:
        return None
    user = actor()
    if not (policy.can_supervise(user) or policy.can_administer(user)):
        return None
    return provisional_after(db.session)


def span(delta: timedelta | None) -> str:
    """A duration as days and hours (or hours and minutes under a day)."""
    if delta is None:
        return ""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if days:
        return _("%(days)d d %(hours)d h", days=days, hours=hours)
    return _("%(hours)d h %(minutes)d min", hours=hours, minutes=mins)


def watch_filters() -> dict:
    """agency / mechanism / case from the query string, as the engine queries take them."""
    number = request.args.get("case", "").strip()
    case_id = metrics.case_id_by_number(db.session, number) if number else None
    # An unknown number must match nothing, not drop the filter and list every case.
    return {"agency": request.args.get("agency") or None,
            "mechanism": request.args.get("mechanism") or None,
            "case_id": -1 if number and case_id is None else case_id}


def watch_page(status: str, filters: dict, page: int, per_page: int):
    """Overdue rows come from engine.oversight.supervision (shared with the API), due-soon rows from
    engine.metrics, both under the same scope and filters."""
    query = overdue_tasks if status == "overdue" else metrics.due_soon_tasks
    return query(db.session, actor(), page=page, per_page=per_page, **filters)


def filter_choices():
    scope = policy.supervised_agency_ids(actor())
    return ([a for a in agencies(db.session) if scope is None or a.id in scope],
            metrics.mechanisms(db.session))


@bp.route("/")
def index():
    status = request.args.get("status", "overdue")
    status = status if status in STATUSES else "overdue"
    page_number = max(1, request.args.get("page", 1, type=int) or 1)
    filters = watch_filters()
    page = watch_page(status, filters, page_number, current_app.config.get("SUPERVISION_PAGE_SIZE", 50))
    agency_choices, mechanism_choices = filter_choices()
    return render_template(
        "supervision/index.html", page=page, status=status, now=db.clock.now(),
        agency_choices=agency_choices, mechanism_choices=mechanism_choices,
        args={k: request.args.get(k, "") for k in ("agency", "mechanism", "case")},
    )


def lane_labels() -> dict[str, str]:
    """Diagram lanes (`samr.head`) as people say them (东市监 · 负责人)."""
    return {f"{a.code}.{role}": f"{labels.agency_short(a)} · {labels.label(labels.ROLES, role)}"
            for a in agencies(db.session) for role in labels.ROLES}


def timeline_rows(tasks) -> list[TimelineRow]:
    """One bar per human task, named in the page's language: from creation to completion (or
    cancellation), against its due."""
    return [TimelineRow(workflow_text.translate(t.title), t.agency.code, t.created_at,
                        t.completed_at if t.state != HumanTaskState.OPEN else None, t.due_at) for t in tasks]


def timeline_texts() -> dict[str, str]:
    """The Gantt chart's words in the page's language (web/svg/gantt.py TEXTS; braces are filled
    in by the chart)."""
    return {
        "no_data": _("No data"), "overdue_part": _("Overdue part"), "due": _("Due"),
        "open_until_now": _("In progress (until now)"), "now": _("Now"), "in_progress": _("in progress"),
        "due_at": _("Due {due}"), "late_by": _(", {late} overdue"), "hours": _("{hours:.1f} hours"),
        "days_hours": _("{days} days {hours} hours"), "month": _("{year}-{month:02d}"),
        "day": _("{month}/{day}"), "row_tip": _("{label} ({agency})"),
    }


@bp.route("/cases/<int:case_id>")
def case(case_id: int):
    session = db.session
    case = metrics.supervised_case(session, actor(), case_id)
    now = db.clock.now()
    marks_text = {"completed": _("Completed"), "active": _("In progress"), "overdue": _("Overdue"),
                  "error": _("Error")}
    names = {a.code: labels.agency_short(a) for a in agencies(session)}
    tasks = case_tasks(session, case)
    drawings = []
    for instance in case_instances(session, case):
        mine = [t for t in tasks if t.instance_id == instance.id]
        # Both SVGs come from our renderers, which escape every name they draw.
        diagram = Markup(render_bpmn(instance.process_model.bpmn_source,
                                     metrics.element_states(session, instance),
                                     {**_translated_names(instance.process_model.bpmn_source), **lane_labels(),
                                      **marks_text},
                                     no_diagram=_("This process file has no diagram information")))
        gantt = Markup(render_timeline(timeline_rows(mine), now, current_app.config["DISPLAY_TIMEZONE"],
                                       agency_names=names, texts=timeline_texts()))
        drawings.append((instance, diagram, gantt))
    names = {}
    for instance, _diagram, _gantt in drawings:
        names[instance.id] = element_names(instance.process_model.bpmn_source)
    return render_template(
        "supervision/case.html", case=case, drawings=drawings, tasks=tasks, now=now,
        timers=metrics.case_timers(session, case), timeline=case_timeline(session, case),
        timer_names=names,
    )


def _translated_names(bpmn_xml: str) -> dict[str, str]:
    """The diagram's element names that the page's language words differently (task and event
    names in English), by id; lanes keep the labels lane_labels gives them."""
    original = element_names(bpmn_xml, translated=False)
    return {ident: name for ident, name in element_names(bpmn_xml).items() if name != original.get(ident)}


def element_names(bpmn_xml: str, translated: bool = True) -> dict[str, str]:
    """The names of a diagram's elements by id (a deadline timer's is its boundary event's, e.g.
    答复期限届满), in the page's language; the ids are the modeller's, never shown."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        doc = etree.fromstring(bpmn_xml.encode("utf-8"), parser)
    except etree.XMLSyntaxError:
        return {}
    return {el.get("id"): workflow_text.translate(el.get("name")) if translated else el.get("name")
            for el in doc.iter() if el.get("id") and el.get("name")}


def _day(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        flash(_("%(value)s is not a date such as 2026-03-01; the default period is shown.", value=value),
              "error")
        return default


def period() -> tuple[date, date, datetime, datetime]:
    """The metrics period from ?from=&to= (local dates, both included), last 30 days by default."""
    zone = ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])
    today = db.clock.now().astimezone(zone).date()
    last = _day(request.args.get("to"), today)
    first = _day(request.args.get("from"), last - timedelta(days=METRICS_DAYS - 1))
    if first > last:
        first, last = last, first
    return (first, last, datetime.combine(first, time(), zone),
            datetime.combine(last + timedelta(days=1), time(), zone))


def summarize(hours: list[float], with_due: int, on_time: int) -> dict:
    return {"count": len(hours), "median": median(hours), "p90": percentile(hours, 90),
            "with_due": with_due, "on_time": on_time,
            "share": on_time / with_due * 100 if with_due else None}


@bp.route("/metrics")
def metrics_page():
    first, last, start, end = period()
    samples = metrics.step_samples(db.session, actor(), start, end)
    mechanism_names = dict(metrics.mechanisms(db.session))
    steps, totals = [], {}
    for s in samples:
        steps.append((s, summarize(s.hours, s.with_due, s.on_time)))
        total = totals.setdefault((s.agency.id, s.mechanism), [s.agency, s.mechanism, [], 0, 0])
        total[2] += s.hours
        total[3] += s.with_due
        total[4] += s.on_time
    groups = [(agency, mechanism, summarize(hours, with_due, on_time))
              for agency, mechanism, hours, with_due, on_time in totals.values()]
    short = labels.agency_short
    median_chart = Markup(render_bar_chart(
        _("Median hours per step"),
        [(f"{short(s.agency)} · {workflow_text.translate(s.title)}", stats["median"]) for s, stats in steps],
        " " + _("hours"),
        no_data=_("No data")))
    share_chart = Markup(render_bar_chart(
        _("Finished on time (%)"),
        [(f"{short(a)} · {workflow_text.translate(mechanism_names.get(m, m))}", stats["share"])
         for a, m, stats in groups if stats["share"] is not None], "%", no_data=_("No data")))
    return render_template(
        "supervision/metrics.html", first=first, last=last, steps=steps, groups=groups,
        mechanism_names=mechanism_names, fmt=format_value, median_chart=median_chart,
        share_chart=share_chart,
    )


from . import supervision_csv  # noqa: E402,F401  (routes on this blueprint)
