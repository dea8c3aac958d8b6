"""A case's timeline: one bar per step, colored by agency, with its deadline and its overdue part.

Why a Gantt and not a table: supervisors ask "where did this case wait, and whose was it then";
bars side by side on one time axis answer that at a glance, and the red part past each deadline
shows who was late and by how much. Times arrive as aware UTC values (naive ones are taken as UTC,
which is what the database stores) and the axis is labelled in the office's zone.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from . import NO_DATA, add, message_svg, num, svg_root, text_width, to_string, truncate

# A few fixed colors, none of them red: red means overdue.
PALETTE = {"samr": "#2f6db5", "police": "#2e8b57", "procuratorate": "#7b52ab", "court": "#b07d1a",
           "office": "#3a8f9f"}
OTHER = "#7f8c8d"
AGENCY_NAMES = {"samr": "市场监管", "police": "公安", "procuratorate": "检察院", "court": "法院",
                "office": "办公室"}
WIDTH, ROW, GROUP, BAR, TOP = 960.0, 24.0, 20.0, 14.0, 34.0
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
# Tick spacings from fine to coarse; months are counted on the calendar, not as 30 days.
STEPS = ([(HOUR * h, "hour", h) for h in (1, 2, 3, 6, 12)] + [(DAY * d, "day", d) for d in (1, 2, 7, 14)]
         + [(DAY * 30.44 * m, "month", m) for m in (1, 2, 3, 6, 12)])
RED = "#d32f2f"
# Presentation attributes, not CSS: see the package docstring.
GRID, AXIS, TICK = {"stroke": "#e3e3e3"}, {"stroke": "#999"}, {"font-size": "11", "fill": "#555"}
DUE = {"stroke": "#111", "stroke-width": "2"}
# What the chart says, Chinese by default; a page passes its language's (web/supervision.py).
# Values in braces are filled in with str.format.
TEXTS = {
    "no_data": NO_DATA, "overdue_part": "超期部分", "due": "期限", "open_until_now": "进行中（至现在）",
    "now": "现在", "in_progress": "进行中", "due_at": "期限 {due}", "late_by": "，超期 {late}",
    "hours": "{hours:.1f} 小时", "days_hours": "{days} 天 {hours} 小时",
    "month": "{year}年{month}月", "day": "{month}月{day}日", "row_tip": "{label}（{agency}）",
}


@dataclass(frozen=True)
class TimelineRow:
    """One step of a case: who held it (agency code), from when, until when (None: still open)."""

    label: str
    agency: str
    start: datetime
    end: datetime | None = None
    due: datetime | None = None


def render_timeline(rows: list[TimelineRow], now: datetime, tz: str = "Asia/Shanghai", *,
                    agency_names: dict[str, str] | None = None,
                    texts: Mapping[str, str] | None = None) -> str:
    """The rows as a Gantt chart in SVG, grouped by agency in order of first appearance.

    Open rows run to `now`; the part of a bar past its due time is red; `agency_names` overrides
    the display name of agency codes in group headers and the legend, `texts` the words of
    `TEXTS` (legend, tooltips, axis).
    """
    t = {**TEXTS, **(texts or {})}
    if not rows:
        return message_svg("ld-gantt", t["no_data"])
    zone, now = ZoneInfo(tz), _utc(now)
    names = {**AGENCY_NAMES, **(agency_names or {})}
    groups: dict[str, list[TimelineRow]] = {}
    for row in rows:
        groups.setdefault(row.agency, []).append(row)
    moments = [_utc(t) for row in rows for t in (row.start, row.end, row.due) if t is not None]
    if any(row.end is None for row in rows):
        moments.append(now)
    t0, t1 = min(moments), max(moments)
    pad = max((t1 - t0) * 0.03, timedelta(minutes=30))
    t0, t1 = t0 - pad, t1 + pad

    label_w = min(260.0, max(120.0, max(text_width(row.label, 12) for row in rows) + 24))
    left, right = label_w, WIDTH - 16

    def x(t: datetime) -> float:
        return left + (right - left) * ((_utc(t) - t0) / (t1 - t0))

    bottom = TOP + len(rows) * ROW + len(groups) * GROUP
    legend_items = [(names.get(code, code), "swatch", _color(code)) for code in groups]
    legend_items += [(t["overdue_part"], "swatch", RED), (t["due"], "due", ""), (t["open_until_now"], "open", OTHER)]
    legend_lines = _legend_layout(legend_items, WIDTH - 16)
    height = bottom + 22 + 20 * len(legend_lines)
    root = svg_root("ld-gantt", 0, 0, WIDTH, height)

    ticks = _ticks(t0, t1, zone, (right - left) / 90, t)
    grid = add(root, "g", class_="grid-lines")
    for tick, _text in ticks:
        add(grid, "line", class_="grid", x1=x(tick), y1=TOP - 6, x2=x(tick), y2=bottom, **GRID)

    y, focus = TOP, []
    for code, members in groups.items():
        add(root, "text", names.get(code, code), class_="group", x=8, y=y + 14, fill=_color(code),
            font_weight="bold")
        add(root, "line", class_="axis", x1=0, y1=y + 1, x2=WIDTH, y2=y + 1, **AXIS)
        y += GROUP
        for row in members:
            box = _bar(root, row, y, x, now, zone, names, t, label_room=label_w - 24)
            if row.end is None:
                focus.append(box)
            y += ROW
    if t0 <= now <= t1:
        add(root, "line", class_="now", x1=x(now), y1=TOP - 6, x2=x(now), y2=bottom, stroke=RED,
            stroke_dasharray="4 3")
        near_end = x(now) > right - 40
        add(root, "text", t["now"], class_="tick", x=x(now) + (-3 if near_end else 3), y=bottom + 12,
            text_anchor="end" if near_end else "start", **{**TICK, "fill": RED})

    # The time axis is drawn over the bars, on a background of its own, so that the page can keep
    # it at the top of the box while the box scrolls down the rows (web/static/diagram.js).
    axis = add(root, "g", class_="axis-ticks")
    add(axis, "rect", class_="axis-background", x=0, y=0, width=WIDTH, height=TOP - 5, fill="#fff")
    for tick, text in ticks:
        add(axis, "text", text, class_="tick", x=x(tick), y=TOP - 12, text_anchor="middle", **TICK)
    add(axis, "line", class_="axis", x1=left, y1=TOP - 6, x2=right, y2=TOP - 6, **AXIS)

    legend = add(root, "g", class_="legend")
    for i, line in enumerate(legend_lines):
        for item_x, (text, kind, color) in line:
            _legend_item(legend, item_x + 8, bottom + 32 + 20 * i, text, kind, color)
    _fit(root, focus)
    return to_string(root)


def _fit(root, focus: list[tuple[float, float, float, float]]) -> None:
    """Drawn to the width of its box (the page scrolls the box, not itself); `data-focus` is the
    box around the steps in progress, which the page opens on and its buttons return to
    (web/static/diagram.js)."""
    root.set("width", "100%")
    del root.attrib["height"]
    if focus:
        x0, y0 = min(b[0] for b in focus), min(b[1] for b in focus)
        x1, y1 = max(b[0] + b[2] for b in focus), max(b[1] + b[3] for b in focus)
        root.set("data-focus", " ".join(num(v) for v in (x0, y0, x1 - x0, y1 - y0)))


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)


def _color(agency: str) -> str:
    return PALETTE.get(agency, OTHER)


def _local_text(t: datetime, zone: ZoneInfo) -> str:
    return _utc(t).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _bar(root, row: TimelineRow, y: float, x, now: datetime, zone: ZoneInfo, names: dict[str, str],
         t: Mapping[str, str], label_room: float) -> tuple[float, float, float, float]:
    """One row: label, bar (2px at least, so a zero-length step still shows), red overdue part, due
    tick; returns the bar's box."""
    start, end = _utc(row.start), _utc(row.end) if row.end is not None else now
    end = max(end, start)
    g = add(root, "g", class_="row", data_agency=row.agency)
    tip = [t["row_tip"].format(label=row.label, agency=names.get(row.agency, row.agency)),
           f"{_local_text(start, zone)} — {_local_text(end, zone) if row.end else t['in_progress']}"]
    if row.due is not None:
        hours = (end - _utc(row.due)) / HOUR
        late = (t["hours"].format(hours=hours) if hours < 48
                else t["days_hours"].format(days=int(hours // 24), hours=int(hours % 24)))
        tip.append(t["due_at"].format(due=_local_text(row.due, zone))
                   + (t["late_by"].format(late=late) if hours > 0 else ""))
    add(g, "title", "\n".join(tip))
    add(g, "text", truncate(row.label, label_room, 12), x=16, y=y + ROW / 2 + 4)
    top = y + (ROW - BAR) / 2
    x0, x1 = x(start), max(x(end), x(start) + 2)
    add(g, "rect", class_="bar open" if row.end is None else "bar", x=x0, y=top, width=x1 - x0, height=BAR,
        fill=_color(row.agency), fill_opacity="0.55" if row.end is None else None, rx=2)
    if row.due is not None:
        due = _utc(row.due)
        if end > due:
            red_x = x(max(due, start))
            add(g, "rect", class_="overdue", x=red_x, y=top, width=max(x1 - red_x, 2.0), height=BAR, rx=2,
                fill=RED)
        add(g, "line", class_="due", x1=x(due), y1=top - 3, x2=x(due), y2=top + BAR + 3, **DUE)
    return x0, top, x1 - x0, BAR


def _ticks(t0: datetime, t1: datetime, zone: ZoneInfo, most: float,
           t: Mapping[str, str] = TEXTS) -> list[tuple[datetime, str]]:
    """Ticks at round local times (hours, midnights, Mondays, firsts of the month), at most `most`."""
    step, unit, n = next((s for s in STEPS if (t1 - t0) / s[0] <= most), STEPS[-1])
    local = t0.astimezone(zone).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    if unit == "hour":
        tick = local.replace(hour=local.hour - local.hour % n)
    elif unit == "day":
        tick = local.replace(hour=0)
        tick -= DAY * (tick.weekday() if n >= 7 else tick.toordinal() % n)
    else:
        tick = local.replace(hour=0, day=1, month=local.month - (local.month - 1) % n)
    ticks, previous_day = [], None
    while (aware := tick.replace(tzinfo=zone).astimezone(timezone.utc)) <= t1:
        if aware >= t0:
            if unit == "month":
                text = t["month"].format(year=tick.year, month=tick.month)
            elif unit == "day" or tick.date() != previous_day:
                text = t["day"].format(month=tick.month, day=tick.day) + (f" {tick:%H:%M}" if unit == "hour" else "")
            else:
                text = f"{tick:%H:%M}"
            ticks.append((aware, text))
            previous_day = tick.date()
        if unit == "month":
            months = tick.year * 12 + tick.month - 1 + n
            tick = tick.replace(year=months // 12, month=months % 12 + 1)
        else:
            tick += step
    return ticks


def _legend_layout(items, width: float):
    """Legend entries placed left to right, starting a new line when one is full."""
    lines, line, cursor = [], [], 0.0
    for item in items:
        item_w = 22 + text_width(item[0], 11) + 18
        if line and cursor + item_w > width:
            lines.append(line)
            line, cursor = [], 0.0
        line.append((cursor, item))
        cursor += item_w
    return [*lines, line] if line else lines


def _legend_item(parent, x: float, y: float, text: str, kind: str, color: str) -> None:
    if kind == "due":
        add(parent, "line", class_="due", x1=x + 8, y1=y - 10, x2=x + 8, y2=y + 2, **DUE)
    else:
        add(parent, "rect", class_="swatch", x=x, y=y - 9, width=16, height=10, fill=color, rx=2,
            fill_opacity="0.55" if kind == "open" else None)
    add(parent, "text", text, x=x + 22, y=y, font_size=11)
