"""A case's BPMN diagram, drawn from the file's own diagram interchange (DI), with its state marked.

Why from DI and not an automatic layout: the modeller decided where each step goes and people
recognise their own drawing; the engine's state (completed, active, overdue, error) is painted onto
that drawing. The XML is an uploaded file, so it is parsed without entities or network access and
every name it carries reaches the SVG only as escaped text.
"""
from __future__ import annotations

import itertools
import math

from lxml import etree

from . import (
    add,
    css_rules,
    labelled,
    message_svg,
    points,
    svg_root,
    text_lines,
    text_width,
    to_string,
    truncate,
    wrap,
)

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN, "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC", "di": "http://www.omg.org/spec/DD/20100524/DI"}
# Marks the engine reports, with the words the tooltip uses unless `labels` renames them.
MARKS = {"completed": "已完成", "active": "进行中", "overdue": "已超期", "error": "出错"}
NO_DIAGRAM = "此流程文件没有图形信息"
MARGIN, HEADER = 20.0, 30.0  # HEADER: width of the name band of a pool or lane, as in bpmn-js
# The view a page opens on when steps are active: at least this much of the drawing around them, so
# that a step is read with its neighbours at the size it was drawn, in a box of a page's width.
FOCUS_W, FOCUS_H = 1100.0, 560.0
FOCUSED = ("active", "overdue", "error")
ACTIVITIES = {"task", "subProcess", "callActivity", "transaction", "adHocSubProcess"}
INK = "#333"
# The look of each part, written as presentation attributes (see the package docstring for why).
LOOK = {name: {"fill": fill, "stroke": stroke, "stroke-width": width} for name, fill, stroke, width in (
    ("shape", "#fff", INK, "1.5"), ("pool", "none", INK, "1.2"), ("lane", "none", "#888", "1"),
    ("glyph", "none", INK, "1.5"), ("solid", INK, "#fff", "1"), ("edge", "none", INK, "1.5"),
    ("label", INK, "#fff", "3"))}  # labels get a white halo so a flow passing under them does not hide them
LOOK["label"].update({"stroke-linejoin": "round", "paint-order": "stroke"})
MARK_LOOK = {
    "completed": {"fill": "#e3f4e1", "stroke": "#2e7d32"},
    "active": {"fill": "#e3eefc", "stroke": "#1d63d8", "stroke-width": "3.5"},
    "overdue": {"fill": "#fde4e4", "stroke": "#c62828", "stroke-width": "3.5"},
    "error": {"fill": "#fff0db", "stroke": "#e67e00", "stroke-width": "2.5", "stroke-dasharray": "5 3"},
}
# End events keep their thick border whatever their mark, so that rule comes last.
CSS = "\n".join([css_rules(".ld-bpmn .el.{} .shape", MARK_LOOK),
                  css_rules(".ld-bpmn .edge.{}", {k: {"stroke": v["stroke"]} for k, v in MARK_LOOK.items()}),
                  ".ld-bpmn .el.end .shape{stroke-width:4}"])
# Arrowheads in user units keep one size whatever the line width: (id, size, refX, child, attrs).
MARKERS = (("arrow", 11, 9.5, "path", {"d": "M0,0L10,5L0,10z", "fill": "#333"}),
           ("open-arrow", 11, 9.5, "path", {"d": "M.5,.5L9.5,5L.5,9.5z"}),
           ("dot", 8, 5, "circle", {"cx": "5", "cy": "5", "r": "4"}))
FLOW_LOOK = {"sequence": {"marker-end": "url(#ld-bpmn-arrow)"}, "association": {"stroke-dasharray": "2 3"},
             "message": {"marker-start": "url(#ld-bpmn-dot)", "marker-end": "url(#ld-bpmn-open-arrow)",
                         "stroke-dasharray": "6 4"}}


