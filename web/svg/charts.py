"""Bar charts for the supervision dashboard, and the percentile arithmetic behind its figures.

Why horizontal bars: the categories are step and agency names in Chinese, which need room to be
read; horizontal bars give every name a full line and every value a label at the bar's end.
Why percentiles here: the metrics page reports medians and 90th percentiles of hours per step
(averages hide the one case that waited a month); the definition lives beside the chart that
shows it so the two never disagree.
"""
from __future__ import annotations

import math

from . import NO_DATA, add, labelled, svg_root, text_width, to_string, truncate

WIDTH, ROW, BAR, TOP = 640.0, 26.0, 16.0, 40.0
VALUE_ROOM = 70.0  # room right of the longest bar for its value label
BLUE, RED = "#2f6db5", "#d32f2f"  # colors are presentation attributes, not CSS: see the package docstring


def percentile(values: list[float], p: float) -> float | None:
    """The `p`-th percentile (0 to 100) of `values`, by linear interpolation; None if empty.

    The values are sorted and the rank r = p / 100 * (n - 1) is taken between the two values
    around it: x[floor r] + (r - floor r) * (x[floor r + 1] - x[floor r]). This is the "linear"
    method of numpy.percentile and Excel's PERCENTILE.INC (Hyndman-Fan type 7), so figures can be
    checked in a spreadsheet: percentile([1, 2, 3, 4], 50) == 2.5, percentile([10, 20, 30, 40, 50],
    90) == 46.0. Raises ValueError if `p` is outside 0..100.
    """
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0..100, got {p}")
    if not values:
        return None
    ordered = sorted(float(v) for v in values)
    rank = p / 100 * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (rank - low) * (ordered[high] - ordered[low])


def median(values: list[float]) -> float | None:
    """The median (the 50th percentile, so the mean of the two middle values for an even count)."""
    return percentile(values, 50)


def format_value(value: float) -> str:
    """A value for a label: at most one decimal, none when it is whole (12.5, 3, 1234)."""
    return f"{value:.1f}".rstrip("0").rstrip(".") if math.isfinite(value) else "—"


def render_bar_chart(title: str, series: list[tuple[str, float]], unit: str = "",
                     highlight_over: float | None = None, no_data: str = NO_DATA) -> str:
    """Horizontal bars, one per (label, value), each with its value and `unit` written at its end.

    Bars above `highlight_over` are red (class `bar over`) and a dashed line marks the threshold.
    Values that are not finite get no bar and a dash; an empty series says `no_data`.
    """
    label_w = min(220.0, max([text_width(label, 12) + 16 for label, _ in series] + [80.0]))
    height = TOP + max(len(series), 1) * ROW + (24 if highlight_over is not None else 10)
    root = svg_root("ld-chart", 0, 0, WIDTH, height)
    add(root, "text", title, class_="chart-title", x=8, y=22, font_size=14, font_weight="bold")
    if not series:
        add(root, "text", no_data, class_="message", x=label_w, y=TOP + ROW / 2 + 4, fill="#666")
        return to_string(root)
    finite = [v for _, v in series if math.isfinite(v)]
    low = min([*finite, 0.0])
    high = max(finite + [0.0] + ([highlight_over] if highlight_over is not None else []))
    if high == low:
        high = low + 1
    left, right = label_w, WIDTH - VALUE_ROOM

    def x(value: float) -> float:
        return left + (right - left) * (value - low) / (high - low)

    bottom = TOP + len(series) * ROW
    for i, (label, value) in enumerate(series):
        y = TOP + i * ROW
        over = highlight_over is not None and math.isfinite(value) and value > highlight_over
        g = add(root, "g", class_="row over" if over else "row")
        add(g, "title", labelled(label, f"{format_value(value)}{unit}"))
        add(g, "text", truncate(label, label_w - 16, 12), x=label_w - 8, y=y + ROW / 2 + 4, text_anchor="end")
        end = x(0.0)
        if math.isfinite(value):
            x0, x1 = sorted((x(0.0), x(value)))
            add(g, "rect", class_="bar over" if over else "bar", x=x0, y=y + (ROW - BAR) / 2,
                width=max(x1 - x0, 1.0), height=BAR, fill=RED if over else BLUE)
            end = x(value)
        negative = math.isfinite(value) and value < 0
        add(g, "text", f"{format_value(value)}{unit if math.isfinite(value) else ''}", class_="value",
            x=end + (-4 if negative else 4), y=y + ROW / 2 + 4, text_anchor="end" if negative else "start",
            font_size=11, fill="#333")
    add(root, "line", class_="axis", x1=x(0.0), y1=TOP - 4, x2=x(0.0), y2=bottom + 4, stroke="#999")
    if highlight_over is not None:
        add(root, "line", class_="threshold", x1=x(highlight_over), y1=TOP - 4, x2=x(highlight_over),
            y2=bottom + 4, stroke=RED, stroke_dasharray="4 3")
        add(root, "text", f"{format_value(highlight_over)}{unit}", class_="value", x=x(highlight_over),
            y=bottom + 18, text_anchor="middle", fill=RED, font_size=11)
    return to_string(root)
