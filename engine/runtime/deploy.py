"""Deploying process models: parse, validate, version by content, store the spec once.

A deploy is all-or-nothing: every file is parsed and checked before anything is written, and the
first problem is raised as a DeployError naming the file, the element and the reason.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import BpmnValidator, SpiffBpmnParser
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import audit
from engine.casework.documents import parse_documents
from engine.errors import DeployError
from engine.mechanisms import hooks as task_hooks
from engine.runtime import deploy_periods
from engine.runtime.diagram_rules import check_flows
from engine.runtime.lanes import parse_lane
from engine.runtime.spiff import serialize_spec
from engine.runtime.transactions import transaction
from engine.time.calendar import parse_rule
from engine.time.clock import now
from engine.time.legal_periods import is_rule_id
from engine.time.task_due import check_properties as check_deadline_properties
from models import ProcessModel, User

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
HANDOFF_VALUES = ("outgoing", "incoming")


@dataclass(frozen=True)
class Bundle:
    """Everything that defines one process model version, read from disk and checked."""

    key: str
    name: str
    collaboration_id: str
    bpmn_source: str
    dmn_sources: dict[str, str]
    forms: dict[str, Any]
    spec_json: str
    start_messages: tuple[str, ...] = ()
    startable_by: tuple[str, ...] = ()
    timer_rules: tuple[tuple[str, str], ...] = ()
    # The catalog rules and legal events the diagram names, as JSON (engine/runtime/deploy_periods.py).
    legal_rules_json: str = "{}"

    @property
    def legal_rules(self) -> dict[str, Any]:
        return json.loads(self.legal_rules_json)

    @property
    def version(self) -> str:
        content: dict[str, Any] = {"bpmn": self.bpmn_source, "dmn": self.dmn_sources, "forms": self.forms}
        if self.legal_rules:
            # A changed rule in the catalog makes a new version: running cases keep the old one.
            content["legal_rules"] = self.legal_rules
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class DeployResult:
    model: ProcessModel
    created: bool


def deploy_paths(session: Session, paths: list[Path], actor: User | None = None) -> list[DeployResult]:
    """Deploy BPMN files (with the DMN tables and forms they use) as new model versions.

    One transaction: every file is validated first; models whose content is unchanged are
    left as they are; each new version is written with a `process_model_deployed` audit event.
    """
    bundles = [read_bundle(Path(p)) for p in paths]
    with transaction(session):
        results = []
        for bundle in bundles:
            existing = session.scalar(
                select(ProcessModel).where(
                    ProcessModel.key == bundle.key, ProcessModel.version == bundle.version
                )
            )
            if existing is not None:
                results.append(DeployResult(existing, False))
                continue
            model = ProcessModel(
                key=bundle.key, name=bundle.name, version=bundle.version,
                collaboration_id=bundle.collaboration_id, bpmn_source=bundle.bpmn_source,
                start_messages=list(bundle.start_messages), timer_rules=dict(bundle.timer_rules),
                startable_by=list(bundle.startable_by), legal_rules=bundle.legal_rules,
                dmn_sources=bundle.dmn_sources, forms=bundle.forms, spec_json=bundle.spec_json,
                deployed_at=now(session), deployed_by_id=actor.id if actor else None,
            )
            session.add(model)
            session.flush()
            audit.record(
                session, "process_model_deployed", actor=actor,
                detail={"key": model.key, "version": model.version, "id": model.id},
            )
            results.append(DeployResult(model, True))
        return results


def read_bundle(path: Path) -> Bundle:
    """Read and check one BPMN file and what it depends on; raise DeployError on any problem."""
    file = str(path)
    if path.suffix != ".bpmn":
        raise DeployError(file, "only .bpmn files are deployed (DMN tables and forms come with them)")
    try:
        bpmn_source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DeployError(file, f"cannot read file: {exc}") from exc
    tree = _parse_xml(file, bpmn_source)
    collaborations = tree.findall(".//bpmn:collaboration", NS)
    if len(collaborations) != 1:
        raise DeployError(file, f"expected exactly one bpmn:collaboration, found {len(collaborations)}")
    collaboration = collaborations[0]
    collaboration_id = collaboration.get("id")

    timer_rules = deploy_periods.timer_rules(file, tree)
    folder = path.parent
    dmn_sources = _referenced_dmn(file, tree, folder)
    # Before SpiffWorkflow parses: it refuses some implicit splits itself, without the line.
    check_flows(file, tree)
    parser = SpiffBpmnParser(validator=BpmnValidator())
    try:
        parser.add_bpmn_xml(tree, filename=path.name)
        for name, source in dmn_sources.items():
            parser.add_dmn_xml(_parse_xml(str(folder / name), source).getroot(), filename=name)
        spec, subprocess_specs = parser.get_collaboration(collaboration_id)
    except ValidationException as exc:
        raise DeployError(
            exc.file_name or file, _reason(exc), element=exc.id or None,
            line=_int_or_none(exc.line_number),
        ) from exc
    except SpiffWorkflowException as exc:
        raise DeployError(file, _reason(exc)) from exc

    forms, start_messages = _check_task_specs(file, path, subprocess_specs)
    periods = deploy_periods.legal_rules(file, tree, folder, forms)
    start_messages = tuple(sorted({*start_messages, *_started_by(file, collaboration)}))
    return Bundle(
        key=path.stem,
        name=collaboration.get("name") or path.stem,
        collaboration_id=collaboration_id,
        bpmn_source=bpmn_source,
        dmn_sources=dmn_sources,
        forms=forms,
        spec_json=serialize_spec(spec, subprocess_specs),
        start_messages=start_messages,
        startable_by=_startable_by(file, collaboration),
        timer_rules=tuple(sorted(timer_rules.items())),
        legal_rules_json=json.dumps(periods, sort_keys=True, ensure_ascii=False),
    )


def _collaboration_property(collaboration, name: str):
    for prop in collaboration.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS):
        if prop.get("name") == name:
            return prop
    return None


def _startable_by(file: str, collaboration) -> tuple[str, ...]:
    """Lanes whose users may start the mechanism on a case: `agency.role`, or `*.role` for that
    role in any agency taking part in the case (a `startable_by` collaboration property)."""
    prop = _collaboration_property(collaboration, "startable_by")
    if prop is None:
        return ()
    lanes = tuple(filter(None, (p.strip() for p in (prop.get("value") or "").split(","))))
    for lane in lanes:
        agency, _, role = lane.partition(".")
        try:
            parse_lane(lane if agency != "*" else f"samr.{role}")
        except ValueError as exc:
            raise DeployError(file, f"startable_by: {exc}", element=collaboration.get("id"),
                              line=prop.sourceline) from exc
    return lanes


def _started_by(file: str, collaboration) -> set[str]:
    """Messages that start this mechanism at its normal start, named on the collaboration with
    a `started_by` property (comma-separated); the payload arrives as a variable of that name."""
    prop = _collaboration_property(collaboration, "started_by")
    if prop is None:
        return set()
    names = set(filter(None, (n.strip() for n in (prop.get("value") or "").split(","))))
    for name in names:
        if not name.isidentifier():
            raise DeployError(file, f"started_by names a message '{name}' that is not snake_case",
                              element=collaboration.get("id"), line=prop.sourceline)
    return names


def _check_task_specs(file: str, path: Path, subprocess_specs) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Enforce the conventions of docs/bpmn-conventions.md on every task of every pool.

    Returns the forms the user tasks name and the messages that start the mechanism from
    outside (caught by a start event, thrown by nothing in this collaboration).
    """
    forms: dict[str, Any] = {}
    thrown: set[str] = set()
    starting: set[str] = set()
    opening: set[str] = set()
    for process in subprocess_specs.values():
        for task_spec in process.task_specs.values():
            element = getattr(task_spec, "bpmn_id", None)
            if element is None:
                continue
            if getattr(task_spec, "manual", False):
                _check_user_task(file, path, task_spec, forms)
            event = getattr(task_spec, "event_definition", None)
            if not isinstance(event, MessageEventDefinition):
                continue
            if isinstance(task_spec, ThrowingEvent):
                thrown.add(event.name)
                if not (getattr(event, "expression", None) or "").strip():
                    raise DeployError(
                        file, f"message '{event.name}' is thrown without an explicit payload "
                        "(spiffworkflow:messagePayload); it would send all task data", element=element,
                    )
            elif isinstance(task_spec, StartEvent):
                starting.add(event.name)
            elif _follows_none_start(task_spec):
                opening.add(event.name)
    external = starting - thrown
    if external:
        raise DeployError(
            file, f"message start event(s) for {', '.join(sorted(external))} are not thrown inside "
            "this collaboration; a mechanism started from another one begins with a none start "
            "event followed by a message catch event (docs/bpmn-conventions.md)",
        )
    return forms, tuple(sorted(opening - thrown))


