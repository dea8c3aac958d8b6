"""In chromium: a service station's staff land on their clues when they log in (they have no
inbox), register a clue with a file and see its status; SAMR's handler triages it into a case,
ticking the mechanism to start; the case page names the clue it came from and lists its file as
evidence, which the clue's page links to; the station then sees the clue as opened."""
from __future__ import annotations

import hashlib
import re

from playwright.sync_api import expect


def test_a_station_clue_is_triaged_into_a_case(person, tmp_path):
    drawing = tmp_path / "图纸.pdf"
    drawing.write_bytes(b"%PDF-1.4 drawing\n")

    station = person("station_intake")
    expect(station).to_have_url(re.compile(r".*/clues/$"))  # their work, not an empty inbox
    expect(station.get_by_role("link", name="待办", exact=True)).to_have_count(0)
    expect(station.get_by_role("link", name="案件", exact=True)).to_have_count(0)
    station.get_by_role("link", name="登记线索").click()
    station.select_option("#f-source", "complaint")
    station.fill("#f-rights_holder", "某精密机械有限公司")
    station.fill("#f-suspect", "前技术员甲")
    station.fill("#f-summary", "甲离职后在竞争对手处使用公司的图纸")
    station.fill("#f-illegal_gain", "350000")
    station.set_input_files("#f-files", str(drawing))
    station.get_by_role("button", name="登记").click()
    expect(station.locator(".flash").first).to_contain_text("已登记")
    expect(station.locator("h1 .clue-status")).to_have_text("待研判")
    expect(station.locator("body")).to_contain_text("不明确")  # the loss left empty is unknown, not 0
    number = re.search(r"XS\d{4}-\d+", station.locator("h1").inner_text()).group(0)
    clue_path = station.url.split("127.0.0.1", 1)[1].split("/", 1)[1]

    handler = person("samr_handler")
    handler.get_by_role("link", name="线索").click()
    handler.get_by_role("link", name=number).click()
    handler.check("input[name=decision][value=open]")
    handler.fill("#t-title", "某精密机械公司图纸案")
    handler.check("input[name=mechanisms][value=case_transfer]")
    handler.get_by_role("button", name="作出研判").click()
    handler.wait_for_url(re.compile(r".*/cases/\d+$"))
    expect(handler.locator("body")).to_contain_text(number)
    expect(handler.locator("table").first).to_contain_text("立案协助")
    # The clue's file is the case's evidence: same file, same SHA-256, owned by SAMR.
    evidence = handler.locator("table.evidence tbody tr")
    expect(evidence).to_have_count(1)
    expect(evidence).to_contain_text("图纸.pdf")
    expect(evidence).to_contain_text("东市监")
    item_link = evidence.locator("td").first.get_by_role("link")
    item_id = item_link.inner_text().strip()
    handler.goto("/" + clue_path)
    handler.locator("td.clue-evidence a").click()
    handler.wait_for_url(re.compile(rf".*/evidence/{item_id}$"))
    expect(handler.locator("body")).to_contain_text(hashlib.sha256(b"%PDF-1.4 drawing\n").hexdigest())
    expect(handler.locator("body")).to_contain_text(number)

    station.goto("/" + clue_path)
    expect(station.locator("h1 .clue-status")).to_have_text("已立案（转为案件）")
    station.goto("/clues/")
    expect(station.locator("tr.clue-opened")).to_contain_text(number)
