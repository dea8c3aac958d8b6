"""The SVG renderers (web/svg): pure functions, so no app and no database here.

Every output is parsed back with lxml: a renderer that emits broken XML, raw markup from a name, or
a reference to anything outside the SVG fails here rather than in a browser.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from web.svg import wrap
from web.svg.charts import format_value, median, percentile, render_bar_chart
from web.svg.diagram import render_bpmn
from web.svg.gantt import TimelineRow, render_timeline

TRANSFER = Path(__file__).resolve().parents[2] / "workflows" / "case_transfer.bpmn"
S = {"s": "http://www.w3.org/2000/svg"}
BPMN_NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
           "dc": "http://www.omg.org/spec/DD/20100524/DC", "di": "http://www.omg.org/spec/DD/20100524/DI"}
SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)  # a Monday, 09:00 in Shanghai
LANE_LABELS = {"samr.handler": "承办人", "samr.head": "负责人", "samr.liaison": "联络员",
               "police.liaison": "公安联络员", "police.handler": "承办民警", "police.head": "公安负责人"}


def parse(svg: str) -> etree._Element:
    """The SVG as a tree, after checking it is self-contained and carries no raw markup."""
    root = etree.fromstring(svg.encode("utf-8"))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "<script" not in svg.lower() and "<!doctype" not in svg.lower()
    # Names may mention a URL as text; what must not exist is an attribute or a rule that loads one.
    assert not [v for v in root.xpath("//@*") if "http" in v or "//" in v]
    assert not root.xpath("//@href | //@*[local-name()='href'] | //s:image | //s:foreignObject", namespaces=S)
    assert all("@import" not in s.text and "@font-face" not in s.text for s in root.iterfind(".//s:style", S))
    assert all(ref.startswith("#ld-bpmn-") for ref in re.findall(r"url\(([^)]*)\)", svg))
    return root


def texts(root: etree._Element) -> str:
    return " ".join("".join(t.itertext()) for t in root.iterfind(".//s:text", S))


# ---------------------------------------------------------------- BPMN diagram

@pytest.fixture(scope="module")
def transfer_xml() -> str:
    return TRANSFER.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def model(transfer_xml):
    return etree.fromstring(transfer_xml.encode("utf-8"))


def flow_node_ids(model) -> set[str]:
    return {el.get("id") for process in model.iterfind("bpmn:process", BPMN_NS) for el in process
            if re.search(r"(Task|Event|Gateway)$", etree.QName(el).localname)}


def test_transfer_diagram_has_one_shape_per_flow_node(transfer_xml, model):
    root = parse(render_bpmn(transfer_xml, {}))
    shapes = [g for g in root.iterfind(".//s:g[@data-kind]", S)
              if g.get("data-kind") in ("task", "event", "gateway")]
    ids = [g.get("data-element") for g in shapes]
    assert len(ids) == len(set(ids))
    assert set(ids) == flow_node_ids(model)
    assert len(ids) == 104
    kinds = {g.get("data-element"): g.get("data-kind") for g in shapes}
    assert kinds["register_facts"] == "task"
    assert kinds["transfer_decision_gateway"] == "gateway"
    assert kinds["receive_transfer"] == "event"


def test_transfer_diagram_has_an_edge_per_flow(transfer_xml, model):
    root = parse(render_bpmn(transfer_xml, {}))
    edges = {line.get("data-element"): line for line in root.iterfind(".//s:polyline[@data-kind='flow']", S)}
    sequence = {el.get("id") for el in model.iterfind(".//bpmn:sequenceFlow", BPMN_NS)}
    message = {el.get("id") for el in model.iterfind(".//bpmn:messageFlow", BPMN_NS)}
    assert set(edges) == sequence | message
    assert len(sequence) == 105 and {"mf_transfer_sent", "mf_filing_decided", "mf_decision_deadline_missed",
                                    "mf_handover_sent"} <= message
    for ident in sequence:
        assert edges[ident].get("marker-end") == "url(#ld-bpmn-arrow)"
        assert edges[ident].get("stroke-dasharray") is None
    for ident in message:
        assert edges[ident].get("stroke-dasharray")  # dashed
        assert "message" in edges[ident].get("class").split()
    # The waypoints are the file's own: f_return_to_head loops back along the head's lane.
    [edge] = model.iterfind(".//{http://www.omg.org/spec/BPMN/20100524/DI}BPMNEdge[@bpmnElement='f_return_to_head']")
    points = " ".join(f"{float(p.get('x')):g},{float(p.get('y')):g}" for p in edge.iterfind("di:waypoint", BPMN_NS))
    assert edges["f_return_to_head"].get("points") == points
    assert root.find(".//s:marker[@id='ld-bpmn-arrow']", S) is not None


def test_transfer_diagram_pools_lanes_and_labels(transfer_xml):
    root = parse(render_bpmn(transfer_xml, {}, LANE_LABELS))
    pools = root.xpath("//s:g[@data-kind='pool']", namespaces=S)
    lanes = root.xpath("//s:g[@data-kind='lane']", namespaces=S)
    assert [p.get("data-element") for p in pools] == ["office_pool", "samr_pool", "police_pool",
                                                      "police_reconsideration_pool", "police_handover_pool",
                                                      "samr_return_pool"]
    assert len(lanes) == 13
    assert "".join(pools[1].find("s:text", S).itertext()) == "区市场监督管理局"
    lane = root.find(".//s:g[@data-element='lane_police_handler']", S)
    assert "".join(lane.find("s:text", S).itertext()) == "承办民警"
    assert lane.find("s:text", S).get("writing-mode") == "vertical-rl"
    assert "samr.handler" not in texts(root)
    # Without labels the lane's own name is shown.
    assert "samr.handler" in texts(parse(render_bpmn(transfer_xml, {})))


def test_viewbox_fits_every_bound_and_waypoint(transfer_xml, model):
    root = parse(render_bpmn(transfer_xml, {}))
    x, y, w, h = map(float, root.get("viewBox").split())
    for b in model.iterfind(".//dc:Bounds", BPMN_NS):
        bx, by, bw, bh = (float(b.get(k)) for k in ("x", "y", "width", "height"))
        assert x + 10 <= bx and bx + bw <= x + w - 10 and y + 10 <= by and by + bh <= y + h - 10
    for p in model.iterfind(".//di:waypoint", BPMN_NS):
        assert x < float(p.get("x")) < x + w and y < float(p.get("y")) < y + h
    assert (x, y, w, h) == (140.0, 60.0, 4090.0, 3470.0)


def test_marks_become_classes_styles_and_tooltips(transfer_xml):
    marks = {"register_facts": "completed", "decide_transfer": "active",
             "approve_outgoing_handoff": "overdue", "review_case": "error", "f_register_assess": "completed"}
    svg = render_bpmn(transfer_xml, marks)
    root = parse(svg)
    looks = {}
    for ident, mark in marks.items():
        el = root.find(f".//*[@data-element='{ident}']", S)
        assert mark in el.get("class").split()
        if ident.startswith("f_"):
            continue
        assert el.get("class").startswith("el ")
        assert el.find("s:title", S).text.endswith({"completed": "已完成", "active": "进行中",
                                                    "overdue": "已超期", "error": "出错"}[mark])
        shape = el.find("s:rect[@class='shape']", S)
        looks[mark] = (shape.get("fill"), shape.get("stroke"), shape.get("stroke-width"))
    assert root.find(".//s:g[@data-element='register_facts']/s:title", S).text == "登记案件事实：已完成"
    assert len(set(looks.values())) == 4  # each mark looks different
    assert float(looks["active"][2]) >= 3 and float(looks["overdue"][2]) >= 3
    unmarked = root.find(".//s:g[@data-element='accept_receipt']", S)
    assert unmarked.get("class") == "el task"
    style = root.find("s:style", S).text
    for mark in ("completed", "active", "overdue", "error"):
        assert f".ld-bpmn .el.{mark} .shape{{" in style


def test_marks_can_be_renamed_and_unknown_marks_are_refused(transfer_xml):
    root = parse(render_bpmn(transfer_xml, {"review_case": "overdue"}, {"overdue": "Overdue"}))
    assert root.find(".//s:g[@data-element='review_case']/s:title", S).text == "审查移送案件：Overdue"
    with pytest.raises(ValueError, match="unknown marks"):
        render_bpmn(transfer_xml, {"review_case": "late"})


def test_event_and_gateway_drawing(transfer_xml):
    root = parse(render_bpmn(transfer_xml, {"transfer_closed": "active"}))

    def group(ident):
        return root.find(f".//s:g[@data-element='{ident}']", S)

    end = group("transfer_closed")
    assert "end" in end.get("class").split()
    assert end.find("s:circle", S).get("stroke-width") == "4"  # thick even when marked
    assert group("samr_start").find("s:circle", S).get("stroke-width") == "1.5"
    # Message events carry an envelope: filled when throwing, hollow when catching.
    assert group("send_transfer").find("s:rect", S).get("fill") == "#333"
    assert group("receive_transfer").find("s:rect", S).get("fill") == "none"
    assert len(group("receive_filing_decision").findall("s:circle", S)) == 2  # intermediate: double ring
    assert group("transfer_decision_gateway").find("s:polygon", S) is not None
    assert group("transfer_decision_gateway").find("s:path", S) is not None  # the X


def test_long_task_names_are_wrapped(transfer_xml):
    root = parse(render_bpmn(transfer_xml, {}))
    spans = root.findall(".//s:g[@data-element='assess_threshold']/s:text/s:tspan", S)
    assert [s.text for s in spans] == ["判断刑事立", "案追诉标准"]


SMALL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
    xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="d">
  <bpmn:process id="p">
    <bpmn:startEvent id="s" name="&lt;script&gt;alert(1)&lt;/script&gt;">
      <bpmn:timerEventDefinition id="td" />
    </bpmn:startEvent>
    <bpmn:parallelGateway id="g" name="a &amp; b &quot;c&quot;" />
    <bpmn:task id="t" name="&lt;script src=&quot;http://evil.example/x.js&quot;&gt;&lt;/script&gt;" />
    <bpmn:sequenceFlow id="f1" name="&lt;b&gt;yes&lt;/b&gt;" sourceRef="s" targetRef="g" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="dia"><bpmndi:BPMNPlane id="pl" bpmnElement="p">
    <bpmndi:BPMNShape bpmnElement="s"><dc:Bounds x="-50" y="10" width="36" height="36" /></bpmndi:BPMNShape>
    <bpmndi:BPMNShape bpmnElement="g"><dc:Bounds x="60" y="3" width="50" height="50" /></bpmndi:BPMNShape>
    <bpmndi:BPMNShape bpmnElement="t"><dc:Bounds x="200" y="-12" width="100" height="80" /></bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1"><di:waypoint x="-14" y="28" /><di:waypoint x="60" y="28" />
    </bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>"""


