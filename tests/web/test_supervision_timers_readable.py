"""The supervisor's case page names deadline timers by their diagram names and periods in words,
never the modeller's ids (decide_transfer_overdue) or rule codes (3d); in English too."""
from __future__ import annotations

import re

from .helpers import FACTS, claim_and_complete, create_case, open_task, text


def _timer_rows(html: str) -> list[str]:
    table = re.search(r'<table class="timers">.*?</table>', html, re.S)
    assert table, "the case has deadline timers"
    return [re.sub(r"<[^>]+>", "|", row) for row in re.findall(r"<tr data-timer=.*?</tr>", table.group(0), re.S)]


def test_timers_are_named_as_people_say_them(app, client_for):
    handler = client_for("samr_handler")
    case_id = create_case(handler)
    assert claim_and_complete(handler, open_task(app, case_id, "register_facts").id, FACTS).status_code == 303
    supervisor = client_for("office_supervisor")
    rows = _timer_rows(text(supervisor.get(f"/supervision/cases/{case_id}")))
    assert rows
    for row in rows:
        assert not re.search(r"\|[a-z_]+_[a-z_]+\|", row), row  # no element id in a cell
        assert not re.search(r"\|\d+(d|wd|h|m)\|", row), row  # no rule code in a cell
    assert any("日" in row or "工作日" in row or "小时" in row for row in rows)
    english = _timer_rows(text(supervisor.get(f"/supervision/cases/{case_id}?lang=en")))
    assert any(re.search(r"days|hours", row) for row in english)
    assert not any(re.search(r"[\u4e00-\u9fff]", row.split("|")[2]) for row in english if len(row.split("|")) > 2)