def render_bpmn(bpmn_xml: str | bytes, marks: dict[str, str],
                labels: dict[str, str] | None = None, no_diagram: str = NO_DIAGRAM) -> str:
    """The diagram of `bpmn_xml` as an SVG string.

    `marks` maps element ids to one of `MARKS`; each marked shape gets `class="el <mark>"` and a
    tooltip. `labels` renames lanes (by id or by name such as `samr.handler`), elements (by id) and
    marks (by mark code); `no_diagram` is said for a file without diagram information. Raises
    ValueError for XML that does not parse or for an unknown mark.
    """
    if unknown := sorted(set(marks.values()) - MARKS.keys()):
        raise ValueError(f"unknown marks: {unknown}")
    # A str was already decoded, so the encoding its XML declaration names no longer applies.
    decoded = isinstance(bpmn_xml, str)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True,
                             remove_pis=True, encoding="utf-8" if decoded else None)
    try:
        doc = etree.fromstring(bpmn_xml.encode("utf-8") if decoded else bpmn_xml, parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"BPMN file does not parse: {exc}") from exc
    canvas = _Canvas(marks, labels or {})
    model = {el.get("id"): el for el in doc.iter(f"{{{BPMN}}}*") if el.get("id")}
    plane = ".//bpmndi:BPMNDiagram[1]/bpmndi:BPMNPlane/"  # a file may hold several; the first is the main one
    for di in doc.iterfind(plane + "bpmndi:BPMNShape", NS):
        el, bounds = model.get(di.get("bpmnElement")), di.find("dc:Bounds", NS)
        if el is not None and bounds is not None:
            canvas.shape(el, di, _box(bounds))
    for di in doc.iterfind(plane + "bpmndi:BPMNEdge", NS):
        el = model.get(di.get("bpmnElement"))
        waypoints = [(float(p.get("x", 0)), float(p.get("y", 0))) for p in di.iterfind("di:waypoint", NS)]
        if el is not None and len(waypoints) >= 2:
            canvas.edge(el, di, waypoints)
    return canvas.svg(no_diagram)


def _box(bounds: etree._Element) -> tuple[float, float, float, float]:
    return tuple(float(bounds.get(k, 0)) for k in ("x", "y", "width", "height"))  # type: ignore[return-value]


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _kind(tag: str) -> str:
    if tag in ("participant", "lane"):
        return "pool" if tag == "participant" else "lane"
    if tag in ACTIVITIES or tag.endswith("Task"):
        return "task"
    return "event" if tag.endswith("Event") else "gateway" if tag.endswith("Gateway") else "artifact"


