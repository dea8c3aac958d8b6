"""The task force's statistics page (统计): the figures of a period per agency and per mechanism,
with a period picker (from/to days, or this month, quarter or year), downloads as CSV and XLSX
and a link to the printable quarterly summary (web/statistics_quarterly.py); the time per stage
(median and 90th percentile hours per mechanism and step) and the share of legal periods met per
rule, the latter also as a bar chart drawn here as SVG (no script, no CDN). What a reader sees is
the engine's (the office's supervisors every agency, an agency head their own); the figures are
computed by the engine in SQL, this module only lays them out.

Downloads are audited (engine.record_statistics_export). Their cells are inert, as in every
export (web/supervision_csv.py `inert`): text a spreadsheet would take for a formula is written
behind an apostrophe, and the XLSX stores every text cell as a string, never a formula.
"""
from __future__ import annotations

import io
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, Response, current_app, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from markupsafe import Markup
from openpyxl import Workbook

import engine

from . import workflow_text
from .auth import actor
from .db import db
from .deadline_rules import catalog
from .labels import agency_short
from .supervision_csv import _csv, inert
from .svg.charts import format_value, render_bar_chart

bp = Blueprint("statistics", __name__, url_prefix="/statistics")
PRESETS = ("month", "quarter", "year")
PRESET_LABELS = {"month": _l("This month"), "quarter": _l("This quarter"), "year": _l("This year")}
GROUP_LABELS = {
    "clues": _l("Clue intake"), "cases": _l("Cases"), "transfer": _l("Case transfer"), "filing": _l("Filing decision"),
    "supervision": _l("Filing supervision"), "investigation": _l("Investigation"), "prosecution": _l("Prosecution"),
    "judgment": _l("Judgment"), "amounts": _l("Amounts involved"), "penalty": _l("Administrative penalties"),
}
FIGURE_LABELS = {
    "clues_registered": _l("Clues registered"), "cases_opened": _l("Cases opened"),
    "transfers": _l("Cases transferred"), "filings": _l("Cases filed"), "non_filings": _l("Cases not filed"),
    "supervisions": _l("Filing supervisions started"), "sent_for_prosecution": _l("Sent for prosecution"),
    "investigations_withdrawn": _l("Cases withdrawn"), "suspects": _l("Suspects"),
    "compulsory_measures": _l("Persons under compulsory measures"), "prosecutions": _l("Prosecutions"),
    "persons_prosecuted": _l("Persons prosecuted"), "non_prosecutions": _l("Decisions not to prosecute"),
    "persons_not_prosecuted": _l("Persons not prosecuted"), "judgments": _l("Judgments"),
    "persons_convicted": _l("Persons convicted"), "persons_acquitted": _l("Persons acquitted"),
    "compensation": _l("Civil compensation awarded (yuan)"), "loss_amount": _l("Rights holders' losses (yuan)"),
    "illegal_gain": _l("Illegal gains (yuan)"), "amounts_unknown": _l("Cases with an amount not yet known"),
    "penalties": _l("Penalty decisions"),
    "fines": _l("Fines and confiscations (yuan)"),
}


def init_app(app: Flask) -> None:
    from . import statistics_quarterly  # noqa: F401  (the quarterly summary's route is on this blueprint)

    app.register_blueprint(bp)


def _today() -> date:
    return db.clock.now().astimezone(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])).date()