def test_names_from_uploaded_files_are_escaped():
    svg = render_bpmn(SMALL, {"s": "completed"})
    root = parse(svg)  # no raw <script, no http reference
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert root.find(".//s:g[@data-element='s']/s:title", S).text == "<script>alert(1)</script>：已完成"
    assert "a & b \"c\"" in texts(root)
    assert "<b>yes</b>" in texts(root)


def test_timer_parallel_gateway_and_negative_coordinates():
    root = parse(render_bpmn(SMALL.encode("utf-8"), {}))  # bytes are accepted too
    x, y, w, _h = map(float, root.get("viewBox").split())
    assert x <= -50 - 10 and y <= -12 - 10 and x + w >= 300 + 10
    start = root.find(".//s:g[@data-element='s']", S)
    assert len(start.findall("s:circle", S)) == 2 and start.find("s:polyline", S) is not None  # a clock
    assert root.find(".//s:g[@data-element='g']/s:path", S).get("d").count("M") == 2  # the +


def test_external_entities_are_not_loaded():
    evil = SMALL.replace('<?xml version="1.0" encoding="UTF-8"?>',
                         '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>')
    evil = evil.replace('<bpmn:task id="t" name=', '<bpmn:task id="t" name="&x;" title=')
    with pytest.raises(ValueError):
        render_bpmn(evil, {})