def _follows_none_start(task_spec) -> bool:
    """A catch event directly after a pool's none start event: the mechanism's entry message."""
    return any(
        isinstance(parent, StartEvent)
        and isinstance(getattr(parent, "event_definition", None), NoneEventDefinition)
        for parent in task_spec.inputs
    )


def _check_user_task(file: str, path: Path, task_spec, forms: dict[str, Any]) -> None:
    element = task_spec.bpmn_id
    try:
        parse_lane(task_spec.lane)
    except ValueError as exc:
        raise DeployError(file, str(exc), element=element) from exc
    props = (getattr(task_spec, "extensions", None) or {}).get("properties", {})
    form_name = props.get("form")
    if not form_name:
        raise DeployError(file, "user task has no 'form' property", element=element)
    if form_name not in forms:
        forms[form_name] = _load_form(path.parent / "forms", form_name, element)
    if props.get("deadline") and not is_rule_id(props["deadline"]):
        try:
            parse_rule(props["deadline"])
        except ValueError as exc:
            raise DeployError(file, str(exc), element=element) from exc
    if props.get("documents"):
        try:
            parse_documents(props["documents"])
        except ValueError as exc:
            raise DeployError(file, str(exc), element=element) from exc
    if reason := check_deadline_properties(props):
        raise DeployError(file, reason, element=element)
    if props.get("agency_from") and not props["agency_from"].isidentifier():
        raise DeployError(file, f"agency_from must name a variable, not '{props['agency_from']}'",
                          element=element)
    handoff = props.get("handoff")
    if handoff and handoff not in HANDOFF_VALUES:
        raise DeployError(file, f"handoff must be one of {HANDOFF_VALUES}, not '{handoff}'", element=element)
    if props.get("hook") and not task_hooks.known_hook(props["hook"]):
        raise DeployError(file, f"unknown hook '{props['hook']}' (engine/mechanisms/hooks.py)", element=element)
    for name, prop in forms[form_name].get("properties", {}).items():
        if prop.get("x-choices") and not task_hooks.known_choices(prop["x-choices"]):
            raise DeployError(str(path.parent / "forms" / f"{form_name}.json"),
                              f"field '{name}': unknown x-choices '{prop['x-choices']}'", element=element)


