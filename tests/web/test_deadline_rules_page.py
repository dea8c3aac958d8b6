"""The 期限规则 page: the catalog with each statute, for supervisors and agency heads only."""
from __future__ import annotations

from .helpers import text


def test_the_office_supervisor_reads_every_rule_with_its_statute(client_for):
    page = client_for("office_supervisor").get("/supervision/deadline-rules/")
    assert page.status_code == 200
    html = text(page)
    assert 'id="rule-handover_items"' in html and "《行政执法机关移送涉嫌犯罪案件的规定》第十二条" in html
    assert "收到立案通知书" in html, "the legal event the period runs from"
    assert 'id="rule-police_filing_decision"' in html and "案情重大、疑难、复杂" in html, "its extensions"
    assert "权利人辨认或者鉴别商业秘密所需时间" in html, "the pauses of the complaint period"


def test_a_head_sees_it_and_a_handler_does_not(client_for):
    assert client_for("police_head").get("/supervision/deadline-rules/").status_code == 200
    assert client_for("samr_handler").get("/supervision/deadline-rules/").status_code == 403


def test_english_shows_the_english_text(client_for):
    html = text(client_for("office_supervisor").get("/supervision/deadline-rules/?lang=en"))
    assert "Decree 310 art. 12" in html and "the notice that the case is filed is received" in html
    assert "3 days" in html and "15 working days" in html and "48 hours" in html
