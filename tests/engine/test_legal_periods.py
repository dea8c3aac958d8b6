"""The catalog of legal periods: the real file loads, and a wrong one is refused with file, line and reason."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.time.legal_periods import CatalogError, PeriodRule, is_rule_id, load_catalog

CATALOG = Path(__file__).resolve().parents[2] / "workflows" / "deadlines.toml"

GOOD = '''
[events.noticed]
title = "收到通知"
title_en = "notice received"

[rules.reply]
mechanism = "case_transfer"
action = "答复"
action_en = "reply"
period = "3d"
counting = "calendar_days"
trigger = "noticed"
statute = "某规定第一条"
statute_en = "Some rule art. 1"
'''


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "deadlines.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_districts_catalog_loads_and_round_trips():
    catalog = load_catalog(CATALOG)
    assert len(catalog.rules) >= 18
    for rule in catalog.rules.values():
        assert PeriodRule.from_json(rule.as_json()) == rule
    assert catalog.version == load_catalog(CATALOG).version


def test_a_small_catalog_loads(tmp_path):
    catalog = load_catalog(write(tmp_path, GOOD))
    assert catalog.rules["reply"].trigger == "noticed" and catalog.rules["reply"].counting == "calendar_days"


@pytest.mark.parametrize(("change", "line", "reason"), [
    (('trigger = "noticed"', 'trigger = "heard"'), 6, "trigger 'heard' is not an [events.*] id"),
    (('counting = "calendar_days"', 'counting = "working_days"'), 6,
     "counting 'working_days' does not match period '3d' (expected 'calendar_days')"),
    (('period = "3d"', 'period = "three days"'), 6, "deadline rule 'three days'"),
    (('statute_en = "Some rule art. 1"', 'statute_en = "Some rule art. 1"\nextra = "x"'), 6, "unknown key(s) in table: extra"),
    (('statute = "某规定第一条"\n', ''), 6, "missing key(s) in table: statute"),
    (('[rules.reply]', '[rules.Reply]'), 6, "'Reply' is not a snake_case id"),
])
def test_a_wrong_rule_is_refused_with_file_line_and_reason(tmp_path, change, line, reason):
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(CatalogError) as raised:
        load_catalog(path)
    assert raised.value.file == str(path) and raised.value.line == line
    assert reason in str(raised.value) and str(raised.value).startswith(f"{path}:{line}: [rules.")


def test_broken_toml_names_its_line(tmp_path):
    path = write(tmp_path, GOOD + "\n[rules.other\n")
    with pytest.raises(CatalogError) as raised:
        load_catalog(path)
    assert raised.value.line == 16 and "not valid TOML" in raised.value.reason


def test_an_extension_must_be_longer_in_the_same_unit(tmp_path):
    text = GOOD + '''
[[rules.reply.extensions]]
period = "2wd"
approver = "samr.head"
when = "x"
when_en = "x"
'''
    with pytest.raises(CatalogError, match="extension '2wd' must be a longer period in the same unit as '3d'"):
        load_catalog(write(tmp_path, text))


def test_rule_ids_and_literal_periods_are_told_apart():
    assert is_rule_id("transfer_decision") and not is_rule_id("3d") and not is_rule_id("24h")
