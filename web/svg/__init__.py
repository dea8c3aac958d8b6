"""Server-side SVG for the case page and the dashboards: pure functions from plain data to markup.

Why on the server: the pages have no build step and no CDN (DESIGN.md, Web), so diagrams and charts
arrive as finished SVG that every browser shows, that prints, and that a test can parse. Nothing
here knows Flask or the database; callers pass plain values and get a string back.

Why every element is built with lxml instead of string formatting: names come from uploaded BPMN
files and case records, and a tree serializer escapes them every time, so no caller can forget to.

Why colors are presentation attributes (`fill="..."`) and not only CSS: our pages send
`Content-Security-Policy: default-src 'self'`, under which a browser ignores the `<style>` element
and `style=` attributes of an SVG inlined into the page. Each drawing therefore carries its look in
attributes, and its `<style>` repeats the state rules as classes (`.el.overdue .shape`), which
apply when the SVG is opened on its own and which the site's stylesheet may also target.

The renderers live in `diagram` (BPMN from its own DI), `gantt` (case timeline) and `charts` (bar
charts and the percentile helpers); this module holds the few pieces they share.
"""
from __future__ import annotations

import re
import unicodedata

from lxml import etree

SVG_NS = "http://www.w3.org/2000/svg"
# Chinese first: the offices run Noto (Linux desktops) or YaHei (Windows); never a web font.
FONT_FAMILY = '"Noto Sans CJK SC", "Microsoft YaHei", sans-serif'
NO_DATA = "无数据"

# Characters XML 1.0 forbids; a stray control character in a record must not break the page.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Latin words stay whole when wrapping; each CJK character may stand alone on a line.
_TOKENS = re.compile(r"[^\s\u2e80-\ufaff\uff00-\uffef]+|\s+|.")
# Chinese typesetting never starts a line with closing punctuation (避头尾).
_NO_LINE_START = set("，。、；：？！）》」』】,.;:?!)")


def clean(text: object) -> str:
    """`text` as a string the XML serializer accepts (forbidden control characters dropped)."""
    return _ILLEGAL.sub("", str(text))


def text_width(text: str, size: float) -> float:
    """Estimated rendered width: wide (CJK) glyphs are one em, others about half an em.

    An estimate is enough to wrap and size boxes, and it keeps the renderers free of font files.
    """
    wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in "WF")
    return (wide + 0.58 * (len(text) - wide)) * size


def labelled(name: str, value: str) -> str:
    """"name：value" with the colon of the text's language: full width beside Chinese, ": " between
    Latin words (an English page's tooltip)."""
    wide = any(unicodedata.east_asian_width(ch) in "WF" for ch in name + value)
    return f"{name}{'：' if wide else ': '}{value}"


def truncate(text: str, width: float, size: float) -> str:
    """`text` cut with an ellipsis so that it fits `width`."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def wrap(text: str, width: float, size: float, max_lines: int) -> list[str]:
    """Lines no wider than `width`, at most `max_lines` (the last one cut with an ellipsis).

    Lines are balanced: "判断刑事立/案追诉标准" reads better in a box than "判断刑事立案追/诉标准".
    """
    lines = _greedy(text, width, size)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = truncate(lines[-1] + "…", width, size)
    elif len(lines) > 1:
        narrower = text_width("".join(lines), size) / len(lines)
        while narrower < width:
            trial = _greedy(text, narrower, size)
            if len(trial) == len(lines):
                return trial
            narrower += size / 2
    return lines


def _greedy(text: str, width: float, size: float) -> list[str]:
    tokens: list[str] = []
    for token in _TOKENS.findall(" ".join(text.split())):
        # A word wider than the line is broken between characters.
        tokens.extend(token if text_width(token, size) > width else [token])
    lines: list[str] = []
    line = ""
    for token in tokens:
        fits = text_width((line + token).rstrip(), size) <= width
        if fits or not line.strip() or token in _NO_LINE_START:
            line += token
        else:
            lines.append(line.rstrip())
            line = token.lstrip()
    if line.strip():
        lines.append(line.rstrip())
    return lines


def num(value: float) -> str:
    """A coordinate as short text: two decimals at most, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def add(parent: etree._Element, tag: str, text: str | None = None, **attrs: object) -> etree._Element:
    """Append an SVG element; `class_` becomes `class`, `stroke_width` becomes `stroke-width`.

    Float values are written through `num`, everything else through `clean`.
    """
    el = etree.SubElement(parent, f"{{{SVG_NS}}}{tag}")
    for key, value in attrs.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        el.set(name, num(value) if isinstance(value, float) else clean(value))
    if text is not None:
        el.text = clean(text)
    return el


def points(*pairs: tuple[float, float]) -> str:
    """A `points` attribute for a polyline or polygon."""
    return " ".join(f"{num(x)},{num(y)}" for x, y in pairs)


def text_lines(parent: etree._Element, lines: list[str], x: float, y: float, size: float,
               center: bool = False, anchor: str = "middle", **attrs: object) -> None:
    """One `<text>` of stacked lines from baseline `y`, or vertically centered on `y` if `center`."""
    if not lines:
        return
    step = size + 3
    first = y - step * (len(lines) - 1) / 2 + size * 0.35 if center else y
    text = add(parent, "text", font_size=size, x=x, y=first, text_anchor=anchor, **attrs)
    for i, line in enumerate(lines):
        add(text, "tspan", line, x=x, dy=0.0 if i == 0 else float(step))


def css_rules(selector: str, styles: dict[str, dict[str, str]]) -> str:
    """CSS text from {class: {property: value}}; `selector` holds `{}` where the class goes."""
    return "\n".join(selector.format(name) + "{" + ";".join(f"{k}:{v}" for k, v in style.items()) + "}"
                     for name, style in styles.items())


def svg_root(css_class: str, x: float, y: float, width: float, height: float,
             css: str = "", title: str | None = None) -> etree._Element:
    """The outer `<svg>` with its viewBox, font and, if given, a `<style>`.

    Rules must be scoped under `css_class`: an inline SVG's `<style>` applies to the whole page.
    """
    root = etree.Element(f"{{{SVG_NS}}}svg", nsmap={None: SVG_NS})
    for name, value in (("class", css_class), ("viewBox", f"{num(x)} {num(y)} {num(width)} {num(height)}"),
                        ("width", num(width)), ("height", num(height)),
                        ("font-family", FONT_FAMILY), ("font-size", "12"), ("role", "img")):
        root.set(name, value)
    if title:
        add(root, "title", title)
    if css:
        add(root, "style", css)
    return root


def to_string(root: etree._Element) -> str:
    """The SVG as text without an XML declaration, ready to inline in a page."""
    return etree.tostring(root, encoding="unicode")


def message_svg(css_class: str, message: str, width: float = 320, height: float = 60) -> str:
    """A small SVG holding only a centered message, for "no data" and "no diagram" cases."""
    root = svg_root(css_class, 0, 0, width, height)
    add(root, "text", message, class_="message", x=width / 2, y=height / 2 + 5, text_anchor="middle",
        fill="#666", font_size=14)
    return to_string(root)
