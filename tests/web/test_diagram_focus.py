"""A case's diagram opens on its steps in progress at the width of its box, and keeps the whole
drawing's view for the page's buttons."""
from __future__ import annotations

from lxml import etree

from tests.conftest import WORKFLOWS
from web.svg.diagram import FOCUS_H, FOCUS_W, render_bpmn


def _view(text: str) -> tuple[float, ...]:
    return tuple(float(v) for v in text.split())


def test_the_view_opens_on_the_active_step():
    xml = (WORKFLOWS / "case_transfer.bpmn").read_text(encoding="utf-8")
    root = etree.fromstring(render_bpmn(xml, {"review_case": "active"}))
    whole, view = _view(root.get("data-whole")), _view(root.get("viewBox"))
    assert root.get("width") == "100%" and root.get("height") is None
    assert view == _view(root.get("data-focus")) and whole[2] > 3000  # the whole is far wider than a page
    assert (view[2], view[3]) == (FOCUS_W, FOCUS_H)
    # The active step is inside the view, and the view inside the whole drawing.
    ns = {"s": "http://www.w3.org/2000/svg"}
    rect = root.find(".//s:g[@data-element='review_case']/s:rect", ns)
    x, y = float(rect.get("x")), float(rect.get("y"))
    assert view[0] <= x and x + float(rect.get("width")) <= view[0] + view[2]
    assert view[1] <= y and y + float(rect.get("height")) <= view[1] + view[3]
    assert whole[0] <= view[0] and view[0] + view[2] <= whole[0] + whole[2]
    assert whole[1] <= view[1] and view[1] + view[3] <= whole[1] + whole[3]


def test_nothing_in_progress_shows_the_whole_drawing_to_the_box_width():
    xml = (WORKFLOWS / "case_transfer.bpmn").read_text(encoding="utf-8")
    root = etree.fromstring(render_bpmn(xml, {"register_facts": "completed"}))
    assert root.get("viewBox") == root.get("data-whole") == root.get("data-focus")
    assert root.get("width") == "100%"
