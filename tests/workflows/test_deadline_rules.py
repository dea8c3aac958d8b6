"""Every period in workflows/ is a rule of the catalog (workflows/deadlines.toml), and every rule's
legal event is recorded where it happens, in the diagram that counts from it.

Read as XML and JSON only (no engine code beyond the catalog reader): a literal period such as
"3d" in a diagram, a rule nobody uses, or a period whose trigger nothing records fails here.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from engine.time.legal_periods import TASK_OPENED
from tests.workflows.diagram_checks import CATALOG, NS, WORKFLOWS, load_form, properties

DIAGRAMS = sorted(WORKFLOWS.glob("*.bpmn"))
# Events that reach a diagram in a message from another instance, which recorded them.
ARRIVING = {"penalty_disclosure": {"penalty_quashed"},  # penalty_quash.bpmn's quashed_on
            "case_transfer": {"filing_notice_received"}}  # filing_supervision.bpmn's SAMR liaison
# A script names the meaning of a neutral event on its path: dict(legal_events, transfer_approved=...).
ALIAS = re.compile(r"dict\(legal_events,\s*(\w+)=")


def elements_with_properties(root):
    for element in root.iter():
        props = properties(element)
        if props:
            yield element, props


def used_forms(root) -> set[str]:
    return {props["form"] for _e, props in elements_with_properties(root) if "form" in props}


def recorded_events(path: Path) -> set[str]:
    """The legal events a diagram records: steps that are the event, dates entered on its forms,
    scripts that name a neutral event on their path, and events that arrive in a message."""
    root = etree.parse(str(path)).getroot()
    events = {props["records_event"] for _e, props in elements_with_properties(root) if "records_event" in props}
    for form in used_forms(root):
        events |= {prop["x-legal-event"] for prop in load_form(form)["properties"].values() if "x-legal-event" in prop}
    for script in root.iterfind(".//bpmn:script", NS):
        events |= set(ALIAS.findall(script.text))
    return events | ARRIVING.get(path.stem, set())


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.stem)
def test_every_deadline_names_a_catalog_rule(path):
    root = etree.parse(str(path)).getroot()
    for element, props in elements_with_properties(root):
        if "deadline" in props:
            assert props["deadline"] in CATALOG.rules, (path.name, element.get("id"), props["deadline"])
        if "records_event" in props:
            assert props["records_event"] in CATALOG.events, (path.name, element.get("id"))
    for timer in root.iterfind(".//bpmn:timerEventDefinition", NS):
        assert "deadline" in properties(timer.getparent()), timer.getparent().get("id")


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.stem)
def test_every_period_runs_from_an_event_its_diagram_records(path):
    root = etree.parse(str(path)).getroot()
    recorded = recorded_events(path)
    for element, props in elements_with_properties(root):
        rule = CATALOG.rules.get(props.get("deadline", ""))
        if rule is not None and rule.trigger != TASK_OPENED:
            assert rule.trigger in recorded, (path.name, element.get("id"), rule.id, rule.trigger)


def test_entered_events_are_dates_of_the_catalog():
    for form_path in sorted((WORKFLOWS / "forms").glob("*.json")):
        for name, prop in load_form(form_path.stem)["properties"].items():
            if "x-legal-event" in prop:
                assert prop["x-legal-event"] in CATALOG.events, (form_path.name, name)
                assert prop.get("format") in ("date", "date-time"), (form_path.name, name)
                if prop["format"] == "date-time":
                    # The format checker does not check date-time: the pattern keeps the text parseable.
                    assert "pattern" in prop and "maxLength" in prop, (form_path.name, name)


def test_every_rule_and_event_of_the_catalog_is_used():
    rules, events = set(), set()
    for path in DIAGRAMS:
        root = etree.parse(str(path)).getroot()
        rules |= {props["deadline"] for _e, props in elements_with_properties(root) if "deadline" in props}
        events |= recorded_events(path)
    assert rules == set(CATALOG.rules)
    assert events == set(CATALOG.events)
