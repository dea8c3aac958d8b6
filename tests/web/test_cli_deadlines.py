"""`liandong deadlines list|due` and `liandong calendar due`, on a fresh checkout before `init` too.

Every expected date below was counted by hand from the State Council's 2026 holiday notice
(Spring Festival 15-23 Feb with 14 and 28 Feb worked; May Day 1-5 May with 9 May worked; National
Day 1-7 Oct with 10 Oct worked), not by calling the code under test.
"""
from __future__ import annotations

import json

import pytest

from web import create_app
from web.db import db


@pytest.fixture
def fresh_runner(tmp_path, monkeypatch):
    """The CLI of an app whose database was never created, as on a new machine before `init`."""
    instance = tmp_path / "instance"
    monkeypatch.setenv("LIANDONG_INSTANCE", str(instance))
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite'}", "SECRET_KEY": "x",
                      "TESTING": True, "INSTANCE_PATH": str(instance)})
    yield app.test_cli_runner()
    db.state(app).engine.dispose()


@pytest.mark.parametrize(("rule", "start", "expected"), [
    # 证据移交: notice received Thu 5 Mar; 3 days end Sun 8 Mar, a rest day -> Mon 9 Mar.
    ("handover_items", "2026-03-05", "2026-03-09T23:59:59+08:00"),
    # 处罚决定抄送: decided Fri 20 Feb; 10 days end Mon 2 Mar.
    ("penalty_copy", "2026-02-20", "2026-03-02T23:59:59+08:00"),
    # 维权联动: complaint received Fri 9 Oct; 15 working days (12-16, 19-23, 26-29 Oct and Sat 10 Oct).
    ("complaint_filing_decision", "2026-10-09", "2026-10-29T23:59:59+08:00"),
    # Spring Festival: report Fri 13 Feb; 3 days end Mon 16 Feb (holiday) -> Tue 24 Feb.
    ("transfer_decision", "2026-02-13T10:00", "2026-02-24T23:59:59+08:00"),
    # Spring Festival, working days: decided Tue 10 Feb; the 20th working day is Mon 16 Mar.
    ("penalty_publication", "2026-02-10", "2026-03-16T23:59:59+08:00"),
    # May Day: decided Wed 29 Apr; 30 Apr, 6, 7, 8 May and the worked Saturday 9 May.
    ("complaint_result_notice", "2026-04-29", "2026-05-09T23:59:59+08:00"),
    # National Day: request received Wed 30 Sep; 7 days end Wed 7 Oct (holiday) -> Thu 8 Oct.
    ("reasons_reply", "2026-09-30", "2026-10-08T23:59:59+08:00"),
    # 48 wall-clock hours, holidays or not.
    ("preservation_decision", "2026-09-30T16:30:00+08:00", "2026-10-02T16:30:00+08:00"),
    # Two months from 31 Aug end Sat 31 Oct -> Mon 2 Nov.
    ("opinion_reply", "2026-08-31", "2026-11-02T23:59:59+08:00"),
])
def test_due_counts_from_the_legal_event_before_init(fresh_runner, rule, start, expected):
    result = fresh_runner.invoke(args=["deadlines", "due", rule, "--from", start])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == expected
    assert "no database yet" in result.stderr


def test_an_extension_counts_from_the_same_event(fresh_runner):
    # Accepted Tue 8 Sep; the 30-day extension ends Thu 8 Oct (a working day after National Day).
    result = fresh_runner.invoke(args=["deadlines", "due", "police_filing_decision", "--from", "2026-09-08",
                                       "--period", "30d"])
    assert result.stdout.strip() == "2026-10-08T23:59:59+08:00"
    refused = fresh_runner.invoke(args=["deadlines", "due", "police_filing_decision", "--from", "2026-09-08",
                                        "--period", "20d"])
    assert refused.exit_code == 2 and "20d is neither rule police_filing_decision's period" in refused.stderr


@pytest.mark.parametrize(("args", "needle"), [
    (["deadlines", "due", "no_such_rule", "--from", "2026-03-05"], "unknown deadline rule 'no_such_rule'"),
    (["deadlines", "due", "handover_items", "--from", "2026-13-05"], "--from '2026-13-05' is not an ISO date"),
    (["deadlines", "due", "handover_items", "--from", "yesterday"], "--from 'yesterday' is not an ISO date"),
])
def test_bad_input_exits_2_with_a_clear_message(fresh_runner, args, needle):
    result = fresh_runner.invoke(args=args)
    assert result.exit_code == 2
    assert needle in result.stderr and "Traceback" not in result.output


def test_list_json_is_the_catalog(fresh_runner):
    result = fresh_runner.invoke(args=["deadlines", "list", "--json"])
    assert result.exit_code == 0, result.output
    rules = {rule["id"]: rule for rule in json.loads(result.stdout)}
    required = {"transfer_decision", "transfer_send", "supplement_supply", "police_filing_decision",
                "reconsideration_request", "reconsideration_decision", "supervision_request", "handover_items",
                "reasons_reply", "file_after_notice", "supervision_outcome_notice", "opinion_reply", "penalty_copy",
                "penalty_publication", "penalty_withdrawal", "complaint_filing_decision", "complaint_result_notice",
                "preservation_decision"}
    assert required <= set(rules)
    for rule in rules.values():
        assert {"id", "mechanism", "period", "counting", "trigger", "statute", "extensions"} <= set(rule)
    assert rules["police_filing_decision"]["trigger"] == "transfer_accepted"
    assert [e["period"] for e in rules["police_filing_decision"]["extensions"]] == ["10d", "30d", "60d"]
    assert rules["complaint_filing_decision"]["counting"] == "working_days"
    assert len(rules["complaint_filing_decision"]["pauses"]) == 2
    assert "第十二条" in rules["handover_items"]["statute"]


def test_list_prints_one_line_per_rule(fresh_runner):
    result = fresh_runner.invoke(args=["deadlines", "list"])
    assert result.exit_code == 0
    line = next(line for line in result.stdout.splitlines() if line.startswith("police_filing_decision\t"))
    assert "3d → 10d → 30d → 60d" in line and "公安机关接受移送案件" in line


def test_calendar_due_works_before_init(fresh_runner):
    result = fresh_runner.invoke(args=["calendar", "due", "--start", "2026-03-05T09:00", "--rule", "3d"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "2026-03-09T23:59:59+08:00"
