"""Task forms: a JSON Schema object turned into HTML fields, and posted strings back into JSON.

The schema (workflows/forms/*.json) is the single definition of a form: the engine validates
against it, and this module only decides widgets and converts types. Field descriptions are plain
data; templates/tasks/_fields.html draws them, so every value passes through autoescaping.
"""
from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

# Longer strings get a text area instead of a one-line input.
TEXTAREA_OVER = 200
# Up to this many options are shown as radio buttons (all visible at once), more as a select.
RADIO_MAX = 4


@dataclass
class Choice:
    value: str
    label: str


@dataclass
class Field:
    name: str
    label: str
    description: str
    widget: str  # text | textarea | number | radio | select | checkbox | checkboxes
    required: bool
    value: str | list[str] = ""  # a list of the ticked values for checkboxes
    choices: list[Choice] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    # Required only when another field has one of some values (a reason needed only when
    # refusing): JSON {"field", "values", "negate"} for the page's script, which shows the star
    # while it applies; `required` then says whether it applies to the values drawn.
    required_when: str = ""


def _options(prop: Mapping[str, Any]) -> list[tuple[str, Any, str]]:
    """(form value, JSON value, label) for a property limited to fixed values, else []."""
    if "oneOf" in prop and all("const" in o for o in prop["oneOf"]):
        pairs = [(o["const"], o.get("title") or str(o["const"])) for o in prop["oneOf"]]
    elif "enum" in prop:
        pairs = [(v, str(v)) for v in prop["enum"]]
    else:
        return []
    return [(_as_text(v), v, label) for v, label in pairs]


def display_value(prop: Mapping[str, Any], value: Any) -> str:
    """A stored answer as people read it: the option's title, 是/否, or the text itself."""
    if prop.get("type") == "array" and isinstance(value, list):
        return _(", ").join(display_value(prop.get("items", {}), item) for item in value)
    text = _as_text(value)
    for choice in _widget(prop)[1]:
        if choice.value == text:
            return choice.label
    if value is None and _nullable(prop):
        return _("Unknown")
    if prop.get("type") == "boolean" and isinstance(value, bool):
        return _("Yes") if value else _("No")
    return text


def _as_text(value: Any) -> str:
    """A JSON value as the string a form field carries."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def _kind(prop: Mapping[str, Any]) -> Any:
    """A property's type; for a nullable one (["number", "null"]: an amount not yet known), the
    type of its value when it has one."""
    kind = prop.get("type")
    if isinstance(kind, list):
        return next((k for k in kind if k != "null"), None)
    return kind


def _nullable(prop: Mapping[str, Any]) -> bool:
    return isinstance(prop.get("type"), list) and "null" in prop["type"]


def _widget(prop: Mapping[str, Any]) -> tuple[str, list[Choice], dict[str, str]]:
    kind = _kind(prop)
    options = _options(prop)
    if kind == "array" and ("oneOf" in prop.get("items", {}) or _options(prop.get("items", {}))):
        # Several of fixed values (agencies to invite, channels to open, the engine's choices
        # for an x-choices field, which may offer none): one box each.
        return "checkboxes", [Choice(t, label) for t, _v, label in _options(prop["items"])], {}
    if kind == "boolean":
        if prop.get("const") is True:  # a confirmation: ticking it is the only valid answer
            return "checkbox", [], {}
        # Two radios rather than a checkbox, so that "no" is a choice made, not a box overlooked.
        return "radio", [Choice("true", _("Yes")), Choice("false", _("No"))], {}
    if options:
        widget = "radio" if len(options) <= RADIO_MAX else "select"
        return widget, [Choice(text, label) for text, _v, label in options], {}
    if kind in ("number", "integer"):
        attrs = {"step": "1" if kind == "integer" else "any"}
        for key, attr in (("minimum", "min"), ("maximum", "max")):
            if key in prop:
                attrs[attr] = str(prop[key])
        return "number", [], attrs
    if prop.get("format") == "date":
        return "date", [], {}
    attrs = {"maxlength": str(prop["maxLength"])} if "maxLength" in prop else {}
    widget = "textarea" if prop.get("maxLength", 0) > TEXTAREA_OVER else "text"
    return widget, [], attrs


def with_choices(schema: Mapping[str, Any], choices: Mapping[str, list[tuple[Any, str]]]) -> Mapping[str, Any]:
    """The form with the options the engine offers this user filled in for its `x-choices`
    fields (engine.form_choices), so they are drawn and converted like fixed options."""
    if not choices:
        return schema
    filled = copy.deepcopy(dict(schema))
    for name, options in choices.items():
        prop = filled["properties"][name]
        one_of = [{"const": value, "title": label} for value, label in options]
        if prop.get("type") == "array":
            prop["items"] = {**prop.get("items", {}), "oneOf": one_of}
        else:
            prop["oneOf"] = one_of
    return filled


@dataclass(frozen=True)
class Condition:
    """A field's value being one of `values` (or, `negate`, none of them)."""

    field: str
    values: tuple[str, ...]
    negate: bool = False

    def holds(self, value: str | list[str]) -> bool:
        return (value in self.values) != self.negate if isinstance(value, str) else self.negate

    def as_json(self) -> str:
        return json.dumps({"field": self.field, "values": list(self.values), "negate": self.negate})