def preset_period(preset: str, today: date) -> tuple[date, date]:
    """The first and last day of the month, quarter or year that holds `today`."""
    if preset == "year":
        return date(today.year, 1, 1), date(today.year, 12, 31)
    first_month = (today.month - 1) // 3 * 3 + 1 if preset == "quarter" else today.month
    months = 3 if preset == "quarter" else 1
    start = date(today.year, first_month, 1)
    after = date(start.year + (first_month + months - 1) // 12, (first_month + months - 1) % 12 + 1, 1)
    return start, after - timedelta(days=1)


def _day(name: str) -> date | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise engine.InvalidInput(f"{name}: not a date such as 2026-03-01",
                                  {name: [f"'{value}' is not a date such as 2026-03-01"]}) from None


def chosen_period() -> tuple[engine.StatisticsPeriod, str | None]:
    """The query string's period: a preset, or from/to days; this month when neither is given."""
    preset = request.args.get("preset", "")
    if preset in PRESETS:
        return engine.StatisticsPeriod(*preset_period(preset, _today())), preset
    first, last = _day("from"), _day("to")
    if first is None and last is None:
        return engine.StatisticsPeriod(*preset_period("month", _today())), "month"
    return engine.check_period(first, last), None


def rule_labels(stats) -> dict[str, str]:
    """Each rule's action as the catalog words it (Chinese, or English for English readers); a rule
    no longer in the catalog keeps its id."""
    rules = catalog().rules
    en = get_locale().language == "en"
    return {r.rule_id: (rules[r.rule_id].action_en if en else rules[r.rule_id].action)
            if r.rule_id in rules else r.rule_id for r in stats.periods_met}


def mechanism_names(stats) -> dict[str, str]:
    names = {m.key: m.name for m in stats.mechanisms}
    return {s.mechanism: workflow_text.translate(names.get(s.mechanism, s.mechanism)) for s in stats.stage_times}


def periods_chart(stats, labels: dict[str, str]) -> Markup:
    """The share met per rule, in percent, as horizontal bars (SVG markup built by web/svg)."""
    return Markup(render_bar_chart(
        _("Share of legal periods met (%)"),
        [(labels[r.rule_id], round(r.share * 100, 1)) for r in stats.periods_met], "%", no_data=_("No data")))


def _names(stats) -> dict[str, str]:
    """The reader's agencies by code, each named as the page's language names it (Market
    Supervision on an English page, the agency's own short name 东市监 on a Chinese one)."""
    agencies = {a.code: a for a in engine.agencies(db.session)}
    return {code: agency_short(agencies[code]) if code in agencies else code for code in stats.agencies}


@bp.route("/")
@login_required
def index():
    common = {"presets": PRESETS, "preset_labels": PRESET_LABELS, "figure_labels": FIGURE_LABELS,
              "group_labels": GROUP_LABELS, "args": {k: request.args.get(k, "") for k in ("from", "to")}}
    if not engine.policy.allowed(db.session, actor(), "view_statistics"):
        raise engine.Forbidden("statistics are for the task force's office and agency heads")
    try:
        period, preset = chosen_period()
    except engine.InvalidInput as exc:
        errors = {name: [_("Enter a date such as 2026-03-01.") if "not a date" in m else
                         _("The period must end on or after its first day.") if "end on or after" in m else
                         _("This field is required.") if m == "required" else m for m in reasons]
                  for name, reasons in exc.errors.items()}
        return render_template("statistics/index.html", stats=None, period=None, preset=None, errors=errors,
                               **common), 422
    stats = engine.statistics(db.session, actor(), period)
    common["args"] = {"from": period.first.isoformat(), "to": period.last.isoformat()}
    labels = rule_labels(stats)
    quarter = {"year": period.first.year, "quarter": (period.first.month - 1) // 3 + 1}
    return render_template("statistics/index.html", stats=stats, period=period, preset=preset, errors={},
                           quarter=quarter, names=_names(stats), rule_labels=labels,
                           mechanism_names=mechanism_names(stats),
                           periods_chart=periods_chart(stats, labels), fmt=format_value, **common)


def table(stats) -> list[list[object]]:
    """The figures as rows: a header, one row per figure (total, then each agency), a blank row,
    then the mechanisms (started, ended, running at the period's end)."""
    names = _names(stats)
    rows: list[list[object]] = [
        [_("Reporting period"), stats.period.first.isoformat(), stats.period.last.isoformat()],
        [_("Group"), _("Figure"), _("Total"), *names.values()],
    ]
    rows.extend([str(GROUP_LABELS.get(f.group, f.group)), str(FIGURE_LABELS.get(f.key, f.key)), f.total,
                 *(f.of(code) for code in names)] for f in stats.figures)
    rows.append([])
    rows.append([_("Mechanism"), _("Started"), _("Ended"), _("Running at the end")])
    rows.extend([workflow_text.translate(m.name), m.started, m.ended, m.running] for m in stats.mechanisms)
    rows.append([])
    rows.extend(stage_table(stats))
    rows.append([])
    rows.extend(periods_table(stats))
    return rows


def stage_table(stats) -> list[list[object]]:
    """Time per stage: a header, then one row per mechanism and step."""
    names = mechanism_names(stats)
    rows: list[list[object]] = [[_("Mechanism"), _("Step"), _("Tasks completed"), _("Median (hours)"),
                                 _("90th percentile (hours)")]]
    rows.extend([names[s.mechanism], workflow_text.translate(s.title), s.count, round(s.median_hours, 1),
                 round(s.p90_hours, 1)] for s in stats.stage_times)
    return rows


def periods_table(stats) -> list[list[object]]:
    """Legal periods met: a header, then one row per rule, named as the catalog words it (share in
    percent). The rule's id is for programs: the API gives it, a spreadsheet a person opens does not."""
    labels = rule_labels(stats)
    rows: list[list[object]] = [[_("Legal rule"), _("Tasks completed"), _("Met"), _("Share met (%)")]]
    rows.extend([labels[r.rule_id], r.count, r.met, round(r.share * 100, 1)] for r in stats.periods_met)
    return rows


def _filename(period, extension: str) -> str:
    return f"statistics-{period.first.isoformat()}-{period.last.isoformat()}.{extension}"


@bp.route("/statistics.csv")
@login_required
def export_csv():
    period, _preset = chosen_period()
    rows = table(engine.statistics(db.session, actor(), period))
    engine.record_statistics_export(db.session, actor(), period, "csv", len(rows))
    return _csv(rows, _filename(period, "csv"))


@bp.route("/statistics.xlsx")
@login_required
def export_xlsx():
    period, _preset = chosen_period()
    stats = engine.statistics(db.session, actor(), period)
    rows = table(stats)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    # The first sheet holds everything (as the CSV does); the two tables also get a sheet each.
    sheets = [(sheet, _("Statistics"), rows), (book.create_sheet(), _("Time per stage"), stage_table(stats)),
              (book.create_sheet(), _("Legal periods met"), periods_table(stats))]
    for sheet, title, sheet_rows in sheets:
        sheet.title = str(title)[:31]
        for row in sheet_rows:
            sheet.append([inert(cell) for cell in row])
        for cells in sheet.iter_rows():
            for cell in cells:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, whatever the text
    out = io.BytesIO()
    book.save(out)
    engine.record_statistics_export(db.session, actor(), period, "xlsx", len(rows))
    response = Response(out.getvalue(),
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(period, "xlsx")}"'
    return response