def test_unparseable_and_diagramless_files():
    with pytest.raises(ValueError, match="does not parse"):
        render_bpmn("<bpmn:definitions", {})
    no_di = SMALL[:SMALL.index("<bpmndi:BPMNDiagram")] + "</bpmn:definitions>"
    assert "此流程文件没有图形信息" in texts(parse(render_bpmn(no_di, {})))


# ---------------------------------------------------------------- timeline

def rows_sample() -> list[TimelineRow]:
    return [
        TimelineRow("登记案件事实", "samr", T0, T0 + timedelta(hours=3)),  # no deadline
        TimelineRow("负责人审批移送", "samr", T0 + timedelta(hours=3), T0 + timedelta(days=4),
                    T0 + timedelta(days=3)),  # one day late
        TimelineRow("联络员审核移交", "samr", T0 + timedelta(days=4), T0 + timedelta(days=4, hours=5),
                    T0 + timedelta(days=5)),  # on time
        TimelineRow("联络员签收移送案件", "police", T0 + timedelta(days=4, hours=5), None,
                    T0 + timedelta(days=5, hours=5)),  # still open and past due at `now`
        TimelineRow("审查移送案件", "police", T0 + timedelta(days=6), None,
                    T0 + timedelta(days=9)),  # still open, in time
    ]


