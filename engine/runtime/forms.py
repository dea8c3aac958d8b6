"""Task forms: JSON Schemas deployed with a process model, and what a submission may carry."""
from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from engine.errors import InvalidInput


def validate_submission(schema: dict[str, Any], data: Any) -> dict[str, Any]:
    """Return the data if it satisfies the form's schema, else raise InvalidInput with every
    failing field and its reasons (the field path is '' for errors about the whole form)."""
    if not isinstance(data, dict):
        raise InvalidInput("form data must be an object", {"": ["expected an object"]})
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
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


def process_variables(schema: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """The submitted fields the diagram may read: properties marked "x-variable": true.

    Everything else (facts, free text) stays in the task's result row and never enters the
    workflow state or a message to another agency.
    """
    marked = {name for name, prop in schema.get("properties", {}).items() if prop.get("x-variable")}
    return {name: value for name, value in data.items() if name in marked}
