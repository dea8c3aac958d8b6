"""The statistics page, its CSV and XLSX downloads and the API, on the seeded district of
tests/statistics_world.py: the figures of March 2026 as counted by hand, the presets, who may
read which agencies, bad periods answered 4xx naming the field, inert cells and audited
downloads.
"""
from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook
from sqlalchemy import select

from models import AuditEvent, User
from tests.statistics_world import MARCH, seed
from web.db import db

from .api_helpers import ApiClient
from .helpers import text

MARCH_ARGS = "from=2026-03-01&to=2026-03-31"
AGENCIES = ["samr", "police", "procuratorate", "court"]
# The catalog's words for the rule `transfer_decision` (workflows/deadlines.toml).
DECISION_RULE = "负责人作出批准移送或者不批准移送的决定"


def seeded(app, clock) -> None:
    with db.new_session(app) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        seed(session, users, clock)


def test_page_shows_the_figures_per_agency(app, client_for, clock):
    seeded(app, clock)
    page = client_for("office_supervisor").get(f"/statistics/?{MARCH_ARGS}")
    assert page.status_code == 200
    html = text(page)
    assert "统计" in html and "统计期间：2026-03-01 至 2026-03-31" in html
    assert 'data-figure="prosecutions"' in html and "起诉人数" in html and "权利人损失（元）" in html
    assert '<td class="number total">800,000</td>' in html  # losses 500,000 + 300,000
    # Presets: the clock stands on 2 April 2026.
    month = text(client_for("office_supervisor").get("/statistics/?preset=month"))
    assert "2026-04-01 至 2026-04-30" in month
    assert "2026-04-01 至 2026-06-30" in text(client_for("office_supervisor").get("/statistics/?preset=quarter"))
    assert "2026-01-01 至 2026-12-31" in text(client_for("office_supervisor").get("/statistics/?preset=year"))
    assert "2026-04-01 至 2026-04-30" in text(client_for("office_supervisor").get("/statistics/"))


def test_who_may_read_the_statistics(app, client_for, clock):
    seeded(app, clock)
    head = text(client_for("police_head").get(f"/statistics/?{MARCH_ARGS}"))
    assert 'data-agency="police"' in head and 'data-agency="samr"' not in head
    for username in ("samr_handler", "court_handler", "police_liaison"):
        client = client_for(username)
        assert client.get(f"/statistics/?{MARCH_ARGS}").status_code == 403, username
        assert client.get(f"/statistics/statistics.csv?{MARCH_ARGS}").status_code == 403, username
        assert 'href="/statistics/"' not in text(client.get("/"))
    assert 'href="/statistics/"' in text(client_for("office_supervisor").get("/"))
    assert ApiClient(app, "samr_handler").get(f"/statistics?{MARCH_ARGS}").status_code == 403


def test_bad_periods_name_the_field(app, client_for):
    supervisor = client_for("office_supervisor")
    backwards = supervisor.get("/statistics/?from=2026-03-31&to=2026-03-01")
    assert backwards.status_code == 422 and 'data-field="to"' in text(backwards)
    assert supervisor.get("/statistics/?from=yesterday&to=2026-03-01").status_code == 422
    api = ApiClient(app, "office_supervisor")
    problem = api.get("/statistics?from=2026-03-31&to=2026-03-01")
    assert problem.status_code == 422 and "to" in problem.get_json()["errors"]
    assert "from" in api.get("/statistics?to=2026-03-01").get_json()["errors"]


def expected_rows() -> dict[str, list[int]]:
    return {key: [sum(by.values()), *(by.get(code, 0) for code in AGENCIES)] for key, by in MARCH.items()}


def test_csv_and_xlsx_downloads(app, client_for, clock):
    seeded(app, clock)
    supervisor = client_for("office_supervisor")
    response = supervisor.get(f"/statistics/statistics.csv?{MARCH_ARGS}")
    assert response.status_code == 200 and response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["统计期间", "2026-03-01", "2026-03-31"]
    assert rows[1][:3] == ["类别", "指标", "合计"]
    by_label = {row[1]: row[2:] for row in rows[2:] if len(row) > 2}
    assert by_label["起诉人数"][:5] == ["2", "0", "0", "2", "0"]
    assert by_label["罚没款（元）"][:2] == ["500000", "500000"]

    book = supervisor.get(f"/statistics/statistics.xlsx?{MARCH_ARGS}")
    assert book.status_code == 200
    assert book.headers["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    sheet = load_workbook(io.BytesIO(book.data)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header = values[1]
    codes = {name: i for i, name in enumerate(header)}
    figures = {row[1]: row for row in values[2:] if row and row[1]}
    assert figures["判决案件"][codes["合计"]] == 1 and figures["判处民事赔偿（元）"][codes["合计"]] == 800000
    assert figures["移送案件"][3] == 2  # the first agency is the market supervision bureau
    expected = expected_rows()
    assert [figures["起诉案件"][i] for i in range(2, 7)] == expected["prosecutions"]
    with db.new_session(app) as session:
        formats = [e.detail["format"] for e in session.scalars(
            select(AuditEvent).where(AuditEvent.event_type == "statistics_exported").order_by(AuditEvent.id))]
    assert formats == ["csv", "xlsx"]


def test_api_figures(app, clock):
    seeded(app, clock)
    body = ApiClient(app, "office_supervisor").get(f"/statistics?{MARCH_ARGS}").get_json()
    assert body["period"] == {"from": "2026-03-01", "to": "2026-03-31"}
    got = {f["key"]: f["by_agency"] for f in body["figures"] if not f["key"].startswith("clues")}
    assert got == MARCH
    head = ApiClient(app, "procuratorate_head").get(f"/statistics?{MARCH_ARGS}").get_json()
    assert head["agencies"] == ["procuratorate"]
    assert {f["key"]: f["total"] for f in head["figures"] if f["total"]} == {"prosecutions": 1, "persons_prosecuted": 2}


def test_cells_are_inert(app, client_for):
    """An agency named like a formula (names are administrators' data) stays text in both files."""
    formula = '=HYPERLINK("http://e.x","x")'
    with db.new_session(app) as session:
        from models import Agency

        agency = session.scalar(select(Agency).where(Agency.code == "samr"))
        agency.short_name = formula
        session.commit()
    supervisor = client_for("office_supervisor")
    rows = list(csv.reader(io.StringIO(
        supervisor.get(f"/statistics/statistics.csv?{MARCH_ARGS}").data.decode("utf-8-sig"))))
    assert "'" + formula in rows[1]
    sheet = load_workbook(io.BytesIO(supervisor.get(f"/statistics/statistics.xlsx?{MARCH_ARGS}").data)).active
    cells = [cell for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str) and "HYPERLINK" in cell.value]
    assert cells and all(cell.data_type == "s" and cell.value.startswith("'") for cell in cells)