def bars(root):
    return root.xpath("//s:rect[contains(concat(' ', @class, ' '), ' bar ')]", namespaces=S)


def test_timeline_bars_overdue_parts_and_due_ticks():
    now = T0 + timedelta(days=7)
    root = parse(render_timeline(rows_sample(), now))
    assert len(bars(root)) == 5
    rows = root.findall(".//s:g[@class='row']", S)
    late = ["overdue" in [r.get("class") for r in row.findall("s:rect", S)] for row in rows]
    assert late == [False, True, False, True, False]
    assert len(root.findall(".//s:line[@class='due']", S)) == 4 + 1  # one per deadline, one in the legend
    # The red part starts at the deadline and ends with the bar.
    row = rows[1]
    bar, red = row.find("s:rect[@class='bar']", S), row.find("s:rect[@class='overdue']", S)
    assert red.get("x") == row.find("s:line[@class='due']", S).get("x1")
    red_end, bar_end = (float(r.get("x")) + float(r.get("width")) for r in (red, bar))
    assert red_end == pytest.approx(bar_end, abs=0.02)
    # Open rows run to now and are drawn lighter.
    assert [b.get("class") for b in bars(root)][3:] == ["bar open", "bar open"]
    assert rows[3].find("s:title", S).text.splitlines() == [
        "联络员签收移送案件（公安）", "2026-03-06 14:00 — 进行中", "期限 2026-03-07 14:00，超期 43.0 小时"]
    assert rows[1].find("s:title", S).text.endswith("超期 24.0 小时")
    assert "超期" not in rows[2].find("s:title", S).text
    assert {"市场监管", "公安", "超期部分", "期限"} <= set(texts(root).split())