class _Canvas:
    """The drawing in layers (containers, nodes, edges, labels) and the extent of all of it,
    because the viewBox on the root is only known once everything has been placed."""

    def __init__(self, marks: dict[str, str], labels: dict[str, str]) -> None:
        self.marks, self.labels = marks, labels
        self.body = etree.Element("g")
        self.layers = {name: add(self.body, "g", class_=name)
                       for name in ("containers", "nodes", "edges", "labels")}
        self.x0 = self.y0 = math.inf
        self.x1 = self.y1 = -math.inf
        self.focus: list[tuple[float, float, float, float]] = []  # boxes of the steps in progress

    def extend(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self.x0, self.y0 = min(self.x0, x0), min(self.y0, y0)
        self.x1, self.y1 = max(self.x1, x1), max(self.y1, y1)

    def svg(self, no_diagram: str = NO_DIAGRAM) -> str:
        if self.x0 == math.inf:
            return message_svg("ld-bpmn", no_diagram)
        whole = (self.x0 - MARGIN, self.y0 - MARGIN, self.x1 - self.x0 + 2 * MARGIN, self.y1 - self.y0 + 2 * MARGIN)
        root = svg_root("ld-bpmn", *whole, CSS)
        # Drawn to the width of its box, opening on the steps in progress (the whole drawing when
        # none is); static/diagram.js switches between the two and zooms.
        view = self._focus_view(whole)
        root.set("viewBox", " ".join(f"{v:g}" for v in view))
        root.set("data-whole", " ".join(f"{v:g}" for v in whole))
        root.set("data-focus", " ".join(f"{v:g}" for v in view))
        root.set("width", "100%")
        del root.attrib["height"]
        defs = add(root, "defs")
        for ident, size, ref, child, attrs in MARKERS:
            marker = add(defs, "marker", id=f"ld-bpmn-{ident}", markerWidth=size, markerHeight=size,
                         refX=ref, refY=5, markerUnits="userSpaceOnUse", orient="auto", viewBox="0 0 10 10")
            add(marker, child, **{"fill": "#fff", "stroke": INK, **attrs})
        root.extend(list(self.body))
        return to_string(root)

    def _focus_view(self, whole: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        """The part of the drawing around the steps in progress, at least FOCUS_W x FOCUS_H and
        inside the whole; the whole when nothing is in progress or it is small anyway."""
        wx, wy, ww, wh = whole
        if not self.focus or (ww <= FOCUS_W and wh <= FOCUS_H):
            return whole
        x0 = min(b[0] for b in self.focus) - MARGIN * 4
        y0 = min(b[1] for b in self.focus) - MARGIN * 4
        x1 = max(b[0] + b[2] for b in self.focus) + MARGIN * 4
        y1 = max(b[1] + b[3] for b in self.focus) + MARGIN * 4
        # Keep the box's proportions so the view fills it without bands.
        w = max(x1 - x0, FOCUS_W, (y1 - y0) * FOCUS_W / FOCUS_H)
        h = max(y1 - y0, w * FOCUS_H / FOCUS_W)
        w, h = min(w, ww), min(h, wh)
        x = min(max((x0 + x1 - w) / 2, wx), wx + ww - w)
        y = min(max((y0 + y1 - h) / 2, wy), wy + wh - h)
        return x, y, w, h

    def group(self, layer: str, classes: tuple[str, ...], tag: str, ident: str, name: str,
              mark: str, kind: str) -> etree._Element:
        """The element of one BPMN element: its id, its mark as a class and a tooltip."""
        el = add(self.layers[layer], tag, class_=" ".join(c for c in (*classes, mark) if c),
                 data_element=ident, data_kind=kind)
        # An unnamed element (a joining gateway) says only its mark: its id is the modeller's.
        state = self.labels.get(mark, MARKS[mark]) if mark else ""
        if name or state:
            add(el, "title", labelled(name, state) if name and state else name or state)
        return el

    def shape(self, el: etree._Element, di: etree._Element, box: tuple[float, ...]) -> None:
        x, y, w, h = box
        self.extend(x, y, x + w, y + h)
        tag, ident = _local(el), el.get("id")
        kind, mark, name = _kind(tag), self.marks.get(ident, ""), el.get("name") or ""
        # Lanes are named by role code (`samr.handler`); the page passes the words people use.
        container = kind in ("pool", "lane")
        name = self.labels.get(ident) or (self.labels.get(name) if container else None) or name
        if kind == "artifact" and not name:
            name = " ".join(el.findtext("bpmn:text", "", NS).split())
        extra = tag.replace("Event", "") if kind == "event" else "call" if tag == "callActivity" else ""
        layer, cx, cy = "containers" if container else "nodes", x + w / 2, y + h / 2
        if mark in FOCUSED and not container:
            self.focus.append((x, y, w, h))
        g = self.group(layer, ("el", kind, extra), "g", ident, name, mark, kind)
        look = {**LOOK.get(kind, LOOK["shape"]), **MARK_LOOK.get(mark, {})}
        if tag in ("endEvent", "callActivity"):  # thick borders are what these are, whatever their mark
            look["stroke-width"] = "4" if tag == "endEvent" else "3"
        if container:
            add(g, "rect", class_="shape", x=x, y=y, width=w, height=h, **look)
            size, bold = (14, "bold") if kind == "pool" else (12, None)
            if di.get("isHorizontal", "true") == "false":  # a vertical pool has its name band on top
                add(g, "line", x1=x, y1=y + HEADER, x2=x + w, y2=y + HEADER, stroke=look["stroke"])
                add(g, "text", truncate(name, w - 10, size), x=cx, y=y + 20, text_anchor="middle",
                    font_size=size, font_weight=bold)
            else:
                add(g, "line", x1=x + HEADER, y1=y, x2=x + HEADER, y2=y + h, stroke=look["stroke"])
                add(g, "text", truncate(name, h - 10, size), x=x + HEADER / 2, y=cy, text_anchor="middle",
                    writing_mode="vertical-rl", dominant_baseline="central", font_size=size, font_weight=bold)
        elif kind == "task":
            add(g, "rect", class_="shape", x=x, y=y, width=w, height=h, rx=10, ry=10, **look)
            if di.get("isExpanded") == "true":  # an expanded sub-process: name on top, children inside
                add(g, "text", truncate(name, w - 12, 12), x=x + 6, y=y + 16, font_size=12)
            else:
                text_lines(g, wrap(name, w - 10, 12, max(1, int((h - 6) // 15))), cx, cy, 12, center=True)
        elif kind == "artifact":
            add(g, "rect", class_="shape", x=x, y=y, width=w, height=h, fill_opacity="0.6", **look)
            text_lines(g, wrap(name, w - 8, 11, max(1, int(h // 14))), cx, cy, 11, center=True)
        else:
            if kind == "event":
                add(g, "circle", class_="shape", cx=cx, cy=cy, r=w / 2, **look)
                if tag.startswith("intermediate") or tag == "boundaryEvent":
                    add(g, "circle", class_="shape", cx=cx, cy=cy, r=w / 2 - 3, **look)
                _event_glyph(g, el, tag, cx, cy, w / 2)
            else:
                add(g, "polygon", class_="shape", points=points((cx, y), (x + w, cy), (cx, y + h), (x, cy)),
                    **look)
                _gateway_glyph(g, tag, cx, cy, w / 4)
            label_box = di.find("bpmndi:BPMNLabel/dc:Bounds", NS)
            if label_box is not None:
                lx, ly, lw, _ = _box(label_box)
                self.label(wrap(name, max(lw, 40), 11, 4), lx + lw / 2, ly + 11)
            elif name:
                # Events carry their name below (bpmn-js default); gateways above, where no flow leaves.
                lines = wrap(name, 84, 11, 3)
                self.label(lines, cx, y + h + 14 if kind == "event" else y - 6 - 14 * (len(lines) - 1))

    def label(self, lines: list[str], x: float, y: float, anchor: str = "middle") -> None:
        """Text above the edges, with a white halo so a flow passing under it does not hide it."""
        width = max((text_width(line, 11) for line in lines), default=0)
        left = x - width / 2 if anchor == "middle" else x
        self.extend(left, y - 11, left + width, y + 14 * len(lines) - 11)
        text_lines(self.layers["labels"], lines, x, y, 11, anchor=anchor, **LOOK["label"])

    def edge(self, el: etree._Element, di: etree._Element, waypoints: list[tuple[float, float]]) -> None:
        kind = {"sequenceFlow": "sequence", "messageFlow": "message"}.get(_local(el), "association")
        ident, name = el.get("id"), self.labels.get(el.get("id")) or el.get("name") or ""
        mark = self.marks.get(ident, "")
        line = self.group("edges", ("edge", kind), "polyline", ident, name, mark, "flow")
        for key, value in {**LOOK["edge"], "stroke": MARK_LOOK.get(mark, LOOK["edge"])["stroke"],
                           "points": points(*waypoints), **FLOW_LOOK[kind]}.items():
            line.set(key, value)
        for x, y in waypoints:
            self.extend(x, y, x, y)
        label_box, text = di.find("bpmndi:BPMNLabel/dc:Bounds", NS), [truncate(name, 160, 11)]
        if not name:
            return
        if label_box is not None:
            lx, ly, lw, _ = _box(label_box)
            self.label(text, lx + lw / 2, ly + 11)
            return
        # Beside the longest segment: the one with the most room for the words.
        (x0, y0), (x1, y1) = max(itertools.pairwise(waypoints), key=lambda seg: math.dist(*seg))
        if abs(y1 - y0) < abs(x1 - x0):
            self.label(text, (x0 + x1) / 2, y0 - 5)
        else:
            self.label(text, x0 + 6, (y0 + y1) / 2 + 4, anchor="start")


def _event_glyph(g, el, tag, cx, cy, r) -> None:
    definitions = {_local(d) for d in el if _local(d).endswith("EventDefinition")}
    throwing = tag in ("endEvent", "intermediateThrowEvent")  # throwing glyphs are filled
    if "messageEventDefinition" in definitions:
        w, h = r * 1.1, r * 0.75
        left, top = cx - w / 2, cy - h / 2
        add(g, "rect", x=left, y=top, width=w, height=h, **LOOK["solid" if throwing else "glyph"])
        add(g, "polyline", points=points((left, top), (cx, cy + h * 0.1), (left + w, top)),
            **{**LOOK["glyph"], "stroke": "#fff" if throwing else INK})
    if "timerEventDefinition" in definitions:
        add(g, "circle", cx=cx, cy=cy, r=r * 0.62, **LOOK["glyph"])
        add(g, "polyline", points=points((cx, cy - r * 0.45), (cx, cy), (cx + r * 0.3, cy)), **LOOK["glyph"])
    if "terminateEventDefinition" in definitions:
        add(g, "circle", cx=cx, cy=cy, r=r * 0.55, **LOOK["solid"])


def _gateway_glyph(g, tag, cx, cy, s) -> None:
    d = s * 0.7
    if tag == "exclusiveGateway":
        path = f"M{cx - d:g},{cy - d:g}L{cx + d:g},{cy + d:g}M{cx + d:g},{cy - d:g}L{cx - d:g},{cy + d:g}"
    elif tag == "parallelGateway":
        path = f"M{cx:g},{cy - s:g}V{cy + s:g}M{cx - s:g},{cy:g}H{cx + s:g}"
    else:
        if tag in ("inclusiveGateway", "eventBasedGateway"):
            add(g, "circle", cx=cx, cy=cy, r=s * 0.8, **{**LOOK["glyph"], "stroke-width": "2.5"})
        return
    add(g, "path", d=path, **{**LOOK["glyph"], "stroke-width": "3"})