def _condition(clause: Any) -> Condition | None:
    """The `if` of an if/then/else as one field's values: {"properties": {f: {"const": v} or
    {"enum": [...]}}}; None for anything else (the field is then drawn as always required)."""
    props = clause.get("properties", {}) if isinstance(clause, Mapping) else {}
    if len(props) != 1:
        return None
    (name, rule), = props.items()
    values = [rule["const"]] if "const" in rule else rule.get("enum")
    return Condition(name, tuple(_as_text(v) for v in values)) if values else None


def _demands(clause: Any) -> set[str]:
    """The fields a then/else branch makes required and non-empty."""
    if not isinstance(clause, Mapping):
        return set()
    return set(clause.get("required", [])) | {
        name for name, rule in clause.get("properties", {}).items() if rule.get("minLength", 0) >= 1}


def conditional_requirements(schema: Mapping[str, Any]) -> dict[str, Condition]:
    """The fields required only under a condition of the form's if/then/else (at the top or in
    `allOf`): a field the top-level `required` lists but may leave empty (no minLength of its own),
    or one it does not list, that a branch makes required or non-empty."""
    found: dict[str, Condition] = {}
    required = set(schema.get("required", []))
    props = schema.get("properties", {})
    for rule in [schema, *schema.get("allOf", [])]:
        condition = _condition(rule.get("if")) if isinstance(rule, Mapping) else None
        if condition is None:
            continue
        for branch, negate in (("then", False), ("else", True)):
            for name in _demands(rule.get(branch)):
                always = name in required and (props.get(name, {}).get("minLength", 0) >= 1
                                               or props.get(name, {}).get("type") != "string")
                if name in props and not always and name not in found:
                    found[name] = Condition(condition.field, condition.values, negate)
    return found


def render_fields(
    schema: Mapping[str, Any],
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, list[str]] | None = None,
) -> list[Field]:
    """The form's fields in schema order; `values` are submitted strings (defaults if None). A
    field required only under a condition is marked required when it holds for these values."""
    required = set(schema.get("required", []))
    conditional = conditional_requirements(schema)
    errors = errors or {}
    fields = []
    for name, prop in schema.get("properties", {}).items():
        fields.append(Field(
            name=name, label=prop.get("title") or name, description=prop.get("description", ""),
            widget="", required=name in required,
            errors=[explain(m, prop.get("title") or name) for m in errors.get(name, [])]))
        fields[-1].widget, fields[-1].choices, fields[-1].attrs = _widget(prop)
        fields[-1].value = _value(prop, fields[-1].widget, name, values)
    drawn = {f.name: f.value for f in fields}
    for f in fields:
        if f.name in conditional:
            condition = conditional[f.name]
            f.required = condition.holds(drawn.get(condition.field, ""))
            f.required_when = condition.as_json()
    return fields


def _value(prop: Mapping[str, Any], widget: str, name: str, values: Mapping[str, Any] | None):
    if values is not None:
        return values.get(name, [] if widget == "checkboxes" else "")
    if widget == "checkboxes":
        return [_as_text(v) for v in prop.get("default", [])]
    return _as_text(prop["default"]) if "default" in prop else ""