def test_timeline_groups_by_agency_in_order_of_appearance():
    rows = [TimelineRow("a", "police", T0, T0 + timedelta(hours=1)),
            TimelineRow("b", "samr", T0, T0 + timedelta(hours=2)),
            TimelineRow("c", "police", T0, T0 + timedelta(hours=3)),
            TimelineRow("d", "unknown-agency", T0, T0 + timedelta(hours=3))]
    root = parse(render_timeline(rows, T0))
    groups = [t.text for t in root.findall("s:text[@class='group']", S)]
    assert groups == ["公安", "市场监管", "unknown-agency"]
    order = [r.get("data-agency") for r in root.findall(".//s:g[@class='row']", S)]
    assert order == ["police", "police", "samr", "unknown-agency"]
    colors = [b.get("fill") for b in bars(root)]
    assert colors[0] == colors[1] != colors[2] != colors[3]


def test_timeline_empty_single_and_zero_length():
    empty = parse(render_timeline([], T0))
    assert texts(empty) == "无数据" and not bars(empty)
    single = parse(render_timeline([TimelineRow("立案", "court", T0, T0)], T0))
    (bar,) = bars(single)
    assert float(bar.get("width")) >= 2  # a zero-length step still shows
    assert not single.findall(".//s:rect[@class='overdue']", S)


def test_every_word_of_a_drawing_can_be_given_in_another_language():
    english = {"no_data": "No data", "month": "{year}-{month:02d}", "day": "{month}/{day}",
               "overdue_part": "Overdue part", "due": "Due", "open_until_now": "Open", "now": "Now",
               "in_progress": "open", "due_at": "Due {due}", "late_by": ", {late} late",
               "hours": "{hours:.1f} h", "days_hours": "{days} d {hours} h"}
    assert texts(parse(render_timeline([], T0, texts=english))) == "No data"
    drawn = render_timeline(rows_sample(), T0 + timedelta(days=7), texts=english)
    # One day late (the tooltip), the legend and the "now" line in the given words only.
    assert re.search(r"Due 2026-03-\d\d \d\d:\d\d, 24\.0 h late", drawn)
    assert all(word in drawn for word in ("Overdue part", ">Due<", ">Open<", ">Now<"))
    assert not any(word in drawn for word in ("超期部分", "进行中", "现在", "小时", "期限"))
    assert texts(parse(render_bar_chart("On time", [], no_data="No data"))) == "On time No data"
    no_di = SMALL[:SMALL.index("<bpmndi:BPMNDiagram")] + "</bpmn:definitions>"
    assert texts(parse(render_bpmn(no_di, {}, no_diagram="No diagram"))) == "No diagram"


def axis_ticks(svg: str) -> list[str]:
    return [t.text for t in parse(svg).findall(".//s:g[@class='axis-ticks']/s:text", S)]


def test_timeline_axis_is_in_the_given_zone():
    rows = [TimelineRow("登记", "samr", T0, T0 + timedelta(hours=3))]
    assert axis_ticks(render_timeline(rows, T0)) == ["3月2日 09:00", "10:00", "11:00", "12:00"]
    assert axis_ticks(render_timeline(rows, T0, tz="UTC")) == ["3月2日 01:00", "02:00", "03:00", "04:00"]
    # Naive datetimes are taken as UTC, as the database stores them.
    naive = [TimelineRow("登记", "samr", datetime(2026, 3, 2, 1), datetime(2026, 3, 2, 4))]
    assert render_timeline(naive, T0) == render_timeline(rows, T0)


@pytest.mark.parametrize("span, expected", [
    (timedelta(days=10), ["3月3日", "3月5日", "3月7日", "3月9日", "3月11日"]),
    (timedelta(days=200), ["2026年3月", "2026年4月", "2026年5月", "2026年6月", "2026年7月", "2026年8月",
                           "2026年9月"]),
])
def test_timeline_tick_spacing_follows_the_span(span, expected):
    rows = [TimelineRow("案件", "samr", T0, T0 + span)]
    assert axis_ticks(render_timeline(rows, T0)) == expected


def test_timeline_escapes_labels_and_drops_control_characters():
    rows = [TimelineRow("<script>alert('x')</script>", "<b>samr</b>", T0, T0 + timedelta(hours=1)),
            TimelineRow("bell\x07\x00 ring", "samr", T0, T0 + timedelta(hours=1))]
    svg = render_timeline(rows, T0)
    root = parse(svg)
    assert "&lt;script&gt;" in svg
    assert "<script>alert('x')</script>" in texts(root)
    assert "bell ring" in texts(root)


