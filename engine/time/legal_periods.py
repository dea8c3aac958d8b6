"""The catalog of legal periods (workflows/deadlines.toml): what must happen within what period,
counted how, from which legal event, under which statute.

Diagrams name a rule by id; deploy copies the rules a diagram names into its process model
version, so an instance keeps the rules it started with. `due` counts a rule from the time of its
trigger event with the business calendar. Nothing here reads the database: the catalog and the
CLI's `liandong deadlines` work on a fresh checkout.
"""
from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from engine.time.calendar import BusinessCalendar, Due, parse_rule

CATALOG_FILE = "deadlines.toml"
# How each unit is counted, as the catalog spells it out.
COUNTING = {"h": "hours", "wd": "working_days", "d": "calendar_days", "m": "months"}
# A rule whose period runs from when its task reaches the lane (local practice only).
TASK_OPENED = "task_opened"
_ID = re.compile(r"[a-z][a-z0-9_]*", re.ASCII)
_EVENT_KEYS = {"title", "title_en", "after"}
_RULE_KEYS = {"mechanism", "action", "action_en", "period", "counting", "trigger", "statute", "statute_en",
              "extensions", "pauses", "on_missed", "on_missed_en"}
_EXTENSION_KEYS = {"period", "approver", "when", "when_en"}
_PAUSE_KEYS = {"what", "what_en"}


class CatalogError(ValueError):
    """The catalog file is wrong; the message names the file, the line where known, and why."""

    def __init__(self, file: str, reason: str, line: int | None = None) -> None:
        super().__init__(f"{file}{f':{line}' if line else ''}: {reason}")
        self.file, self.reason, self.line = file, reason, line


@dataclass(frozen=True)
class LegalEvent:
    """An event a period can run from."""

    id: str
    title: str
    title_en: str
    after: str | None = None  # the event it cannot precede, when one is recorded


@dataclass(frozen=True)
class Extension:
    """A longer period the rule allows, counted from the same trigger; who approves it."""

    period: str
    approver: str
    when: str
    when_en: str


@dataclass(frozen=True)
class Pause:
    """Time the period does not count."""

    what: str
    what_en: str


@dataclass(frozen=True)
class PeriodRule:
    """One legal period."""

    id: str
    mechanism: str
    action: str
    action_en: str
    period: str
    counting: str
    trigger: str
    statute: str
    statute_en: str
    extensions: tuple[Extension, ...] = ()
    pauses: tuple[Pause, ...] = ()
    on_missed: str = ""
    on_missed_en: str = ""

    def allows(self, period: str) -> bool:
        """Whether `period` is this rule's own or one of its extensions."""
        return period == self.period or any(period == e.period for e in self.extensions)

    def as_json(self) -> dict[str, Any]:
        """The rule as stored with a process model and printed by `liandong deadlines list --json`."""
        data = asdict(self)
        data["extensions"] = [asdict(e) for e in self.extensions]
        data["pauses"] = [asdict(p) for p in self.pauses]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PeriodRule:
        values = dict(data)
        values["extensions"] = tuple(Extension(**e) for e in data.get("extensions", ()))
        values["pauses"] = tuple(Pause(**p) for p in data.get("pauses", ()))
        return cls(**values)


