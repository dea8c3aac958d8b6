"""CSV downloads of the supervision pages: the overdue (or due-soon) list and a case's audit
timeline. Both are audited: the list on the system chain, a timeline on its case's chain. Both
are worded as the pages are, in the user's language: step and mechanism names from the workflow
catalogue, events by their labels (web/labels.py), never an engine code or raw JSON.

The files are UTF-8 with a byte-order mark, because Excel, which the offices open them with,
reads a CSV without one in the system code page and garbles Chinese. Times are ISO 8601 in the
display zone (Asia/Shanghai) with the offset, so a script can read them back unambiguously.

Every cell is inert: text that a spreadsheet would take for a formula (a file name such as
`=HYPERLINK(...)`, a display name `@SUM(1,1)`) is written with a leading apostrophe, which Excel
and LibreOffice show as text; plain numbers stay numbers.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Response, current_app, request
from flask_babel import gettext as _

from engine import metrics

from . import labels, workflow_text
from .auth import actor
from .db import db
from .deadline_rules import due_basis
from .supervision import STATUSES, bp, watch_filters, watch_page

EXPORT_BATCH = 500
# What makes a spreadsheet evaluate a cell (OWASP "CSV injection"), and the plain numbers that
# may start with a sign and are left as they are (hours past due are negative before the due time).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def inert(value: object) -> object:
    """The cell as a spreadsheet will show it and never run it: numbers as they are, text that
    starts like a formula behind an apostrophe."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _iso(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])).isoformat(timespec="seconds")


def _csv(rows: list[list[object]], filename: str) -> Response:
    out = io.StringIO()
    out.write("\ufeff")
    csv.writer(out, lineterminator="\r\n").writerows([inert(cell) for cell in row] for row in rows)
    response = Response(out.getvalue().encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.route("/overdue.csv")
def overdue_csv():
    """Every row of the list the page shows (same status and filters), not only one page."""
    status = request.args.get("status", "overdue")
    status = status if status in STATUSES else "overdue"
    filters = watch_filters()
    now = db.clock.now()
    rows: list[list[object]] = [[
        _("Case number"), _("Mechanism"), _("Task"), _("Agency"), _("Lane"), _("Held by"),
        _("Held since"), _("Due (Beijing time)"), _("Provisional"), _("Hours past due"), _("Period and its basis"),
    ]]
    page_number = 1
    while True:
        page = watch_page(status, filters, page_number, EXPORT_BATCH)
        for task in page.items:
            since = task.claimed_at if task.assignee_id else task.created_at
            rows.append([
                task.case.number, workflow_text.translate(task.instance.process_model.name),
                workflow_text.translate(task.title), task.agency.name,
                labels.lane(task), task.assignee.display_name if task.assignee else _("Unclaimed"),
                _iso(since), _iso(task.due_at), _("yes") if task.due_provisional else "",
                f"{(now - task.due_at).total_seconds() / 3600:.1f}", due_basis(task),
            ])
        if page_number >= page.pages:
            break
        page_number += 1
    metrics.record_overdue_export(db.session, actor(), {"status": status, **filters}, len(rows) - 1)
    stamp = now.astimezone(ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])).strftime("%Y%m%d-%H%M")
    return _csv(rows, f"{status.replace('_', '-')}-{stamp}.csv")


@bp.route("/cases/<int:case_id>/timeline.csv")
def timeline_csv(case_id: int):
    """The case's whole audit chain, worded as the page's timeline words it (events and task
    names in the page's language, the same short detail without case content): no event codes,
    modeller's ids or raw event data reach the file."""
    export = metrics.export_case_timeline(db.session, actor(), case_id)
    rows: list[list[object]] = [[_("Time (Beijing)"), _("Who"), _("Agency"), _("Event"), _("Task"), _("Detail")]]
    for event in export.events:
        task = workflow_text.translate(export.task_titles.get(event.task_id)) if event.task_id else ""
        detail = labels.event_detail(event, content=False)
        rows.append([
            _iso(event.occurred_at), event.actor.display_name if event.actor else _("System"),
            event.actor_agency.name if event.actor_agency else "", labels.label(labels.EVENTS, event.event_type),
            task, "" if detail == task else detail,
        ])
    return _csv(rows, f"{export.case.number}-timeline.csv")