# ---------------------------------------------------------------- charts and percentiles

@pytest.mark.parametrize("values, p, expected", [
    ([1, 2, 3, 4], 50, 2.5),
    ([1, 2, 3, 4], 25, 1.75),
    ([10, 20, 30, 40, 50], 90, 46.0),
    ([10, 20, 30, 40, 50], 0, 10.0),
    ([10, 20, 30, 40, 50], 100, 50.0),
    ([50, 10, 40, 20, 30], 75, 40.0),  # order does not matter
    ([7], 90, 7.0),
    ([2.5, 3.5], 50, 3.0),
])
def test_percentile_by_linear_interpolation(values, p, expected):
    assert percentile(values, p) == pytest.approx(expected)


def test_percentile_and_median_edges():
    assert percentile([], 50) is None
    assert median([]) is None
    assert median([3, 1, 2]) == 2.0
    assert median([1, 2, 3, 4]) == 2.5
    with pytest.raises(ValueError):
        percentile([1, 2], 101)
    with pytest.raises(ValueError):
        percentile([1, 2], -1)


def test_format_value():
    assert [format_value(v) for v in (2.5, 50.0, 0.0, 1234.56, 92.34, float("nan"))] == \
        ["2.5", "50", "0", "1234.6", "92.3", "—"]


def test_bar_chart_bars_values_and_threshold():
    series = [("登记案件事实", 12.5), ("负责人审批移送", 50.0), ("联络员审核移交", 25.0), ("审查", float("nan"))]
    root = parse(render_bar_chart("各环节办理时长中位数", series, unit="小时", highlight_over=24))
    rects = root.findall(".//s:rect", S)
    assert [r.get("class") for r in rects] == ["bar", "bar over", "bar over"]  # NaN gets no bar
    widths = [float(r.get("width")) for r in rects]
    assert widths[1] == pytest.approx(2 * widths[2]) and widths[2] == pytest.approx(2 * widths[0])
    values = [t.text for t in root.findall(".//s:text[@class='value']", S)]
    assert values == ["12.5小时", "50小时", "25小时", "—", "24小时"]
    assert root.find(".//s:line[@class='threshold']", S) is not None
    assert root.find(".//s:text[@class='chart-title']", S).text == "各环节办理时长中位数"
    assert rects[1].get("fill") != rects[0].get("fill")


def test_bar_chart_percentages_without_threshold():
    root = parse(render_bar_chart("按期办结率", [("市场监管", 92.34), ("公安", 100)], unit="%"))
    assert [t.text for t in root.findall(".//s:text[@class='value']", S)] == ["92.3%", "100%"]
    assert root.find(".//s:line[@class='threshold']", S) is None
    assert [r.get("class") for r in root.findall(".//s:rect", S)] == ["bar", "bar"]


def test_bar_chart_empty_and_escaped():
    empty = parse(render_bar_chart("按期办结率", []))
    assert texts(empty) == "按期办结率 无数据"
    svg = render_bar_chart("<script>t</script>", [("<img src=x onerror=alert(1)>", 1.0)])
    root = parse(svg)
    assert "<img" not in svg and "<script>t</script>" in texts(root)


# ---------------------------------------------------------------- shared text layout

def test_wrap_balances_lines_and_cuts_with_an_ellipsis():
    assert wrap("判断刑事立案追诉标准", 90, 12, 3) == ["判断刑事立", "案追诉标准"]
    assert wrap("是否批准移送？", 84, 11, 3) == ["是否批准移送？"]
    assert wrap("Register the facts of the case", 100, 12, 5) == ["Register", "the facts", "of the case"]
    assert wrap("一二三四五六七八九十" * 3, 60, 12, 2) == ["一二三四五", "六七八九…"]
