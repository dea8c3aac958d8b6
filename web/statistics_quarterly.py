"""The printable quarterly summary of the task force's statistics (季度统计): a year and a quarter
picked by the reader, laid out as an A4 report titled like the task force's own ("2026年第四季度
商业秘密保护联动工作统计"): the quarter's headline figures per agency, the time per stage, the share
of legal periods met per rule, two server-side SVG charts, who generated it and when, and a print
button. Printed, the site's header and the page's controls are left out (static
statistics-print.css; the CSP forbids inline styles and scripts).

It is the statistics page's figures for the quarter's days, read by the same engine call, so the
same readers see the same agencies (the office's supervisors every agency, an agency head their
own) and the downloads (XLSX, CSV) of the same period hold the same figures. Like the page, it
writes nothing: only downloads are audited.
"""
from __future__ import annotations

from datetime import date, timedelta

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from markupsafe import Markup

import engine

from .auth import actor
from .db import db
from .statistics import (
    FIGURE_LABELS,
    _names,
    _today,
    bp,
    mechanism_names,
    periods_chart,
    rule_labels,
)
from .svg.charts import format_value, render_bar_chart

FIRST_YEAR, LAST_YEAR = 2000, 2100
QUARTER_NAMES = {1: _l("Q1"), 2: _l("Q2"), 3: _l("Q3"), 4: _l("Q4")}
# The figures a quarterly report leads with, in the order the district's reports give them.
HEADLINE = ("clues_registered", "cases_opened", "transfers", "filings", "non_filings", "supervisions",
            "sent_for_prosecution", "suspects", "prosecutions", "persons_prosecuted", "judgments",
            "persons_convicted", "loss_amount", "illegal_gain", "compensation", "amounts_unknown",
            "penalties", "fines")


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_period(year: int, quarter: int) -> engine.StatisticsPeriod:
    """The quarter's days, first to last, both included."""
    first = date(year, 3 * quarter - 2, 1)
    after = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return engine.StatisticsPeriod(first, after - timedelta(days=1))


def _whole(name: str, low: int, high: int, default: int, errors: dict[str, list[str]]) -> int:
    """The query string's whole number `name` within low..high; the default when it is absent."""
    value = request.args.get(name, "").strip()
    if not value:
        return default
    if not value.isascii() or not value.isdigit() or not low <= int(value) <= high:
        errors[name] = [_("Enter a whole number from %(low)s to %(high)s.", low=low, high=high)]
        return default
    return int(value)


def chosen_quarter() -> tuple[int, int, dict[str, list[str]]]:
    """The year and quarter asked for (the current quarter by default) and the fields refused."""
    errors: dict[str, list[str]] = {}
    this_year, this_quarter = quarter_of(_today())
    year = _whole("year", FIRST_YEAR, LAST_YEAR, this_year, errors)
    quarter = _whole("quarter", 1, 4, this_quarter, errors)
    return year, quarter, errors


def headline(stats) -> list:
    """The headline figures the installation has (clues only where it registers clues)."""
    return [stats.by_key[key] for key in HEADLINE if key in stats.by_key]


def counts_chart(figures) -> Markup:
    """The headline counts of cases (not persons, not yuan) as horizontal bars."""
    return Markup(render_bar_chart(
        _("Cases in the quarter"),
        [(str(FIGURE_LABELS.get(f.key, f.key)), f.total) for f in figures if f.unit == "count"
         and f.key != "amounts_unknown"], no_data=_("No data")))


def title(year: int, quarter: int) -> str:
    return _("Trade secret protection liaison statistics, %(year)s %(quarter)s",
             year=year, quarter=QUARTER_NAMES[quarter])


@bp.route("/quarterly")
@login_required
def quarterly():
    """The summary of one quarter, ready to print; 422 naming the field for a year or quarter
    that is not one."""
    if not engine.policy.allowed(db.session, actor(), "view_statistics"):
        raise engine.Forbidden("statistics are for the task force's office and agency heads")
    year, quarter, errors = chosen_quarter()
    common = {"year": year, "quarter": quarter, "quarter_names": QUARTER_NAMES, "errors": errors,
              "args": {k: request.args.get(k, "") for k in ("year", "quarter")} if errors else
              {"year": year, "quarter": quarter}}
    if errors:
        return render_template("statistics/quarterly.html", stats=None, **common), 422
    period = quarter_period(year, quarter)
    stats = engine.statistics(db.session, actor(), period)
    figures = headline(stats)
    labels = rule_labels(stats)
    return render_template(
        "statistics/quarterly.html", stats=stats, period=period, title=title(year, quarter), headline=figures,
        names=_names(stats), figure_labels=FIGURE_LABELS, rule_labels=labels,
        mechanism_names=mechanism_names(stats), counts_chart=counts_chart(figures),
        periods_chart=periods_chart(stats, labels), fmt=format_value, generated_at=db.clock.now(),
        reader=actor(), period_args={"from": period.first.isoformat(), "to": period.last.isoformat()}, **common)
