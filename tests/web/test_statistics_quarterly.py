"""The printable quarterly summary and the API's time-per-stage and periods-met tables, on the
seeded district of tests/statistics_world.py: the figures the page and the API show equal those
counted by hand (the first quarter of 2026 holds March's, the second April's), in Chinese and in
English, for the office and for an agency head; bad years and quarters are answered 422 naming
the field.
"""
from __future__ import annotations

import lxml.html
import schemathesis
from schemathesis.specs.openapi.checks import response_schema_conformance

from engine.bootstrap import DEMO_USERS
from tests.statistics_world import (
    APRIL,
    APRIL_PERIODS_MET,
    APRIL_STAGES,
    MARCH,
    MARCH_PERIODS_MET,
    MARCH_STAGES,
)
from web.statistics_quarterly import HEADLINE

from .api_helpers import ApiClient, bearer, token_for
from .helpers import text
from .test_statistics import AGENCIES, MARCH_ARGS, seeded
from .test_workflow_text import CJK

Q1 = "/statistics/quarterly?year=2026&quarter=1"


def page_tables(html: str) -> tuple[dict, dict, dict]:
    """The summary's three tables as read off the page: figure -> [total, per agency...],
    (mechanism, step) -> (count, median, p90), rule -> (count, met)."""
    tree = lxml.html.fromstring(html)
    figures = {row.get("data-figure"): [cell.text_content() for cell in row.xpath("td[contains(@class, 'number')]")]
               for row in tree.xpath("//article[@class='quarterly-summary']//tr[@data-figure]")}

    def cell(row, css: str) -> str:
        return row.xpath(f"td[contains(@class, '{css}')]")[0].text_content()

    stages = {tuple(row.get("data-step").split(".")): (int(cell(row, "count")), float(cell(row, "median")),
                                                       float(cell(row, "p90")))
              for row in tree.xpath("//table[contains(@class, 'stage-times')]//tr[@data-step]")}
    periods = {row.get("data-rule"): (int(cell(row, "count")), int(cell(row, "met")))
               for row in tree.xpath("//table[contains(@class, 'periods-met')]//tr[@data-rule]")}
    return figures, stages, periods


def expected_figures(by_key: dict, codes: list[str]) -> dict:
    """The hand-counted figures as the page writes them: the total, then each agency's."""
    return {key: [f"{sum(by.values()):,}", *(f"{by.get(code, 0):,}" for code in codes)] for key, by in by_key.items()}


def test_quarter_summary_shows_the_hand_counted_figures(app, client_for, clock):
    seeded(app, clock)
    supervisor = client_for("office_supervisor")
    response = supervisor.get(Q1)
    assert response.status_code == 200
    html = text(response)
    assert "<h1>2026年第一季度 商业秘密保护联动工作统计</h1>" in html
    assert "统计期间：2026-01-01 至 2026-03-31" in html
    figures, stages, periods = page_tables(html)
    expected = expected_figures(MARCH, AGENCIES)
    # The headline figures: every one the page shows is the hand count (clues: none registered).
    assert set(figures) >= {"cases_opened", "transfers", "filings", "non_filings", "supervisions", "prosecutions",
                            "judgments", "suspects", "loss_amount", "illegal_gain"}
    for key, cells in figures.items():
        if key == "clues_registered":
            assert cells[0] == "0"
        else:
            assert cells[:1 + len(AGENCIES)] == expected[key], key
    assert stages == MARCH_STAGES and periods == MARCH_PERIODS_MET
    # Two charts drawn on the server, no script in them; the print button and the same period's files.
    charts = lxml.html.fromstring(html).xpath("//article//figure[contains(@class, 'chart')]")
    assert len(charts) == 2 and all(chart.xpath("*")[0].tag.endswith("svg") for chart in charts)
    assert "本季度案件数" in html and "法定期限遵守率（%）" in html
    assert "data-print" in html and "/static/print.js" in html and "/static/statistics-print.css" in html
    assert "/statistics/statistics.xlsx?from=2026-01-01&amp;to=2026-03-31" in html
    assert "生成时间：2026-04-02 10:00　生成人：蒋督办（专班）" in html
    # The second quarter holds April's.
    figures, stages, periods = page_tables(text(supervisor.get("/statistics/quarterly?year=2026&quarter=2")))
    april = expected_figures(APRIL, AGENCIES)
    assert {k: v[:5] for k, v in figures.items() if v[0] != "0"} == april
    assert stages == APRIL_STAGES and periods == APRIL_PERIODS_MET