def coerce(schema: Mapping[str, Any], form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Posted strings to typed JSON, plus the fields whose text could not be converted.

    Empty optional fields are left out, so "not answered" never becomes "" or 0. An empty
    required text field is sent as "" when its schema allows the empty string (a reason needed
    only for some answers), otherwise left out so the engine reports it as required. A list of
    fixed values comes from ticked boxes (`form.getlist`).
    """
    required = set(schema.get("required", []))
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, prop in schema.get("properties", {}).items():
        kind = _kind(prop)
        if kind == "array":
            # Unticked boxes send nothing: a required list is then empty, for the schema to judge.
            choices = {text: value for text, value, _l in _options(prop.get("items", {}))}
            ticked = form.getlist(name) if hasattr(form, "getlist") else form.get(name) or []
            ticked = [ticked] if isinstance(ticked, str) else ticked
            if any(t not in choices for t in ticked):
                errors[name] = [_("Please choose one of the options.")]
            elif ticked or name in required:
                data[name] = [choices[t] for t in ticked]
            continue
        raw = (form.get(name) or "").replace("\r\n", "\n").strip()
        options = {text: value for text, value, _l in _options(prop)}
        if raw == "":
            if name in required and kind == "string" and not options and not prop.get("minLength"):
                data[name] = ""
            elif name in required and _nullable(prop):
                data[name] = None  # left empty: not known (an amount not yet established is not 0)
            continue
        if raw in options:
            data[name] = options[raw]
        elif kind == "boolean":
            if raw not in ("true", "false"):
                errors[name] = [_("Please choose yes or no.")]
                continue
            data[name] = raw == "true"
        elif kind in ("number", "integer"):
            number = _number(raw, integer=kind == "integer")
            if number is None:
                errors[name] = [_("Please enter a number.")]
                continue
            data[name] = number
        else:
            data[name] = raw
    return data, errors


def posted_values(schema: Mapping[str, Any], form: Any) -> dict[str, str | list[str]]:
    """The submitted strings of a form's fields, as `render_fields` shows them again."""
    return {name: form.getlist(name) if prop.get("type") == "array" else form.get(name, "")
            for name, prop in schema.get("properties", {}).items()}


def _number(text: str, integer: bool) -> int | float | None:
    text = re.sub(r"[\s,，]", "", text)  # thousands separators as people type them
    try:
        number = int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            return None
        if not math.isfinite(number):
            return None
        if number.is_integer() and integer:
            number = int(number)
    if integer and not isinstance(number, int):
        return None
    return number


# The engine reports jsonschema's English messages; the common ones get a translated sentence.
_EXPLAINED = (
    (r"^required$", lambda: _("This field is required.")),
    (r"^not a field of this form$", lambda: _("This is not a field of this form.")),
    (r"should be non-empty|is too short", lambda: _("This field must not be empty.")),
    (r"is too long|must be at most \d+ characters", lambda: _("This text is too long.")),
    (r"^must say why$", lambda: _("Give the reason.")),
    (r"is already the number of another document$", lambda: _("Another document already has this number.")),
    (r"must be a hand-off step of the agency's liaisons", lambda: _(
        "Only your agency's hand-off steps that ask nothing but a confirmation can be approved standing.")),
    (r"less than the minimum", lambda: _("The number is too small.")),
    (r"greater than the maximum", lambda: _("The number is too large.")),
    (r"not valid under any of the given schemas|is not one of|^must be one of",
     lambda: _("Please choose one of the options.")),
    (r"^True was expected$", lambda: _("This must be confirmed.")),
    (r"is not of type", lambda: _("This value has the wrong type.")),
    # Rules the engine's task hooks add (engine/mechanisms/recognition.py, engine/mechanisms/sharing.py).
    (r"interview records cannot be recognised",
     lambda: _("Interview records cannot be recognised: the receiving agency takes them again.")),
    (r"must be another agency", lambda: _("Choose an agency other than your own.")),
    (r"must not be in the past", lambda: _("The date must not be in the past.")),
    # engine/mechanisms/transfer.py
    (r"registers the report must be one of the officers",
     lambda: _("The officer registering the report must be one of the officers signing it.")),
    (r"filing standard is not met and there is no reasonable suspicion",
     lambda: _("The filing standard is not met and there is no reasonable suspicion (Decree 310 art. 3(2)): "
               "record why the case is transferred.")),
    (r"filing decision has been made: there is no period to extend",
     lambda: _("The filing decision has been made: there is no review period left to extend.")),
    (r"it can only be extended, not shortened",
     lambda: _("The review period can only be extended, not shortened.")),
    (r"has not submitted the review yet",
     lambda: _("The handler has not submitted the review yet: decide once the review is in.")),
    (r"write an answer or list", lambda: _("Write an answer or choose evidence or documents to share.")),
    (r"is the last review round", lambda: _("This is the last review round: the result can no longer be returned.")),
    # Values no form can hold (engine/runtime/forms.py) and legal event dates (engine/time/legal_events.py).
    (r"must be a finite number", lambda: _("Enter an ordinary number.")),
    (r"must not contain NUL|unpaired surrogates", lambda: _("This text contains characters that cannot be stored.")),
    (r"must not be nested more than", lambda: _("This value is nested too deeply.")),
    (r"^must not be in the future$", lambda: _("The date must not be in the future.")),
    (r"^is not a valid date or time$", lambda: _("This is not a valid date or time.")),
    (r"^must not be before .+ \(\d{4}-\d{2}-\d{2}\)$",
     lambda: _("The date must not be before the event it follows.")),
)


def explain(message: str, label: str = "") -> str:
    """An engine message about a field as a sentence in the page's language; `label` names the
    field where the sentence needs it (a text that does not match its form's pattern, whose
    regular expression means nothing to the reader)."""
    if re.search(r"does not match '", message):
        return _("%(field)s is not written as its description asks.", field=label) if label \
            else _("This text is not written as the field's description asks.")
    for pattern, text in _EXPLAINED:
        if re.search(pattern, message):
            return text()
    return message
