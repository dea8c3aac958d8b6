"""The statistics page in a real browser: the office's supervisor reaches it from the header,
moves between the presets and picks a period with the date fields; the figures follow; the XLSX
downloaded opens with openpyxl and holds the figures counted by hand (tests/statistics_world.py).
The printable quarterly summary, reached from the page, prints without the site's navigation."""
from __future__ import annotations

from openpyxl import load_workbook
from sqlalchemy import select

from models import User
from tests.statistics_world import MARCH, MARCH_PERIODS_MET, seed
from web.db import db

AGENCIES = ["samr", "police", "procuratorate", "court"]
RULE_NAMES = {
    "liaison_handoff": "联络员审核、发送或者签收跨单位移交", "transfer_decision": "负责人作出批准移送或者不批准移送的决定",
    "transfer_send": "向公安机关移送案件（抄送检察院）", "police_filing_decision": "公安机关决定立案或者不予立案",
    "materials_return": "不予立案的，相应退回案卷材料和涉案物品", "returned_materials_check": "清点核对退回的案卷材料和涉案物品",
}


def seeded(app, clock) -> None:
    with db.new_session(app) as session:
        seed(session, {u.username: u for u in session.scalars(select(User))}, clock)


def test_period_picker(app, person, clock, tmp_path):
    seeded(app, clock)
    page = person("office_supervisor")
    page.goto("/")
    page.click("header nav a:text('统计')")
    assert page.locator("h1").inner_text() == "统计"
    # This month by default: April 2026, when one case was opened and transferred.
    assert "2026-04-01 至 2026-04-30" in page.locator(".period-shown").inner_text()
    assert page.locator("nav.presets a.current").inner_text() == "本月"
    opened = page.locator("tr[data-figure=cases_opened] td.total")
    assert opened.inner_text() == "1"
    page.click("nav.presets a:text('本年')")
    assert "2026-01-01 至 2026-12-31" in page.locator(".period-shown").inner_text()
    assert opened.inner_text() == "4"
    # March, picked by hand.
    page.fill("#s-from", "2026-03-01")
    page.fill("#s-to", "2026-03-31")
    page.click("form.period button")
    assert "2026-03-01 至 2026-03-31" in page.locator(".period-shown").inner_text()
    assert opened.inner_text() == "3"
    assert page.locator("tr[data-figure=judgments] td[data-agency=court]").inner_text() == "1"
    assert page.locator("tr[data-figure=loss_amount] td.total").inner_text() == "800,000"
    with page.expect_download() as download:
        page.click("a:text('下载 XLSX')")
    assert download.value.suggested_filename == "statistics-2026-03-01-2026-03-31.xlsx"
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    book = load_workbook(saved)
    assert book.sheetnames == ["统计", "各环节用时", "法定期限遵守情况"]
    rows = [[cell.value for cell in row] for row in book["统计"].iter_rows()]
    assert rows[0][:3] == ["统计期间", "2026-03-01", "2026-03-31"] and rows[1][:3] == ["类别", "指标", "合计"]
    by_label = {row[1]: row[2:7] for row in rows[2:] if row[1]}
    counted = {label: [sum(MARCH[key].values()), *(MARCH[key].get(code, 0) for code in AGENCIES)]
               for label, key in (("立案", "filings"), ("不予立案", "non_filings"), ("起诉案件", "prosecutions"),
                                  ("判决案件", "judgments"), ("犯罪嫌疑人人数", "suspects"),
                                  ("权利人损失（元）", "loss_amount"), ("罚没款（元）", "fines"))}
    assert {label: by_label[label] for label in counted} == counted
    # Rules are named as the catalog words them (workflows/deadlines.toml), never by their ids.
    periods = {row[0]: tuple(row[1:3]) for row in book["法定期限遵守情况"].iter_rows(min_row=2, values_only=True)}
    assert periods == {RULE_NAMES[rule]: counts for rule, counts in MARCH_PERIODS_MET.items()}


def test_quarterly_summary_prints_without_navigation(app, person, clock):
    seeded(app, clock)
    page = person("office_supervisor")
    page.goto("/statistics/?from=2026-03-01&to=2026-03-31")
    page.click("a.quarterly-link")
    assert page.locator("h1").inner_text() == "2026年第一季度 商业秘密保护联动工作统计"
    assert page.locator("tr[data-figure=cases_opened] td.total").inner_text() == "3"
    assert page.locator("tr[data-figure=loss_amount] td.total").inner_text() == "800,000"
    assert page.locator("article figure.chart svg").count() == 2
    assert page.locator("header.site nav").is_visible() and page.locator("button[data-print]").is_visible()
    page.emulate_media(media="print")
    assert not page.locator("header.site").is_visible() and not page.locator("header.site nav").is_visible()
    assert not page.locator("button[data-print]").is_visible() and not page.locator("form.quarter-picker").is_visible()
    assert page.locator("article.quarterly-summary h1").is_visible()
    assert page.locator("tr[data-figure=judgments] td.total").is_visible()
    page.emulate_media(media="screen")
    # Another quarter, picked on the page; English on request, the quarter kept.
    page.fill("#q-year", "2026")
    page.select_option("#q-quarter", "2")
    page.click("form.quarter-picker button")
    assert page.locator("h1").inner_text() == "2026年第二季度 商业秘密保护联动工作统计"
    assert page.locator("tr[data-figure=cases_opened] td.total").inner_text() == "1"
    page.click("a:text('English')")
    assert page.locator("h1").inner_text() == "Trade secret protection liaison statistics, 2026 Q2"
    assert page.locator("table.headline th[data-agency=samr]").inner_text() == "Market Supervision"
