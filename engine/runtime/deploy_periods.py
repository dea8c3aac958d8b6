"""Deploy's check of a diagram's legal periods against the catalog (workflows/deadlines.toml).

A task's or timer's `deadline` may name a catalog rule instead of a literal period; a task's
`records_event` names the legal event its completion is; a form field's `x-legal-event` names
the event whose date the user enters. Each id must be in the catalog beside the diagram, or the
diagram is refused with file, line, element and reason. The rules and events the diagram names
are returned, to be stored with its process model version: an instance keeps them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from lxml import etree

from engine.errors import DeployError
from engine.time.calendar import parse_rule
from engine.time.legal_periods import CATALOG_FILE, TASK_OPENED, Catalog, CatalogError, is_rule_id, load_catalog
from engine.time.task_due import check_properties as check_deadline_properties

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
_PROPERTY = "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property"


def legal_rules(file: str, tree, folder: Path, forms: dict[str, Any]) -> dict[str, Any]:
    """The catalog rules and events the diagram names ({} when it names none); DeployError on an
    unknown id or a rule that does not fit its element's other properties."""
    named: list[tuple[Any, dict[str, str]]] = []
    for element in tree.iter():
        props = {p.get("name"): p.get("value") or "" for p in element.iterfind(_PROPERTY, NS)}
        if props:
            named.append((element, props))
    uses_rules = any(is_rule_id(props.get("deadline") or "") for _, props in named)
    uses_events = any(props.get("records_event") for _, props in named) or _form_events(forms)
    if not (uses_rules or uses_events):
        return {}
    catalog = _catalog(file, folder)
    rules: dict[str, Any] = {}
    events: set[str] = set()
    for element, props in named:
        where = {"element": element.get("id"), "line": element.sourceline}
        rule_id = (props.get("deadline") or "").strip()
        if rule_id and is_rule_id(rule_id):
            if rule_id not in catalog.rules:
                raise DeployError(file, f"unknown deadline rule '{rule_id}' (not in {CATALOG_FILE})", **where)
            rule = catalog.rules[rule_id]
            if props.get("deadline_used") and parse_rule(rule.period).unit != "wd":
                raise DeployError(file, f"deadline_used counts working days: rule '{rule_id}' is {rule.period}",
                                  **where)
            rules[rule_id] = rule.as_json()
            if rule.trigger != TASK_OPENED:
                events.add(rule.trigger)
        recorded = (props.get("records_event") or "").strip()
        if recorded:
            if recorded not in catalog.events:
                raise DeployError(file, f"records_event names an unknown legal event '{recorded}' "
                                  f"(not in {CATALOG_FILE})", **where)
            events.add(recorded)
    for form_name, event in _form_events(forms):
        if event not in catalog.events:
            raise DeployError(str(folder / "forms" / f"{form_name}.json"),
                              f"x-legal-event names an unknown legal event '{event}' (not in {CATALOG_FILE})")
        events.add(event)
    # An event's predecessor comes along: entering a date checks it is not before that one.
    for event in list(events):
        after = catalog.events[event].after
        while after and after not in events:
            events.add(after)
            after = catalog.events[after].after
    return {"rules": rules,
            "events": {e: {"title": catalog.events[e].title, "title_en": catalog.events[e].title_en,
                           "after": catalog.events[e].after} for e in sorted(events)}}


def _catalog(file: str, folder: Path) -> Catalog:
    path = folder / CATALOG_FILE
    if not path.exists():
        raise DeployError(file, f"the diagram names legal periods, but there is no {CATALOG_FILE} beside it")
    try:
        return load_catalog(path)
    except CatalogError as exc:
        raise DeployError(exc.file, exc.reason, line=exc.line) from exc


def _form_events(forms: dict[str, Any]) -> list[tuple[str, str]]:
    return [(name, prop["x-legal-event"]) for name, schema in forms.items()
            for prop in schema.get("properties", {}).values() if prop.get("x-legal-event")]


def timer_rules(file: str, tree) -> dict[str, str]:
    """Each timer event's deadline rule. The engine computes timers with the business calendar
    and its own clock, so every timer names its rule and none may start a process."""
    rules: dict[str, str] = {}
    for definition in tree.iterfind(".//bpmn:timerEventDefinition", NS):
        event = definition.getparent()
        element = event.get("id")
        if etree.QName(event).localname not in ("boundaryEvent", "intermediateCatchEvent"):
            raise DeployError(file, "timers are supported on boundary and intermediate catch events only",
                              element=element, line=event.sourceline)
        if definition.find("bpmn:timeCycle", NS) is not None:
            raise DeployError(file, "cycle timers are not supported: model repetition as a bounded loop",
                              element=element, line=event.sourceline)
        rule = None
        for prop in event.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS):
            if prop.get("name") == "deadline":
                rule = prop.get("value")
        if not rule:
            raise DeployError(file, "timer event has no 'deadline' property", element=element,
                              line=event.sourceline)
        try:
            # A catalog rule id is checked with the others (engine/runtime/deploy_periods.py).
            rules[element] = rule.strip() if is_rule_id(rule) else str(parse_rule(rule))
        except ValueError as exc:
            raise DeployError(file, str(exc), element=element, line=event.sourceline) from exc
        props = {p.get("name"): p.get("value") for p in
                 event.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)}
        if reason := check_deadline_properties(props):
            raise DeployError(file, reason, element=element, line=event.sourceline)
    return rules