def test_time_per_stage_and_periods_met(app, client_for, clock):
    """The page shows both tables and the bar chart of the share met per rule (SVG in the page, no
    script); the XLSX gets a sheet for each table and the CSV a section for each."""
    seeded(app, clock)
    supervisor = client_for("office_supervisor")
    html = text(supervisor.get(f"/statistics/?{MARCH_ARGS}"))
    assert "各环节用时" in html and "法定期限遵守情况" in html
    # A and B signed for by the police a day after their handover.
    step = html.split('data-step="case_transfer.accept_receipt"')[1].split("</tr>")[0]
    assert "联络员签收移送案件" in step and '<td class="number median">24</td>' in step
    assert '<td class="number p90">24</td>' in step
    rule = html.split('data-rule="transfer_decision"')[1].split("</tr>")[0]
    assert "负责人作出批准移送或者不批准移送的决定" in rule and '<td class="number share">100%</td>' in rule
    chart = html.split('<figure class="chart periods-met">')[1].split("</figure>")[0]
    assert chart.lstrip().startswith("<svg") and "法定期限遵守率（%）" in chart and 'class="bar' in chart
    assert "<script" not in chart and "http" not in chart.replace("http://www.w3.org", "")

    sheets = load_workbook(io.BytesIO(supervisor.get(f"/statistics/statistics.xlsx?{MARCH_ARGS}").data))
    assert sheets.sheetnames == ["统计", "各环节用时", "法定期限遵守情况"]
    stages = [[cell.value for cell in row] for row in sheets["各环节用时"].iter_rows()]
    assert stages[0] == ["机制", "环节", "已完成任务数", "中位数（小时）", "第90百分位数（小时）"]
    assert next(r for r in stages if r[1] == "联络员签收移送案件")[2:] == [2, 24, 24]
    periods = [[cell.value for cell in row] for row in sheets["法定期限遵守情况"].iter_rows()]
    # A rule is named as the catalog words it, never by its id (the API keeps the ids).
    assert periods[0] == ["期限规则", "已完成任务数", "按期完成", "遵守率（%）"]
    assert next(r for r in periods if r[0] == DECISION_RULE)[1:] == [2, 2, 100]
    rows = list(csv.reader(io.StringIO(
        supervisor.get(f"/statistics/statistics.csv?{MARCH_ARGS}").data.decode("utf-8-sig"))))
    assert ["期限规则", "已完成任务数", "按期完成", "遵守率（%）"] in rows
    assert next(r for r in rows if r[:1] == [DECISION_RULE])[1:] == ["2", "2", "100.0"]
    assert not any("transfer_decision" in cell for row in rows for cell in row)
    english = text(supervisor.get(f"/statistics/?{MARCH_ARGS}&lang=en"))
    assert "Time per stage" in english and "Share of legal periods met (%)" in english
    assert "the head decides whether to approve the transfer" in english


def test_english_downloads_name_agencies_and_rules_in_english(app, client_for, clock):
    """An English reader's CSV and XLSX head the agency columns with the agencies' English names
    and word every figure and rule in English: no Chinese, no codes."""
    seeded(app, clock)
    supervisor = client_for("office_supervisor")
    supervisor.get("/?lang=en")
    rows = list(csv.reader(io.StringIO(
        supervisor.get(f"/statistics/statistics.csv?{MARCH_ARGS}").data.decode("utf-8-sig"))))
    assert rows[1][:7] == ["Group", "Figure", "Total", "Market Supervision", "Police", "Procuratorate", "Court"]
    by_label = {row[1]: row[2:7] for row in rows[2:] if len(row) > 2}
    assert by_label["Cases filed"] == [str(n) for n in expected_rows()["filings"]]
    assert ["Legal rule", "Tasks completed", "Met", "Share met (%)"] in rows
    assert next(r for r in rows if r[:1] == ["the head decides whether to approve the transfer"])[1:3] == ["2", "2"]
    assert not [cell for row in rows for cell in row if re.search(r"[\u4e00-\u9fff]|_", cell)]
    sheets = load_workbook(io.BytesIO(supervisor.get(f"/statistics/statistics.xlsx?{MARCH_ARGS}").data))
    assert sheets.sheetnames == ["Statistics", "Time per stage", "Legal periods met"]
    assert [c.value for c in sheets["Statistics"][2]][3:7] == ["Market Supervision", "Police", "Procuratorate", "Court"]
    html = text(supervisor.get(f"/statistics/?{MARCH_ARGS}"))
    assert '<th data-agency="samr">Market Supervision</th>' in html and "Cases not filed" in html
