"""Task forms: JSON Schemas deployed with a process model, and what a submission may carry.

Whatever the schema says, a submission never carries what the database or a generated document
cannot hold: non-finite numbers (NaN, Infinity, 1e400 read as a float), NUL characters, lone
UTF-16 surrogates, or nesting deeper than MAX_DEPTH. Each is refused with its field, before the
schema is even evaluated (whose evaluation a deep enough value would exhaust).
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from engine.errors import InvalidInput

# Forms are flat objects with at most lists of ids or of small objects; this leaves room to spare.
MAX_DEPTH = 16
_SURROGATE = re.compile("[\ud800-\udfff]")


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "must not contain NUL characters"
    if _SURROGATE.search(text):
        return "must not contain unpaired surrogates (not valid Unicode)"
    return None


def unsafe_values(data: Any, max_depth: int = MAX_DEPTH) -> dict[str, list[str]]:
    """Every value of `data` that no form may carry, by field path ('' for the whole form; list
    items by their index): non-finite numbers, NUL, lone surrogates, too deep a nesting. Walked
    without recursion, so a value nested thousands deep costs no stack."""
    errors: dict[str, list[str]] = {}
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        problem = None
        if isinstance(value, float) and not math.isfinite(value):
            problem = "must be a finite number"
        elif isinstance(value, str):
            problem = _text_problem(value)
        elif isinstance(value, (dict, list)) and depth >= max_depth:
            problem = f"must not be nested more than {max_depth} levels deep"
        elif isinstance(value, dict):
            for key, item in value.items():
                name = str(key)
                child = f"{path}.{name}" if path else name
                key_problem = _text_problem(name)
                if key_problem:
                    errors.setdefault(child, []).append(f"name {key_problem}")
                else:
                    stack.append((item, child, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{path}.{i}" if path else str(i), depth + 1) for i, item in enumerate(value))
        if problem:
            errors.setdefault(path, []).append(problem)
    return errors


# The validator of each schema checked lately, with the schema (held, so its id names it alone):
# forms are the shared, never-changed schemas of a deployed version (engine/runtime/definitions.py),
# and building a validator costs about what checking a form's data does. A validator is immutable
# and may check data in several threads at once. Bounded: emptied when it holds this many.
_VALIDATORS: dict[int, tuple[Mapping[str, Any], Draft202012Validator]] = {}
_VALIDATORS_KEPT = 512
_FORMATS = FormatChecker()


def _validator(schema: Mapping[str, Any]) -> Draft202012Validator:
    kept = _VALIDATORS.get(id(schema))
    if kept is None or kept[0] is not schema:
        if len(_VALIDATORS) >= _VALIDATORS_KEPT:
            _VALIDATORS.clear()
        kept = _VALIDATORS[id(schema)] = (schema, Draft202012Validator(schema, format_checker=_FORMATS))
    return kept[1]


def validate_submission(schema: Mapping[str, Any], data: Any) -> dict[str, Any]:
    """Return the data if it satisfies the form's schema, else raise InvalidInput with every
    failing field and its reasons (the field path is '' for errors about the whole form)."""
    if not isinstance(data, dict):
        raise InvalidInput("form data must be an object", {"": ["expected an object"]})
    unsafe = unsafe_values(data)
    if unsafe:
        raise InvalidInput("form data is not valid", unsafe)
    validator = _validator(schema)
    errors: dict[str, list[str]] = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.path)):
        field = ".".join(str(p) for p in error.path)
        if error.validator == "required":
            # jsonschema reports a missing property on its parent; name the property itself.
            missing = [p for p in error.validator_value if p not in error.instance]
            for name in missing:
                errors.setdefault(".".join(filter(None, [field, name])), []).append("required")
            continue
        if error.validator == "additionalProperties":
            extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            for name in extra:
                errors.setdefault(name, []).append("not a field of this form")
            continue
        errors.setdefault(field, []).append(error.message)
    if errors:
        raise InvalidInput("form data is not valid", errors)
    return data


def process_variables(schema: Mapping[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """The submitted fields the diagram may read: properties marked "x-variable": true.

    Everything else (facts, free text) stays in the task's result row and never enters the
    workflow state or a message to another agency.
    """
    marked = {name for name, prop in schema.get("properties", {}).items() if prop.get("x-variable")}
    return {name: value for name, value in data.items() if name in marked}