def _load_form(folder: Path, name: str, element: str) -> dict[str, Any]:
    form_file = folder / f"{name}.json"
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise DeployError(str(form_file), f"form name '{name}' must be snake_case", element=element)
    try:
        schema = json.loads(form_file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DeployError(str(form_file), f"form '{name}' does not exist", element=element) from exc
    except json.JSONDecodeError as exc:
        raise DeployError(str(form_file), f"invalid JSON: {exc.msg}", line=exc.lineno) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DeployError(str(form_file), f"form '{name}' cannot be read as UTF-8 JSON: {exc}",
                          element=element) from exc
    if not isinstance(schema, dict):
        raise DeployError(str(form_file), "a form schema must be a JSON object with type 'object'")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        path = "/".join(str(p) for p in exc.path) or "(root)"
        raise DeployError(str(form_file), f"invalid JSON Schema at {path}: {exc.message}") from exc
    if schema.get("type") != "object":
        raise DeployError(str(form_file), "a form schema must have type 'object'")
    return schema


def _referenced_dmn(file: str, tree, folder: Path) -> dict[str, str]:
    """The DMN files defining the decisions this diagram calls, by file name."""
    called = {
        node.text.strip()
        for node in tree.iterfind(".//spiffworkflow:calledDecisionId", NS)
        if node.text and node.text.strip()
    }
    if not called:
        return {}
    found: dict[str, str] = {}
    for dmn_path in sorted(folder.glob("*.dmn")):
        try:
            source = dmn_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DeployError(str(dmn_path), f"DMN file {dmn_path.name} cannot be read as UTF-8: {exc}") from exc
        dmn_tree = _parse_xml(str(dmn_path), source)
        ids = {d.get("id") for d in dmn_tree.iter("{*}decision")}
        if ids & called:
            found[dmn_path.name] = source
            called -= ids
    if called:
        missing = sorted(called)
        callers = [
            node.getparent().getparent().get("id")
            for node in tree.iterfind(".//spiffworkflow:calledDecisionId", NS)
            if (node.text or "").strip() in called
        ]
        raise DeployError(file, f"called decision(s) not found in {folder}: {', '.join(missing)}",
                          element=callers[0] if callers else None)
    return found


def _parse_xml(file: str, source: str):
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        return etree.fromstring(source.encode("utf-8"), parser).getroottree()
    except etree.XMLSyntaxError as exc:
        raise DeployError(file, f"malformed XML: {exc.msg}", line=exc.lineno) from exc


def _reason(exc: Exception) -> str:
    return str(exc.args[0]) if exc.args else exc.__class__.__name__


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
