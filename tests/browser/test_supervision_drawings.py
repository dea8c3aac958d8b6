"""The supervisor's Gantt chart in a real browser: drawn to the width of its box, which scrolls
instead of the page, opening on the step in progress, with zoom buttons that enlarge it inside the
box. The case went through a transfer, a filing and most of the hand-over of
the seized items, so the chart has more rows than its box shows and the open step is the last one."""
from __future__ import annotations

from sqlalchemy import select

from engine import create_case
from models import User
from tests.helpers import (
    APPROVE_HANDOFF,
    APPROVE_TRANSFER,
    FACTS_500K,
    FILE,
    HANDOVER,
    RECEIPT,
    RECEIVED,
    RELEASE,
    act,
    open_tasks,
)
from web.db import db

# The transfer to the police, their filing and the hand-over of the seized items up to the police
# handler's count: (who, task, answer), one working step every few hours.
STEPS = [
    ("samr_handler", "register_facts", FACTS_500K), ("samr_head", "decide_transfer", APPROVE_TRANSFER),
    ("samr_liaison", "approve_outgoing_handoff", APPROVE_HANDOFF), ("police_liaison", "accept_receipt", RECEIPT),
    ("police_handler", "review_case", {"recommendation": "file", "opinion": "经审查，建议立案"}),
    ("police_head", "decide_filing", FILE), ("police_liaison", "approve_filing_notice_handoff", RELEASE),
    ("samr_liaison", "accept_filing_notice", RECEIVED), ("samr_handler", "prepare_handover", HANDOVER),
    ("samr_liaison", "approve_handover_handoff", RELEASE),
    ("police_liaison", "accept_handover", RECEIVED),
]


def walk(session, users, case_id: int, steps, clock, hours: float = 3) -> None:
    """Complete `steps` [(username, bpmn_id, data)] in the order their tasks open (the order of
    the list where several are open), a few hours apart; a step whose task never opens is left."""
    pending = list(steps)
    while pending:
        open_now = {t.bpmn_id for t in open_tasks(session, case_id)}
        step = next((s for s in pending if s[1] in open_now), None)
        if step is None:
            return
        pending.remove(step)
        clock.advance(hours=hours)
        act(session, users[step[0]], case_id, step[1], step[2])


def _handed_over(app, clock) -> int:
    with db.new_session(app) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        case = create_case(session, users["samr_handler"], "浏览器甘特图案")
        walk(session, users, case.id, STEPS, clock, hours=5)
        clock.advance(hours=30)
        return case.id


def _inside(inner: dict, outer: dict) -> bool:
    return (outer["x"] - 1 <= inner["x"] and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 1
            and outer["y"] - 1 <= inner["y"] and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 1)


def test_the_gantt_chart_fits_its_box_opens_on_the_open_step_and_zooms_inside_the_box(app, clock, person):
    case_id = _handed_over(app, clock)
    supervisor = person("office_supervisor", viewport={"width": 1280, "height": 720})
    supervisor.goto(f"/supervision/cases/{case_id}")
    box = supervisor.locator("div.drawing.gantt").first
    svg = box.locator("svg.ld-gantt")
    bars = svg.locator("g.row")
    assert bars.count() >= 12  # every step of the case has its bar
    frame = box.bounding_box()
    chart = svg.bounding_box()
    # As wide as its box, taller than it: the box scrolls, the page does not carry the whole chart.
    assert abs(chart["width"] - frame["width"]) <= 2 and chart["height"] > frame["height"]
    assert frame["height"] <= 0.6 * 720 + 2
    # The open step (the police count of the items, drawn last) is in the box as the page opens.
    box.scroll_into_view_if_needed()
    active = svg.locator("rect.bar.open")
    assert active.count() == 1
    assert box.evaluate("b => b.scrollTop") > 0  # scrolled to it, not merely at the top already
    assert _inside(active.bounding_box(), box.bounding_box())
    viewport = {"x": 0, "y": 0, "width": 1280, "height": 720}
    assert _inside(active.bounding_box(), viewport)
    # The time axis stays at the top of the box, over the rows scrolled under it.
    axis = svg.locator("g.axis-ticks")
    header, top = axis.bounding_box(), box.bounding_box()["y"]
    assert top - 1 <= header["y"] <= top + 8 and _inside(header, box.bounding_box())
    assert axis.locator("text.tick").first.is_visible()
    # Zoom in: the chart grows inside the box, the page keeps its height; zoom out returns.
    tools = supervisor.locator('.diagram-tools[data-for^="gantt-"]').first
    height = supervisor.evaluate("document.body.scrollHeight")
    tools.locator('button[data-zoom="1.5"]').click()
    tools.locator('button[data-zoom="1.5"]').click()
    assert svg.bounding_box()["width"] > 2 * frame["width"]
    assert supervisor.evaluate("document.body.scrollHeight") <= height + 2
    assert box.evaluate("b => b.scrollWidth > b.clientWidth")
    tools.locator('button[data-zoom="0.6667"]').click()
    assert frame["width"] < svg.bounding_box()["width"] < 2 * frame["width"]
    # The whole chart from its start, then the step in progress again.
    tools.locator('button[data-view="whole"]').click()
    assert abs(svg.bounding_box()["width"] - frame["width"]) <= 2 and box.evaluate("b => b.scrollTop") == 0
    tools.locator('button[data-view="focus"]').click()
    assert _inside(active.bounding_box(), box.bounding_box())