def test_quarter_picker_default_language_and_link(app, client_for, clock):
    seeded(app, clock)
    supervisor = client_for("office_supervisor")
    # The clock stands on 2 April 2026: the current quarter by default.
    assert "<h1>2026年第二季度 商业秘密保护联动工作统计</h1>" in text(supervisor.get("/statistics/quarterly"))
    english = text(supervisor.get(Q1 + "&lang=en"))
    assert "<h1>Trade secret protection liaison statistics, 2026 Q1</h1>" in english
    assert "Time per stage" in english and "Main figures" in english
    # The report says everything in English but the reader's own name (data): agencies, figures, rules.
    reader = next(display for username, display, *_rest in DEMO_USERS if username == "office_supervisor")
    report = lxml.html.fromstring(english).xpath("//article[@class='quarterly-summary']")[0]
    assert not CJK.search(report.text_content().replace(reader, ""))
    assert "(Task Force Office)" in english and '<th data-agency="samr">Market Supervision</th>' in english
    # The statistics page links to the summary of the quarter its period starts in.
    page = text(supervisor.get(f"/statistics/?{MARCH_ARGS}"))
    assert 'href="/statistics/quarterly?year=2026&amp;quarter=1"' in page


def test_bad_year_or_quarter_names_the_field(app, client_for):
    supervisor = client_for("office_supervisor")
    for query, field in (("year=abc&quarter=1", "year"), ("year=2026&quarter=5", "quarter"),
                         ("year=1999&quarter=1", "year"), ("year=2026&quarter=-1", "quarter"),
                         ("year=２０２６&quarter=1", "year")):
        response = supervisor.get(f"/statistics/quarterly?{query}")
        assert response.status_code == 422, query
        html = text(response)
        assert f'data-field="{field}"' in html and "quarterly-summary" not in html, query


def test_who_may_read_the_quarter(app, client_for, clock):
    seeded(app, clock)
    police = text(client_for("police_head").get(Q1))
    figures, stages, _periods = page_tables(police)
    # An agency head's summary: their agency's figures only, no column per agency.
    assert 'data-agency="samr"' not in police
    assert {k: v for k, v in figures.items() if v[0] != "0"} == {
        k: [f"{sum(v.values()):,}"] for k, v in MARCH.items() if set(v) == {"police"} and k in HEADLINE}
    assert ("case_transfer", "register_facts") not in stages and stages[("case_transfer", "accept_receipt")] == (2, 24, 24)
    for username in ("samr_handler", "court_handler", "police_liaison"):
        assert client_for(username).get(Q1).status_code == 403, username


def test_api_time_per_stage_and_periods_met(app, clock):
    seeded(app, clock)
    body = ApiClient(app, "office_supervisor").get(f"/statistics?{MARCH_ARGS}").get_json()
    stages = {(s["mechanism"], s["bpmn_id"]): (s["count"], s["median_hours"], s["p90_hours"])
              for s in body["stage_times"]}
    assert stages == MARCH_STAGES
    assert {r["rule_id"]: (r["count"], r["met"]) for r in body["periods_met"]} == MARCH_PERIODS_MET
    assert all(r["share"] == 1 for r in body["periods_met"])
    receipt = next(s for s in body["stage_times"] if s["bpmn_id"] == "accept_receipt")
    assert receipt["title"] == "联络员签收移送案件"
    # An agency head: the steps of their agency's tasks only (the police signed and decided).
    police = ApiClient(app, "police_head").get(f"/statistics?{MARCH_ARGS}").get_json()
    assert {s["bpmn_id"] for s in police["stage_times"]} == {
        "accept_receipt", "review_case", "decide_filing", "approve_filing_notice_handoff", "return_materials",
        "approve_return_handoff"}
    assert {r["rule_id"] for r in police["periods_met"]} == {"liaison_handoff", "police_filing_decision",
                                                             "materials_return"}
    # Declared in the OpenAPI document, and the office's answer (the 200 that the schema test's
    # handler never gets) keeps to it.
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)["/api/v1/statistics"]["GET"]
    case = operation.Case(query={"from": "2026-03-01", "to": "2026-03-31"})
    response = case.call(headers=bearer(token_for(app, "office_supervisor", "schema")))
    assert response.status_code == 200
    case.validate_response(response, checks=[response_schema_conformance])
    document = ApiClient(app, "office_supervisor").get("/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    assert schemas["Statistics"]["properties"]["stage_times"]["items"] == {"$ref": "#/components/schemas/StageTime"}
    assert set(schemas["StageTime"]["required"]) == {"mechanism", "bpmn_id", "title", "count", "median_hours",
                                                     "p90_hours"}
    assert set(schemas["PeriodsMet"]["required"]) == {"rule_id", "count", "met", "share"}
