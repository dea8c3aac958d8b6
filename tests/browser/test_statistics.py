"""The statistics page in a real browser: the office's supervisor reaches it from the header,
moves between the presets and picks a period with the date fields; the figures follow."""
from __future__ import annotations

from sqlalchemy import select

from models import User
from tests.statistics_world import seed
from web.db import db


def test_period_picker(app, person, clock):
    with db.new_session(app) as session:
        seed(session, {u.username: u for u in session.scalars(select(User))}, clock)
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