@dataclass(frozen=True)
class Catalog:
    """The legal events and period rules of one catalog file."""

    events: Mapping[str, LegalEvent]
    rules: Mapping[str, PeriodRule]
    file: str = field(default=CATALOG_FILE, compare=False)

    @property
    def version(self) -> str:
        """A hash of the catalog's content."""
        canonical = json.dumps({"events": {k: asdict(v) for k, v in self.events.items()},
                                "rules": {k: v.as_json() for k, v in self.rules.items()}},
                               sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def rule(self, rule_id: str) -> PeriodRule:
        """The rule with this id; KeyError naming the known ids otherwise."""
        try:
            return self.rules[rule_id]
        except KeyError:
            raise KeyError(f"unknown deadline rule '{rule_id}' (rules: {', '.join(sorted(self.rules))})") from None


def is_rule_id(text: str) -> bool:
    """A catalog rule id (snake_case), as opposed to a literal period such as '3d'."""
    return bool(_ID.fullmatch(text.strip()))


def load_catalog(path: Path) -> Catalog:
    """Read and check a catalog file; CatalogError names the file, line and reason."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(file, f"cannot read the catalog: {exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise CatalogError(file, f"not valid TOML: {exc}", int(match.group(1)) if match else None) from exc
    return _catalog(file, text, data)


def _catalog(file: str, text: str, data: dict[str, Any]) -> Catalog:
    unknown = set(data) - {"events", "rules"}
    if unknown:
        raise CatalogError(file, f"unknown top-level table(s): {', '.join(sorted(unknown))}")
    events: dict[str, LegalEvent] = {}
    for event_id, values in data.get("events", {}).items():
        where = _Where(file, text, f"events.{event_id}")
        where.check_id(event_id)
        where.check_keys(values, _EVENT_KEYS, {"title", "title_en"})
        events[event_id] = LegalEvent(event_id, values["title"], values["title_en"], values.get("after"))
    for event in events.values():
        if event.after is not None and event.after not in events:
            _Where(file, text, f"events.{event.id}").fail(f"'after' names an unknown event '{event.after}'")
    rules: dict[str, PeriodRule] = {}
    for rule_id, values in data.get("rules", {}).items():
        rules[rule_id] = _rule(_Where(file, text, f"rules.{rule_id}"), rule_id, values, events)
    return Catalog(MappingProxyType(events), MappingProxyType(rules), file)


def _rule(where: _Where, rule_id: str, values: dict[str, Any], events: Mapping[str, LegalEvent]) -> PeriodRule:
    where.check_id(rule_id)
    where.check_keys(values, _RULE_KEYS, {"mechanism", "action", "action_en", "period", "counting", "trigger",
                                          "statute", "statute_en"})
    period = where.period(values["period"])
    expected = COUNTING[parse_rule(period).unit]
    if values["counting"] != expected:
        where.fail(f"counting '{values['counting']}' does not match period '{period}' (expected '{expected}')")
    trigger = values["trigger"]
    if trigger != TASK_OPENED and trigger not in events:
        where.fail(f"trigger '{trigger}' is not an [events.*] id nor '{TASK_OPENED}'")
    extensions = []
    for extension in values.get("extensions", []):
        where.check_keys(extension, _EXTENSION_KEYS, _EXTENSION_KEYS, "extension")
        longer = where.period(extension["period"])
        if parse_rule(longer).unit != parse_rule(period).unit or parse_rule(longer).count <= parse_rule(period).count:
            where.fail(f"extension '{longer}' must be a longer period in the same unit as '{period}'")
        extensions.append(Extension(longer, extension["approver"], extension["when"], extension["when_en"]))
    pauses = []
    for pause in values.get("pauses", []):
        where.check_keys(pause, _PAUSE_KEYS, _PAUSE_KEYS, "pause")
        pauses.append(Pause(pause["what"], pause["what_en"]))
    return PeriodRule(
        id=rule_id, mechanism=values["mechanism"], action=values["action"], action_en=values["action_en"],
        period=period, counting=expected, trigger=trigger, statute=values["statute"],
        statute_en=values["statute_en"], extensions=tuple(extensions), pauses=tuple(pauses),
        on_missed=values.get("on_missed", ""), on_missed_en=values.get("on_missed_en", ""))


class _Where:
    """Errors about one table of the catalog, with the line of its header."""

    def __init__(self, file: str, text: str, table: str) -> None:
        self.file, self.table = file, table
        header = re.search(rf"^[ \t]*\[{re.escape(table)}\]", text, re.MULTILINE)
        self.line = text.count("\n", 0, header.start()) + 1 if header else None

    def fail(self, reason: str) -> None:
        raise CatalogError(self.file, f"[{self.table}]: {reason}", self.line)

    def check_id(self, name: str) -> None:
        if not _ID.fullmatch(name):
            self.fail(f"'{name}' is not a snake_case id")

    def check_keys(self, values: Any, allowed: set[str], required: set[str], what: str = "table") -> None:
        if not isinstance(values, dict):
            self.fail(f"expected a {what}, found {values!r}")
        if unknown := set(values) - allowed:
            self.fail(f"unknown key(s) in {what}: {', '.join(sorted(unknown))}")
        if missing := required - set(values):
            self.fail(f"missing key(s) in {what}: {', '.join(sorted(missing))}")
        for key, value in values.items():
            if key not in ("extensions", "pauses") and (not isinstance(value, str) or not value.strip()):
                self.fail(f"'{key}' must be non-empty text")

    def period(self, value: str) -> str:
        try:
            return str(parse_rule(value))
        except ValueError as exc:
            self.fail(str(exc))
            raise  # unreachable: fail raises


def due(calendar: BusinessCalendar, rule: PeriodRule, trigger_at: datetime, period: str | None = None) -> Due:
    """When `rule` (or its extension `period`) ends, counted from its trigger event at `trigger_at`."""
    chosen = period or rule.period
    if not rule.allows(chosen):
        raise ValueError(f"{chosen} is neither rule {rule.id}'s period nor one of its extensions")
    return calendar.due(trigger_at, chosen)
